// Drives Debian's Chromium (puppeteer-core) over a site `zoo-oci index --format site` wrote, and
// prints what it saw as one JSON object on stdout; tests/site.rs asserts on it. It judges
// nothing itself: every figure and finding goes out as measured.
//
//   node check.mjs SITE_DIR SHOTS_DIR [SEARCH_WORD FRAMEWORK]
//
// With LAYOUT_ONLY=1 in the environment, only the first part (widths, loads, axe-core), for a
// page that is not the site's (`index --format html`).
//
// - every page at widths 320, 420, 768, 1280 and 1920: whether the document scrolls sideways
//   (scrollWidth past the viewport), console errors, page errors, failed or non-2xx loads, and
//   loads of another origin;
// - axe-core on every page at 420 and 1280 px: the violations with their impact;
// - the front page from file://: a click on a suite's link, that page's h1, then back; the same
//   by keyboard (Tab to the first suite link, Enter);
// - search and the framework filter: the suites visible after each;
// - the copy buttons (served over http://127.0.0.1, where the clipboard may be read): what the
//   clipboard holds after a click;
// - JavaScript off: the suite names the front page shows;
// - screenshots of the front page and the first suite's page at 420 and 1280 px in SHOTS_DIR;
// - how long the front page takes to be ready (DOMContentLoaded and load, from navigation start).

import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { createRequire } from "node:module";
import puppeteer from "puppeteer-core";

const require = createRequire(import.meta.url);
const axeSource = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

const [siteDir, shotsDir, searchWord = "", framework = ""] = process.argv.slice(2);
if (!siteDir || !shotsDir) {
  console.error("usage: node check.mjs SITE_DIR SHOTS_DIR [SEARCH_WORD FRAMEWORK]");
  process.exit(2);
}
const site = path.resolve(siteDir);
fs.mkdirSync(shotsDir, { recursive: true });

// A static server of the site, for the clipboard (a secure context) and as any web server would.
const types = { ".html": "text/html; charset=utf-8", ".json": "application/json", ".png": "image/png" };
const server = http.createServer((req, res) => {
  const rel = decodeURIComponent(new URL(req.url, "http://x").pathname).replace(/^\/+/, "");
  const file = path.join(site, rel.endsWith("/") || rel === "" ? rel + "index.html" : rel);
  if (!file.startsWith(site) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
    res.writeHead(404);
    res.end("not found");
    return;
  }
  res.writeHead(200, { "content-type": types[path.extname(file)] || "application/octet-stream" });
  fs.createReadStream(file).pipe(res);
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const base = `http://127.0.0.1:${server.address().port}/`;

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
  ],
});

const pages = fs
  .readdirSync(site, { withFileTypes: true })
  .filter((d) => d.isDirectory() && fs.existsSync(path.join(site, d.name, "index.html")))
  .map((d) => `${d.name}/index.html`)
  .sort();
const all = ["index.html", ...pages];
const result = { pages: all, overflow: [], console: [], failed: [], foreign: [], axe: [], widths: [320, 420, 768, 1280, 1920] };

// Opens `url` in a new tab at `width`, recording what goes wrong there.
async function open(url, width, options = {}) {
  const page = await browser.newPage();
  await page.setViewport({ width, height: 900 });
  if (options.noScript) await page.setJavaScriptEnabled(false);
  page.on("console", (m) => {
    if (m.type() === "error") result.console.push({ url, width, text: m.text() });
  });
  page.on("pageerror", (e) => result.console.push({ url, width, text: String(e) }));
  page.on("requestfailed", (r) => result.failed.push({ url, request: r.url(), why: r.failure()?.errorText }));
  page.on("response", (r) => {
    if (r.status() >= 400) result.failed.push({ url, request: r.url(), why: `HTTP ${r.status()}` });
  });
  page.on("request", (r) => {
    const u = r.url();
    if (!u.startsWith(base) && !u.startsWith("file://") && !u.startsWith("data:") && !u.startsWith("about:")) {
      result.foreign.push({ url, request: u });
    }
  });
  await page.goto(url, { waitUntil: "load" });
  return page;
}

for (const rel of all) {
  for (const width of result.widths) {
    const page = await open(base + rel, width);
    const scroll = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      clientWidth: document.documentElement.clientWidth,
      widest: [...document.querySelectorAll("body *")]
        .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
        .filter((e) => !e.closest(".scroll, pre"))
        .slice(0, 3)
        .map((e) => e.tagName + (e.className ? "." + e.className : "") + " " + Math.round(e.getBoundingClientRect().right)),
    }));
    if (scroll.scrollWidth > scroll.clientWidth) result.overflow.push({ page: rel, width, ...scroll });
    if (width === 420 || width === 1280) {
      await page.addScriptTag({ content: axeSource });
      const found = await page.evaluate(async () => {
        const r = await window.axe.run(document, { resultTypes: ["violations"] });
        return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, target: v.nodes[0]?.target }));
      });
      for (const v of found) result.axe.push({ page: rel, width, ...v });
    }
    await page.close();
  }
}

if (process.env.LAYOUT_ONLY === "1") {
  await browser.close();
  server.close();
  process.stdout.write(JSON.stringify(result, null, 1) + "\n");
  process.exit(0);
}

// Ready time of the front page, from file:// (the best of three loads).
const frontFile = pathToFileURL(path.join(site, "index.html")).href;
result.ready = [];
for (let i = 0; i < 3; i++) {
  const page = await open(frontFile, 1280);
  result.ready.push(
    await page.evaluate(() => {
      const n = performance.getEntriesByType("navigation")[0];
      return { domContentLoaded: n.domContentLoadedEventEnd, load: n.loadEventEnd };
    }),
  );
  await page.close();
}

// Navigation from file://: click the first suite's link, then back.
{
  const page = await open(frontFile, 1280);
  const link = await page.$("ul.cards a.name");
  const expected = await page.evaluate((a) => a.textContent, link);
  await Promise.all([page.waitForNavigation({ waitUntil: "load" }), link.click()]);
  const h1 = await page.$eval("h1", (e) => e.firstChild.textContent.trim());
  const suiteUrl = page.url();
  const back = await page.$("nav[aria-label=Breadcrumb] a");
  await Promise.all([page.waitForNavigation({ waitUntil: "load" }), back.click()]);
  result.navigation = { expected, h1, suiteUrl, backUrl: page.url() };
  await page.close();
}

// By keyboard: Tab until a suite link has the focus, then Enter.
{
  const page = await open(frontFile, 1280);
  let focused = null;
  for (let i = 0; i < 40 && !focused; i++) {
    await page.keyboard.press("Tab");
    focused = await page.evaluate(() =>
      document.activeElement && document.activeElement.matches("ul.cards a.name") ? document.activeElement.textContent : null,
    );
  }
  let h1 = null;
  if (focused) {
    await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.keyboard.press("Enter")]);
    h1 = await page.$eval("h1", (e) => e.firstChild.textContent.trim());
  }
  result.keyboard = { focused, h1 };
  await page.close();
}

// Search and the framework filter.
{
  const page = await open(frontFile, 1280);
  const visible = () =>
    page.$$eval("tr[data-suite]", (rows) => rows.filter((r) => !r.hidden).map((r) => r.querySelector("a").textContent));
  const cards = () =>
    page.$$eval("li.card", (cards) => cards.filter((c) => !c.hidden).map((c) => c.querySelector("a").textContent));
  result.search = { all: await visible(), filtersShown: await page.$eval("#filters", (f) => !f.hidden) };
  if (searchWord) {
    await page.type("#q", searchWord);
    result.search.word = {
      rows: await visible(),
      cards: await cards(),
      status: await page.$eval("#shown", (e) => e.textContent),
      hiddenSections: await page.$$eval("section[hidden]", (s) => s.map((e) => e.id)),
    };
    await page.$eval("#q", (e) => { e.value = ""; e.dispatchEvent(new Event("input")); });
  }
  if (framework) {
    await page.select("#framework", framework);
    result.search.framework = {
      rows: await visible(),
      cards: await cards(),
      hash: await page.evaluate(() => location.hash),
      hiddenSections: await page.$$eval("section.task[hidden]", (s) => s.map((e) => e.id)),
    };
  }
  await page.close();
}

// JavaScript off: what the front page shows.
{
  const page = await open(frontFile, 1280, { noScript: true });
  result.noScript = {
    rows: await page.$$eval("tr[data-suite]", (rows) => rows.filter((r) => r.offsetParent !== null).map((r) => r.querySelector("a").textContent)),
    filtersShown: await page.$eval("#filters", (f) => f.offsetParent !== null),
  };
  await page.close();
}

// The copy buttons of the first suite's page, over http (a secure context for the clipboard).
if (pages.length) {
  const context = browser.defaultBrowserContext();
  await context.overridePermissions(base.slice(0, -1), ["clipboard-read", "clipboard-write", "clipboard-sanitized-write"]);
  const page = await open(base + pages[0], 1280);
  result.copy = [];
  for (const button of await page.$$("button.copy")) {
    const id = await page.evaluate((b) => b.getAttribute("data-copy"), button);
    const expected = await page.evaluate((id) => document.getElementById(id).textContent, id);
    await button.click();
    await page.waitForFunction((b) => b.getAttribute("data-copied") === "yes", {}, button);
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    result.copy.push({ id, same: copied === expected, copied: copied.slice(0, 200) });
  }
  await page.close();
}

// Screenshots.
result.shots = [];
for (const [name, rel] of [["front", "index.html"], ["suite", pages[0]]]) {
  if (!rel) continue;
  for (const width of [420, 1280]) {
    const page = await open(base + rel, width);
    const file = path.join(shotsDir, `${name}-${width}.png`);
    await page.screenshot({ path: file, fullPage: false });
    result.shots.push(file);
    await page.close();
  }
}

await browser.close();
server.close();
process.stdout.write(JSON.stringify(result, null, 1) + "\n");
