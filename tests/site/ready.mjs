// How long the front page of a site takes to be ready in Debian's headless Chromium, from
// file:// (scripts/bench.sh, part (f)): DOMContentLoaded and load, from navigation start, in
// milliseconds, each of RUNS loads in a new tab; and the suites it names.
//
//   node ready.mjs SITE_DIR [RUNS]

import path from "node:path";
import { pathToFileURL } from "node:url";
import puppeteer from "puppeteer-core";

const [siteDir, runs = "5"] = process.argv.slice(2);
const url = pathToFileURL(path.resolve(siteDir, "index.html")).href;
const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const loads = [];
let suites = 0;
for (let i = 0; i < Number(runs); i++) {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  await page.goto(url, { waitUntil: "load" });
  loads.push(
    await page.evaluate(() => {
      const n = performance.getEntriesByType("navigation")[0];
      return { domContentLoaded: Math.round(n.domContentLoadedEventEnd), load: Math.round(n.loadEventEnd) };
    }),
  );
  suites = await page.$$eval("tr[data-suite]", (rows) => rows.length);
  await page.close();
}
await browser.close();
process.stdout.write(JSON.stringify({ suites, loads }) + "\n");
