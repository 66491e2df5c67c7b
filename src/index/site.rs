//! `index --format site`: the zoo as a static site. A front page grouping the suites by modality
//! and task, with a table of them all; a page per suite (its tutorial: README, variants, files,
//! datasets, metrics, how to pull, load and mount it, and every version with what changed from
//! the one before); and `index.json` for tools. Pages link to files (`NAME/index.html`), so the
//! site reads from `file://` as from any static server; CSS and the little JavaScript (search,
//! the framework filter, copy buttons) are inline, nothing is fetched from elsewhere, and
//! everything reads without JavaScript.
//!
//! Writing is idempotent: a page whose bytes are unchanged is not rewritten (its modification
//! time stays, so a static server's caches and `rsync` see nothing new), and nothing in a page
//! depends on when it was made.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use super::render::{
    headline_metric, html_escape, readme_html, reproduced_text, scrollable_by_keyboard, trim_float, variant_cells,
};
use super::{Index, SuiteEntry};
use crate::error::{Error, Result};
use crate::format::{count, human_bytes};
use crate::taxonomy;

const STYLE: &str = include_str!("site.css");
const SCRIPT: &str = include_str!("site.js");

/// The record of what a site run wrote, in the site's folder: what a later run may replace or
/// remove (and nothing else).
pub const RECORD: &str = ".zoo-oci-site.json";

/// One file of the site.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteFile {
    /// Path relative to the site's folder, `/`-separated.
    pub path: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// What writing a site did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Written {
    /// Files written (new or changed).
    pub written: usize,
    /// Files left as they were (same bytes).
    pub unchanged: usize,
    /// Files an earlier run wrote that this one no longer makes (a suite gone), removed.
    pub removed: usize,
    /// Suites (pages) in the site.
    pub suites: usize,
}

/// The versions of one suite (a name in a repository), newest first, and its page's folder.
struct Suite<'a> {
    slug: String,
    versions: Vec<&'a SuiteEntry>,
}

impl Suite<'_> {
    fn latest(&self) -> &SuiteEntry {
        self.versions[0]
    }
}

/// Compares versions as people read them: runs of digits as numbers (`1.10` after `1.9`),
/// the rest as text.
fn compare_versions(a: &str, b: &str) -> Ordering {
    let chunks = |s: &str| -> Vec<(bool, String)> {
        let mut out: Vec<(bool, String)> = Vec::new();
        for c in s.chars() {
            let digit = c.is_ascii_digit();
            match out.last_mut() {
                Some((d, text)) if *d == digit => text.push(c),
                _ => out.push((digit, c.to_string())),
            }
        }
        out
    };
    let (a, b) = (chunks(a), chunks(b));
    for (x, y) in a.iter().zip(&b) {
        let order = match (x, y) {
            ((true, x), (true, y)) => {
                let (x, y) = (x.trim_start_matches('0'), y.trim_start_matches('0'));
                x.len().cmp(&y.len()).then_with(|| x.cmp(y))
            }
            ((_, x), (_, y)) => x.cmp(y),
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    // One is the other and more: a pre-release (`2.0.0-rc1`, `2.0.0~beta`) comes before the
    // release; anything else (`1.0.1` after `1.0`) after.
    let pre_release = |extra: Option<&(bool, String)>| extra.is_some_and(|(_, t)| t.starts_with(['-', '~']));
    match a.len().cmp(&b.len()) {
        Ordering::Greater if pre_release(a.get(b.len())) => Ordering::Less,
        Ordering::Less if pre_release(b.get(a.len())) => Ordering::Greater,
        order => order,
    }
}

/// A name fit for a folder and a URL: lower-case letters, digits, `-`, `_` and `.`.
fn slug_of(name: &str) -> String {
    let slug: String =
        name.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' { c.to_ascii_lowercase() } else { '-' }
            })
            .collect();
    let slug = slug.trim_matches(|c| c == '-' || c == '.').to_string();
    if slug.is_empty() { "suite".into() } else { slug }
}

/// The suites of `index`: its entries grouped by repository and name, each version once.
fn suites(index: &Index) -> Vec<Suite<'_>> {
    let mut groups: BTreeMap<(&str, &str), Vec<&SuiteEntry>> = BTreeMap::new();
    for entry in &index.suites {
        groups.entry((entry.name.as_str(), entry.repository.as_str())).or_default().push(entry);
    }
    let mut taken: BTreeSet<String> = BTreeSet::new();
    // Folders a suite's page may not take: the site's own files.
    taken.insert("index.json".into());
    taken.insert("index.html".into());
    groups
        .into_iter()
        .map(|((name, _), mut versions)| {
            versions.sort_by(|a, b| compare_versions(&b.version, &a.version).then_with(|| a.digest.cmp(&b.digest)));
            let base = slug_of(name);
            let mut slug = base.clone();
            let mut n = 2;
            while !taken.insert(slug.clone()) {
                slug = format!("{base}-{n}");
                n += 1;
            }
            Suite { slug, versions }
        })
        .collect()
}

/// The site of `index`: its files, in a stable order.
pub fn build(index: &Index) -> Vec<SiteFile> {
    let suites = suites(index);
    let mut files = vec![
        SiteFile { path: "index.html".into(), bytes: front_page(index, &suites).into_bytes() },
        SiteFile {
            path: "index.json".into(),
            bytes: (serde_json::to_string_pretty(index).expect("an index serialises") + "\n").into_bytes(),
        },
    ];
    for suite in &suites {
        files.push(SiteFile {
            path: format!("{}/index.html", suite.slug),
            bytes: suite_page(index, suite).into_bytes(),
        });
    }
    files
}

/// The record a site's folder keeps of what zoo-oci wrote there.
#[derive(serde::Serialize, serde::Deserialize)]
struct Record {
    zoo_oci_site: u32,
    files: Vec<String>,
}

/// Writes `files` into `dir`: a file whose bytes are already there is left alone; a file an
/// earlier run wrote and this one does not (a suite gone) is removed. A folder holding files
/// zoo-oci did not write (no record of an earlier run) is refused unless it is empty, so that a
/// mistyped `-o` replaces nobody's `index.html`.
pub fn write(dir: &Path, files: &[SiteFile]) -> Result<Written> {
    let record_path = dir.join(RECORD);
    let earlier: Option<Record> = match std::fs::read(&record_path) {
        Ok(bytes) => Some(serde_json::from_slice(&bytes).map_err(|e| {
            Error::malformed(format!("{} is not a record of a site zoo-oci wrote", record_path.display())).with_cause(e)
        })?),
        Err(_) => None,
    };
    if earlier.is_none() && dir.exists() {
        let mut entries = std::fs::read_dir(dir).map_err(|e| Error::io("read the folder", dir, e))?;
        if entries.next().is_some() {
            return Err(Error::usage(format!(
                "{} holds files an earlier `index --format site` did not write (no {RECORD} there)",
                dir.display()
            ))
            .with_hint("give a new or empty folder for the site, or the folder an earlier run wrote"));
        }
    }
    let mut written =
        Written { suites: files.iter().filter(|f| f.path.ends_with("/index.html")).count(), ..Written::default() };
    for file in files {
        let path = dir.join(&file.path);
        if std::fs::read(&path).is_ok_and(|bytes| bytes == file.bytes) {
            written.unchanged += 1;
            continue;
        }
        crate::atomic::write_file(&path, &file.bytes, crate::atomic::WriteOptions::default())?;
        written.written += 1;
    }
    let now: BTreeSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
    for gone in earlier.iter().flat_map(|r| &r.files).filter(|p| !now.contains(p.as_str())) {
        // Only paths of the site's own shape: a record edited by hand removes nothing else.
        let inside = Path::new(gone).components().all(|c| matches!(c, std::path::Component::Normal(_)));
        if !inside || !gone.ends_with(".html") {
            continue;
        }
        let path = dir.join(gone);
        if std::fs::remove_file(&path).is_ok() {
            written.removed += 1;
            if let Some(folder) = path.parent().filter(|p| *p != dir) {
                let _ = std::fs::remove_dir(folder); // only when empty
            }
        }
    }
    let record = Record { zoo_oci_site: 1, files: files.iter().map(|f| f.path.clone()).collect() };
    let bytes = serde_json::to_vec_pretty(&record).expect("a record serialises");
    if std::fs::read(&record_path).ok().as_deref() != Some(bytes.as_slice()) {
        crate::atomic::write_file(&record_path, &bytes, crate::atomic::WriteOptions::default())?;
    }
    Ok(written)
}

/// The start of every page, up to the header's end.
fn head(out: &mut String, title: &str, description: &str) {
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"zoo-oci\">\n<meta name=\"description\" content=\"{}\">\n\
         <link rel=\"icon\" href=\"data:,\">\n\
         <title>{}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n",
        html_escape(description),
        html_escape(title)
    );
}

fn tail(out: &mut String, index: &Index) {
    let _ = write!(
        out,
        "<footer><div class=\"wrap\">Made by <code>zoo-oci index --format site</code> from the manifests of {}; nothing on these pages is fetched from elsewhere.</div></footer>\n<script>\n{SCRIPT}</script>\n</body>\n</html>\n",
        html_escape(&index.source)
    );
}

fn task_of(s: &SuiteEntry) -> String {
    s.task.clone().unwrap_or_else(|| "unspecified".into())
}

fn search_text(s: &SuiteEntry) -> String {
    let mut parts = vec![s.name.clone(), s.version.clone(), s.repository.clone(), task_of(s), s.modality.clone()];
    parts.extend(s.summary.clone());
    parts.extend(s.license.clone());
    parts.extend(s.keywords.iter().cloned());
    parts.extend(s.frameworks.iter().cloned());
    parts.extend(s.authors.iter().cloned());
    parts.join(" ").to_lowercase()
}

fn front_page(index: &Index, suites: &[Suite<'_>]) -> String {
    let mut out = String::new();
    let tally = count(suites.len(), "suite", "suites");
    head(&mut out, &format!("Model zoo — {}", index.source), &format!("{tally} in {}", index.source));
    let mut frameworks: BTreeSet<&str> = BTreeSet::new();
    for s in suites {
        frameworks.extend(s.latest().frameworks.iter().map(String::as_str));
    }
    let _ = write!(
        out,
        "<a class=\"skip\" href=\"#main\">Skip to the suites</a>\n<header class=\"top\"><div class=\"wrap\">\n\
         <h1 class=\"title\">Model zoo</h1>\n<p class=\"source\">{} · {tally}, {}</p>\n\
         <form class=\"filters\" id=\"filters\" role=\"search\" hidden>\n\
         <label for=\"q\">Search<input id=\"q\" type=\"search\" placeholder=\"name, task, summary, framework…\" autocomplete=\"off\"></label>\n\
         <label for=\"framework\">Framework<select id=\"framework\"><option value=\"\">All frameworks</option>",
        html_escape(&index.source),
        count(index.suites.len(), "version", "versions")
    );
    for f in &frameworks {
        let _ = write!(out, "<option value=\"{0}\">{0}</option>", html_escape(f));
    }
    let _ = write!(
        out,
        "</select></label>\n</form>\n<p id=\"shown\" role=\"status\" aria-live=\"polite\">All {} suites</p>\n</div></header>\n",
        suites.len()
    );
    // Modality, then task, then the suites of that task by name.
    let mut groups: BTreeMap<usize, (String, BTreeMap<String, Vec<&Suite<'_>>>)> = BTreeMap::new();
    for s in suites {
        let latest = s.latest();
        let rank = taxonomy::MODALITIES.iter().position(|m| *m == latest.modality).unwrap_or(usize::MAX);
        let (_, tasks) = groups.entry(rank).or_insert_with(|| (latest.modality.clone(), BTreeMap::new()));
        tasks.entry(task_of(latest)).or_default().push(s);
    }
    out.push_str("<main id=\"main\"><div class=\"wrap\">\n");
    for note in &index.notes {
        let _ = writeln!(out, "<p class=\"note\" role=\"note\">{}</p>", html_escape(note));
    }
    out.push_str("<nav class=\"jump\" aria-label=\"Modalities\">");
    for (modality, tasks) in groups.values() {
        let n: usize = tasks.values().map(Vec::len).sum();
        let _ = write!(
            out,
            "<a href=\"#modality-{}\">{} <span class=\"count\">({n})</span></a>",
            slug_of(modality),
            html_escape(&taxonomy::modality_title(modality))
        );
    }
    out.push_str("<a href=\"#all\">All suites, as a table</a></nav>\n");
    for (modality, tasks) in groups.values() {
        let n: usize = tasks.values().map(Vec::len).sum();
        let _ = writeln!(
            out,
            "<section class=\"modality\" id=\"modality-{0}\" aria-labelledby=\"h-modality-{0}\">\n<h2 id=\"h-modality-{0}\">{1} <span class=\"count\">{n}</span></h2>",
            slug_of(modality),
            html_escape(&taxonomy::modality_title(modality))
        );
        for (task, members) in tasks {
            let _ = writeln!(
                out,
                "<section class=\"task\" id=\"task-{0}\" aria-labelledby=\"h-task-{0}\">\n<h3 id=\"h-task-{0}\">{1} <span class=\"count\">{2}</span></h3>\n<ul class=\"cards\">",
                slug_of(task),
                html_escape(&taxonomy::task_title(task)),
                members.len()
            );
            for s in members {
                card(&mut out, s);
            }
            out.push_str("</ul>\n</section>\n");
        }
        out.push_str("</section>\n");
    }
    out.push_str(
        "<section id=\"all\" aria-labelledby=\"h-all\">\n<h2 id=\"h-all\">All suites</h2>\n\
         <div class=\"scroll\" role=\"region\" aria-label=\"All suites, as a table\" tabindex=\"0\">\n<table>\n\
         <thead><tr><th scope=\"col\">Suite</th><th scope=\"col\">Version</th><th scope=\"col\">Task</th><th scope=\"col\">Frameworks</th><th scope=\"col\">Licence</th><th scope=\"col\">Size</th><th scope=\"col\">Versions</th></tr></thead>\n<tbody>\n",
    );
    for s in suites {
        let latest = s.latest();
        let _ = writeln!(
            out,
            "<tr data-suite data-search=\"{}\" data-frameworks=\"{}\"><td><a href=\"{}/index.html\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            html_escape(&search_text(latest)),
            html_escape(&latest.frameworks.join(" ")),
            s.slug,
            html_escape(&latest.name),
            html_escape(&latest.version),
            html_escape(&taxonomy::task_title(&task_of(latest))),
            html_escape(&latest.frameworks.join(", ")),
            html_escape(latest.license.as_deref().unwrap_or("")),
            human_bytes(latest.size),
            s.versions.len()
        );
    }
    out.push_str("</tbody>\n</table>\n</div>\n</section>\n</div></main>\n");
    tail(&mut out, index);
    out
}

fn card(out: &mut String, s: &Suite<'_>) {
    let latest = s.latest();
    let _ = write!(
        out,
        "<li class=\"card\" data-suite data-search=\"{}\" data-frameworks=\"{}\"><a class=\"name\" href=\"{}/index.html\">{}</a> <span class=\"version\">{}</span>",
        html_escape(&search_text(latest)),
        html_escape(&latest.frameworks.join(" ")),
        s.slug,
        html_escape(&latest.name),
        html_escape(&latest.version)
    );
    if s.versions.len() > 1 {
        let _ = write!(out, " <span class=\"count\">({} versions)</span>", s.versions.len());
    }
    if let Some(summary) = &latest.summary {
        let _ = write!(out, "<p class=\"summary\">{}</p>", html_escape(summary));
    }
    out.push_str("<ul class=\"chips\" aria-label=\"Facts\">");
    for f in &latest.frameworks {
        let _ = write!(out, "<li class=\"chip\">{}</li>", html_escape(f));
    }
    if let Some(l) = &latest.license {
        let _ = write!(out, "<li class=\"chip\">{}</li>", html_escape(l));
    }
    let _ = write!(out, "<li class=\"chip\">{}</li>", human_bytes(latest.size));
    let metric = headline_metric(latest);
    if !metric.is_empty() {
        let _ = write!(out, "<li class=\"chip\">{}</li>", html_escape(&metric));
    }
    out.push_str("</ul></li>\n");
}

/// A snippet to paste, with its copy button (shown by the script).
fn snippet(out: &mut String, id: &str, label: &str, text: &str) {
    let _ = writeln!(
        out,
        "<div class=\"snippet\"><pre tabindex=\"0\" aria-label=\"{1}\"><code id=\"{0}\">{2}</code></pre><button type=\"button\" class=\"copy\" data-copy=\"{0}\" aria-label=\"Copy: {1}\" hidden>Copy</button></div>",
        id,
        html_escape(label),
        html_escape(text)
    );
}

fn version_anchor(version: &str) -> String {
    format!("v-{}", slug_of(version))
}

fn suite_page(index: &Index, suite: &Suite<'_>) -> String {
    let s = suite.latest();
    let mut out = String::new();
    let description = s.summary.clone().unwrap_or_else(|| format!("{} {}", s.name, s.version));
    head(&mut out, &format!("{} {} — Model zoo", s.name, s.version), &description);
    let _ = write!(
        out,
        "<a class=\"skip\" href=\"#main\">Skip to the suite</a>\n<header class=\"top\"><div class=\"wrap\">\n\
         <p class=\"title\"><a href=\"../index.html\">Model zoo</a></p>\n\
         <nav aria-label=\"Breadcrumb\" class=\"source\"><a href=\"../index.html\">All suites</a> › \
         <a href=\"../index.html#task-{}\">{}</a> › {}</nav>\n</div></header>\n<main id=\"main\"><div class=\"wrap\">\n",
        slug_of(&task_of(s)),
        html_escape(&taxonomy::task_title(&task_of(s))),
        html_escape(&s.name)
    );
    let _ =
        writeln!(out, "<h1>{} <span class=\"version\">{}</span></h1>", html_escape(&s.name), html_escape(&s.version));
    if let Some(summary) = &s.summary {
        let _ = writeln!(out, "<p class=\"summary\">{}</p>", html_escape(summary));
    }
    out.push_str("<dl class=\"facts\">");
    let mut fact = |name: &str, value: String| {
        let _ = write!(out, "<dt>{name}</dt><dd>{value}</dd>");
    };
    fact("Task", format!("{} ({})", html_escape(&taxonomy::task_title(&task_of(s))), html_escape(&s.modality)));
    if !s.frameworks.is_empty() {
        fact("Frameworks", html_escape(&s.frameworks.join(", ")));
    }
    if let Some(l) = &s.license {
        fact("Licence", html_escape(l));
    }
    fact("Size", human_bytes(s.size));
    if !s.authors.is_empty() {
        fact("Authors", html_escape(&s.authors.join(", ")));
    }
    if let Some(url) = &s.source_url {
        fact("Source", link(url));
    }
    fact("Reference", format!("<code>{}</code>", html_escape(&s.location)));
    fact("Digest", format!("<code class=\"digest\">{}</code>", html_escape(&s.digest)));
    out.push_str("</dl>\n");

    // How to use it.
    let folder = crate::suite::safe_folder_name(&s.name);
    let reference = &s.location;
    out.push_str("<section id=\"use\" aria-labelledby=\"h-use\"><h2 id=\"h-use\">Use it</h2>\n<h3>Command line</h3>\n");
    snippet(&mut out, "snippet-pull", "Pull it from the command line", &s.pull);
    out.push_str("<h3>Python</h3>\n");
    snippet(
        &mut out,
        "snippet-python",
        "Load it in Python",
        &format!("import zoo_oci\n\nmodel = zoo_oci.hub.load({})", quoted(reference)),
    );
    out.push_str(
        "<h3>Kubernetes</h3>\n<p>An init container pulls the model files into a volume the server reads (the zoo-oci image: <code>scripts/build-image.sh</code>):</p>\n",
    );
    let init = format!(
        "initContainers:\n  - name: fetch-model\n    image: REGISTRY/tools/zoo-oci:0.1.0\n    args: [\"pull\", {}, \"-o\", \"/models/{folder}\", \"--only\", \"model\"]\n    volumeMounts:\n      - {{name: models, mountPath: /models}}\nvolumes:\n  - {{name: models, emptyDir: {{}}}}",
        quoted(reference)
    );
    snippet(&mut out, "snippet-init", "Kubernetes init container", &init);
    let image = format!("{}-image", reference);
    out.push_str("<p>Or, as an image volume (Kubernetes 1.35; the suite copied as an image first):</p>\n");
    snippet(
        &mut out,
        "snippet-image",
        "Kubernetes image volume",
        &format!(
            "# zoo-oci copy {reference} {image} --as-image --prefix /models --only model\nvolumes:\n  - name: model\n    image: {{reference: {}, pullPolicy: IfNotPresent}}",
            quoted(&image)
        ),
    );
    out.push_str("</section>\n");

    if let Some(readme) = &s.readme {
        let _ = writeln!(
            out,
            "<section id=\"readme\" aria-labelledby=\"h-readme\"><h2 id=\"h-readme\">README</h2>\n<div class=\"md\">{}</div></section>",
            scrollable_by_keyboard(&readme_html(readme), &s.name)
        );
    }
    if !s.variants.is_empty() {
        out.push_str("<section id=\"variants\" aria-labelledby=\"h-variants\"><h2 id=\"h-variants\">Variants</h2>\n<div class=\"scroll\" role=\"region\" aria-label=\"The variants\" tabindex=\"0\"><table><thead><tr><th scope=\"col\">Variant</th><th scope=\"col\">Framework</th><th scope=\"col\">Format</th><th scope=\"col\">Precision</th><th scope=\"col\">Parameters</th><th scope=\"col\">Size</th></tr></thead><tbody>\n");
        for v in &s.variants {
            let [name, framework, format, precision, params, size] = variant_cells(v);
            let _ = writeln!(
                out,
                "<tr><td>{name}</td><td>{framework}</td><td>{format}</td><td>{precision}</td><td class=\"num\">{params}</td><td class=\"num\">{size}</td></tr>"
            );
        }
        out.push_str("</tbody></table></div></section>\n");
    }
    if !s.files.is_empty() {
        out.push_str("<section id=\"files\" aria-labelledby=\"h-files\"><h2 id=\"h-files\">Files</h2>\n");
        let mut by_class: Vec<(&str, Vec<&super::SuiteFile>)> = Vec::new();
        for f in &s.files {
            match by_class.iter_mut().find(|(c, _)| *c == f.class) {
                Some((_, list)) => list.push(f),
                None => by_class.push((&f.class, vec![f])),
            }
        }
        for (class, files) in by_class {
            let _ = writeln!(out, "<h3>{}</h3><ul class=\"files\">", html_escape(class));
            for f in files {
                let held = match f.file.layer_files {
                    Some(n) if n > 0 => format!(" · {}", count(n as usize, "file", "files")),
                    _ => String::new(),
                };
                let _ = writeln!(
                    out,
                    "<li><code>{}</code> <span class=\"muted\">{}{held}</span></li>",
                    html_escape(&f.file.path),
                    human_bytes(f.file.size)
                );
            }
            out.push_str("</ul>\n");
        }
        out.push_str("</section>\n");
    }
    if !s.datasets.is_empty() {
        out.push_str("<section id=\"datasets\" aria-labelledby=\"h-datasets\"><h2 id=\"h-datasets\">Datasets</h2>\n<div class=\"scroll\" role=\"region\" aria-label=\"The datasets\" tabindex=\"0\"><table><thead><tr><th scope=\"col\">Dataset</th><th scope=\"col\">Role</th><th scope=\"col\">Where</th><th scope=\"col\">Checksum</th><th scope=\"col\">Size</th></tr></thead><tbody>\n");
        for d in &s.datasets {
            let (where_, checksum) = match (&d.path, &d.url) {
                (Some(path), _) => (
                    format!("in the suite: <code>{}</code>", html_escape(path)),
                    d.digest.as_deref().map(|g| format!("layer <code class=\"digest\">{}</code>", html_escape(g))),
                ),
                (None, Some(url)) => (
                    link(url),
                    d.sha256.as_deref().map(|h| format!("sha256 <code class=\"digest\">{}</code>", html_escape(h))),
                ),
                (None, None) => ("—".into(), None),
            };
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{where_}</td><td>{}</td><td class=\"num\">{}</td></tr>",
                html_escape(&d.name),
                html_escape(&d.role),
                checksum.unwrap_or_else(|| "not given".into()),
                d.size.map(human_bytes).unwrap_or_default()
            );
        }
        out.push_str("</tbody></table></div></section>\n");
    }
    if !s.metrics.is_empty() {
        out.push_str("<section id=\"metrics\" aria-labelledby=\"h-metrics\"><h2 id=\"h-metrics\">Metrics</h2>\n<div class=\"scroll\" role=\"region\" aria-label=\"The metrics\" tabindex=\"0\"><table><thead><tr><th scope=\"col\">Dataset</th><th scope=\"col\">Split</th><th scope=\"col\">Metric</th><th scope=\"col\">Claimed</th><th scope=\"col\">Reproduced</th></tr></thead><tbody>\n");
        for m in &s.metrics {
            let reproduced = reproduced_text(m.reproduced.as_ref());
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
                html_escape(&m.dataset),
                html_escape(m.split.as_deref().unwrap_or("")),
                html_escape(&m.kind),
                trim_float(m.value),
                if reproduced.is_empty() { "not validated".into() } else { html_escape(&reproduced) }
            );
        }
        out.push_str("</tbody></table></div></section>\n");
    }

    // Every version, newest first, each with what changed from the one before it.
    let _ = writeln!(
        out,
        "<section id=\"versions\" aria-labelledby=\"h-versions\"><h2 id=\"h-versions\">Versions <span class=\"count\">{}</span></h2>\n<ul class=\"versions\">",
        suite.versions.len()
    );
    // Two manifests may claim one version (a tag moved, another kept): each its own anchor.
    let mut taken = BTreeSet::new();
    let anchors: Vec<String> = suite
        .versions
        .iter()
        .map(|v| {
            let anchor = version_anchor(&v.version);
            if taken.insert(anchor.clone()) {
                return anchor;
            }
            let hex = v.digest.trim_start_matches("sha256:");
            let unique = format!("{anchor}-{}", &hex[..hex.len().min(12)]);
            taken.insert(unique.clone());
            unique
        })
        .collect();
    for (v, anchor) in suite.versions.iter().zip(&anchors) {
        let _ = writeln!(
            out,
            "<li><a href=\"#{}\">{}</a> <span class=\"muted\">{}</span></li>",
            anchor,
            html_escape(&v.version),
            html_escape(&v.tags.join(", "))
        );
    }
    out.push_str("</ul>\n");
    for (i, (v, anchor)) in suite.versions.iter().zip(&anchors).enumerate() {
        let _ = writeln!(
            out,
            "<section class=\"version\" id=\"{}\" aria-labelledby=\"h-{0}\"><h3 id=\"h-{0}\">{}</h3>\n<p>Reference <code>{}</code> · {} · tags {}</p>\n<p>Digest <code class=\"digest\">{}</code></p>",
            anchor,
            html_escape(&v.version),
            html_escape(&v.location),
            human_bytes(v.size),
            html_escape(&v.tags.join(", ")),
            html_escape(&v.digest)
        );
        snippet(
            &mut out,
            &format!("snippet-pull-{}", version_anchor(&v.version)),
            &format!("Pull {}", v.version),
            &v.pull,
        );
        match suite.versions.get(i + 1) {
            Some(before) => {
                let _ = writeln!(out, "<h4>Changes from {}</h4>", html_escape(&before.version));
                let changes = changes(before, v);
                if changes.is_empty() {
                    out.push_str("<p class=\"muted\">The same files and metadata.</p>\n");
                } else {
                    out.push_str("<ul class=\"changes\">");
                    for c in changes {
                        let _ = write!(out, "<li>{c}</li>");
                    }
                    out.push_str("</ul>\n");
                }
            }
            None => out.push_str("<p class=\"muted\">The first version listed.</p>\n"),
        }
        out.push_str("</section>\n");
    }
    out.push_str("</section>\n</div></main>\n");
    tail(&mut out, index);
    out
}

/// A link to an address of the suite's own (`http(s)` only; anything else shown as text).
fn link(url: &str) -> String {
    let lower = url.trim().to_ascii_lowercase();
    if lower.starts_with("https://") || lower.starts_with("http://") {
        format!("<a href=\"{0}\" rel=\"nofollow noopener\">{0}</a>", html_escape(url))
    } else {
        html_escape(url)
    }
}

/// `text` as a double-quoted string literal: JSON's quoting, which Python and YAML read as is.
fn quoted(text: &str) -> String {
    serde_json::to_string(text).expect("a string serialises")
}

/// What changed from `before` to `after`, said for people (HTML): files per class (added,
/// removed, changed), variants, metrics and the metadata a reader cares about. The same
/// comparison as `zoo-oci diff`, from what the catalogue keeps.
fn changes(before: &SuiteEntry, after: &SuiteEntry) -> Vec<String> {
    let mut out = Vec::new();
    let files = |s: &SuiteEntry| -> BTreeMap<(String, String), (u64, String)> {
        s.files.iter().map(|f| ((f.class.clone(), f.file.path.clone()), (f.file.size, f.file.digest.clone()))).collect()
    };
    let (old, new) = (files(before), files(after));
    let code = |path: &str| format!("<code>{}</code>", html_escape(path));
    for ((class, path), (size, _)) in &new {
        if !old.contains_key(&(class.clone(), path.clone())) {
            out.push(format!("{class}: {} added ({})", code(path), human_bytes(*size)));
        }
    }
    for ((class, path), (size, _)) in &old {
        if !new.contains_key(&(class.clone(), path.clone())) {
            out.push(format!("{class}: {} removed ({})", code(path), human_bytes(*size)));
        }
    }
    for ((class, path), (size, digest)) in &new {
        if let Some((old_size, old_digest)) = old.get(&(class.clone(), path.clone()))
            && (old_digest != digest || old_size != size)
        {
            out.push(format!("{class}: {} changed ({} → {})", code(path), human_bytes(*old_size), human_bytes(*size)));
        }
    }
    let names = |s: &SuiteEntry| s.variants.iter().map(|v| v.name.clone()).collect::<BTreeSet<_>>();
    let (old_variants, new_variants) = (names(before), names(after));
    for v in new_variants.difference(&old_variants) {
        out.push(format!("variant {} added", html_escape(v)));
    }
    for v in old_variants.difference(&new_variants) {
        out.push(format!("variant {} removed", html_escape(v)));
    }
    for m in &after.metrics {
        let earlier = before.metrics.iter().find(|o| o.dataset == m.dataset && o.kind == m.kind && o.split == m.split);
        match earlier {
            Some(o) if o.value != m.value => out.push(format!(
                "{} on {}: {} → {}",
                html_escape(&m.kind),
                html_escape(&m.dataset),
                trim_float(o.value),
                trim_float(m.value)
            )),
            None => out.push(format!(
                "{} on {} claimed: {}",
                html_escape(&m.kind),
                html_escape(&m.dataset),
                trim_float(m.value)
            )),
            _ => {}
        }
    }
    let field = |name: &str, a: &Option<String>, b: &Option<String>, out: &mut Vec<String>| {
        if a != b {
            out.push(format!(
                "{name}: {} → {}",
                html_escape(a.as_deref().unwrap_or("none")),
                html_escape(b.as_deref().unwrap_or("none"))
            ));
        }
    };
    field("licence", &before.license, &after.license, &mut out);
    field("task", &before.task, &after.task, &mut out);
    field("summary", &before.summary, &after.summary, &mut out);
    if before.size != after.size && !out.is_empty() {
        out.push(format!("size {} → {}", human_bytes(before.size), human_bytes(after.size)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_as_people_read_them() {
        let mut v = vec!["1.10.0", "1.9.2", "2.0.0-rc1", "1.9.10", "2.0.0", "0.1"];
        v.sort_by(|a, b| compare_versions(a, b));
        assert_eq!(v, ["0.1", "1.9.2", "1.9.10", "1.10.0", "2.0.0-rc1", "2.0.0"]);
    }

    #[test]
    fn slugs_are_folder_and_url_safe() {
        assert_eq!(slug_of("iris-logreg"), "iris-logreg");
        assert_eq!(slug_of("Whisper Tiny/EN"), "whisper-tiny-en");
        assert_eq!(slug_of("../.."), "suite");
    }
}
