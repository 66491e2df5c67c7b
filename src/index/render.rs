//! Renderers of an [`Index`]: a terminal table, Markdown for a wiki, one self-contained HTML page
//! (inline CSS and JavaScript, nothing fetched), and Markdown-to-terminal for `inspect`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use super::{Index, SuiteEntry};
use crate::format::{count, human_bytes, printable, short_digest};
use crate::suite::card::body as without_front_matter;
use crate::taxonomy;

/// `onnx opset 13`, `gguf`, or empty.
fn format_with_opset(v: &super::Variant) -> String {
    match (&v.format, v.opset) {
        (Some(f), Some(o)) => format!("{f} opset {o}"),
        (Some(f), None) => f.clone(),
        (None, Some(o)) => format!("opset {o}"),
        (None, None) => String::new(),
    }
}

/// A variant's cells in an HTML table, escaped: name, framework and its version, format,
/// precision, parameters, size.
pub(super) fn variant_cells(v: &super::Variant) -> [String; 6] {
    let framework = [v.framework.as_deref(), v.framework_version.as_deref()].into_iter().flatten().collect::<Vec<_>>();
    [
        html_escape(&v.name),
        html_escape(&framework.join(" ")),
        html_escape(&format_with_opset(v)),
        html_escape(v.precision.as_deref().unwrap_or("")),
        v.params.map(crate::format::param_size).unwrap_or_default(),
        human_bytes(v.size),
    ]
}

pub(super) fn headline_metric(s: &SuiteEntry) -> String {
    s.metrics
        .first()
        .map(|m| format!("{} {}{}", m.kind, trim_float(m.value), reproduced_mark(m.reproduced.as_ref())))
        .unwrap_or_default()
}

/// ` ✓` when a published validation reproduced the metric, ` ✗` when it did not, else nothing.
fn reproduced_mark(r: Option<&super::Reproduced>) -> &'static str {
    match r {
        Some(r) if r.passed => " ✓",
        Some(_) => " ✗",
        None => "",
    }
}

/// What a validation found of a metric, said for people: `reproduced 2026-12-07 (90)`.
pub(super) fn reproduced_text(r: Option<&super::Reproduced>) -> String {
    match r {
        Some(r) => format!(
            "{} {} ({})",
            if r.passed { "reproduced" } else { "not reproduced" },
            r.validated_at.split('T').next().unwrap_or_default(),
            r.measured.map_or("-".into(), trim_float)
        ),
        None => String::new(),
    }
}

pub(super) fn trim_float(v: f64) -> String {
    let text = format!("{v:.4}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Suites of one task.
type TaskGroup<'a> = (String, Vec<&'a SuiteEntry>);

/// Suites grouped by modality (in taxonomy order) then task.
fn grouped(index: &Index) -> Vec<(String, Vec<TaskGroup<'_>>)> {
    let mut out = Vec::new();
    for modality in taxonomy::MODALITIES {
        let mut tasks: BTreeMap<String, Vec<&SuiteEntry>> = BTreeMap::new();
        for s in index.suites.iter().filter(|s| s.modality == modality) {
            tasks.entry(s.task.clone().unwrap_or_else(|| "unspecified".into())).or_default().push(s);
        }
        if !tasks.is_empty() {
            out.push((modality.to_string(), tasks.into_iter().collect()));
        }
    }
    out
}

/// What an index holds, counted as what it is: suites (a name in a repository) and their
/// versions (the entries), e.g. `2 suites, 5 versions`; `1 suite` when there is one version.
pub fn tally(index: &Index) -> String {
    let suites: std::collections::BTreeSet<(&str, &str)> =
        index.suites.iter().map(|s| (s.repository.as_str(), s.name.as_str())).collect();
    let versions = index.suites.len();
    if versions == suites.len() {
        count(suites.len(), "suite", "suites")
    } else {
        format!("{}, {}", count(suites.len(), "suite", "suites"), count(versions, "version", "versions"))
    }
}

/// The terminal table.
pub fn table(index: &Index) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} in {}", tally(index), index.source);
    for (modality, tasks) in grouped(index) {
        let n: usize = tasks.iter().map(|(_, s)| s.len()).sum();
        let _ = writeln!(out, "\n{} ({modality}): {n}", taxonomy::modality_title(&modality));
        for (task, suites) in tasks {
            let _ = writeln!(out, "  {task}");
            for s in suites {
                let _ = writeln!(
                    out,
                    "    {:<24} {:<10} {:<24} {:<16} {:>9}  {:<18} {}",
                    s.name,
                    s.version,
                    s.frameworks.join(","),
                    s.license.as_deref().unwrap_or("-"),
                    human_bytes(s.size),
                    headline_metric(s),
                    s.location
                );
            }
        }
    }
    if !index.skipped.is_empty() {
        let _ =
            writeln!(out, "\nskipped {} manifests that are not model suites (see --format json)", index.skipped.len());
    }
    out
}

fn md_escape(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn anchor(s: &SuiteEntry) -> String {
    let raw = format!("{}-{}", s.name, s.version);
    raw.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c.to_ascii_lowercase() } else { '-' }).collect()
}

/// A Markdown page to commit to a wiki.
pub fn markdown(index: &Index) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Model zoo: {}\n", index.source);
    let _ = writeln!(
        out,
        "{}, grouped by modality and task. Generated by `zoo-oci index` from the manifests' annotations.\n",
        tally(index)
    );
    for note in &index.notes {
        let _ = writeln!(out, "> **Note:** {}\n", md_escape(note));
    }
    for (modality, tasks) in grouped(index) {
        let _ = writeln!(out, "## {} ({modality})\n", taxonomy::modality_title(&modality));
        for (task, suites) in tasks {
            let _ = writeln!(out, "### {} (`{task}`)\n", taxonomy::task_title(&task));
            let _ = writeln!(out, "| Suite | Version | Frameworks | License | Size | Metric | Summary |");
            let _ = writeln!(out, "|---|---|---|---|---|---|---|");
            for s in suites {
                let _ = writeln!(
                    out,
                    "| [{}](#{}) | {} | {} | {} | {} | {} | {} |",
                    md_escape(&s.name),
                    anchor(s),
                    md_escape(&s.version),
                    md_escape(&s.frameworks.join(", ")),
                    md_escape(s.license.as_deref().unwrap_or("")),
                    human_bytes(s.size),
                    md_escape(&headline_metric(s)),
                    md_escape(s.summary.as_deref().unwrap_or(""))
                );
            }
            out.push('\n');
        }
    }
    let _ = writeln!(out, "## Suites\n");
    for s in &index.suites {
        let _ = writeln!(out, "<a id=\"{}\"></a>\n### {} {}\n", anchor(s), s.name, s.version);
        if let Some(summary) = &s.summary {
            let _ = writeln!(out, "{summary}\n");
        }
        let _ = writeln!(out, "- **Task**: {} ({})", s.task.as_deref().unwrap_or("unspecified"), s.modality);
        if let Some(l) = &s.license {
            let _ = writeln!(out, "- **License**: {l}");
        }
        let _ = writeln!(out, "- **Tags**: {}", s.tags.join(", "));
        let _ = writeln!(out, "- **Digest**: `{}`", s.digest);
        let _ = writeln!(out, "- **Pull**: `{}`\n", s.pull);
        if !s.variants.is_empty() {
            let _ = writeln!(
                out,
                "| Variant | Framework | Format | Precision | Parameters | Size |\n|---|---|---|---|---|---|"
            );
            for v in &s.variants {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} |",
                    md_escape(&v.name),
                    md_escape(
                        &[v.framework.clone(), v.framework_version.clone()]
                            .into_iter()
                            .flatten()
                            .collect::<Vec<_>>()
                            .join(" ")
                    ),
                    md_escape(&format_with_opset(v)),
                    v.precision.as_deref().unwrap_or(""),
                    v.params.map(crate::format::param_size).unwrap_or_default(),
                    human_bytes(v.size)
                );
            }
            out.push('\n');
        }
        if !s.metrics.is_empty() {
            let _ = writeln!(out, "| Dataset | Split | Metric | Value | Validated |\n|---|---|---|---|---|");
            for m in &s.metrics {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} |",
                    md_escape(&m.dataset),
                    md_escape(m.split.as_deref().unwrap_or("")),
                    md_escape(&m.kind),
                    trim_float(m.value),
                    reproduced_text(m.reproduced.as_ref())
                );
            }
            out.push('\n');
        }
        if let Some(readme) = &s.readme {
            let body = without_front_matter(readme).trim();
            let _ = writeln!(out, "<details><summary>README</summary>\n\n{body}\n\n</details>\n");
        }
    }
    out
}

/// Escapes text for HTML content and attribute values.
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Markdown to HTML for a README inside the page. A README is someone else's text: raw HTML is
/// shown as text, scripts cannot run, `javascript:` links go nowhere, and images (which would be
/// fetched from elsewhere) become links, so the page stays self-contained and safe. A model
/// card's front matter is data, not text: it is left out.
pub fn readme_html(markdown: &str) -> String {
    let parser = Parser::new_ext(
        without_front_matter(markdown),
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS,
    );
    let safe_url = |url: &CowStr| -> CowStr<'static> {
        let lower = url.trim().to_ascii_lowercase();
        if lower.starts_with("http://")
            || lower.starts_with("https://")
            || lower.starts_with('#')
            || lower.starts_with("mailto:")
        {
            CowStr::from(url.to_string())
        } else {
            CowStr::from("#".to_string())
        }
    };
    let events = parser.map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        Event::Start(Tag::Link { link_type, dest_url, title, id }) => {
            Event::Start(Tag::Link { link_type, dest_url: safe_url(&dest_url), title, id })
        }
        Event::Start(Tag::Image { link_type, dest_url, title, id }) => {
            Event::Start(Tag::Link { link_type, dest_url: safe_url(&dest_url), title, id })
        }
        Event::End(TagEnd::Image) => Event::End(TagEnd::Link),
        other => other,
    });
    let mut out = String::new();
    pulldown_cmark::html::push_html(&mut out, events);
    out
}

/// A README's code blocks and tables, which scroll sideways on a narrow screen, made reachable
/// by keyboard (a scrolling region must take the focus, or its hidden part cannot be read
/// without a mouse), each table a region named apart (`Table N of the README of WHOSE`).
pub(super) fn scrollable_by_keyboard(html: &str, whose: &str) -> String {
    let mut out = String::with_capacity(html.len() + 256);
    for (i, part) in html.replace("<pre>", "<pre tabindex=\"0\">").split("<table>").enumerate() {
        if i > 0 {
            let _ = write!(
                out,
                "<div class=\"scroll\" role=\"region\" aria-label=\"Table {i} of the README of {}\" tabindex=\"0\"><table>",
                html_escape(whose)
            );
        }
        out.push_str(&part.replace("</table>", "</table></div>"));
    }
    out
}

const STYLE: &str = include_str!("page.css");
const SCRIPT: &str = include_str!("page.js");

/// One self-contained HTML page.
pub fn html(index: &Index) -> String {
    let mut frameworks: Vec<&str> = index.suites.iter().flat_map(|s| s.frameworks.iter().map(String::as_str)).collect();
    frameworks.sort();
    frameworks.dedup();
    let mut licenses: Vec<String> = index.suites.iter().flat_map(|s| license_parts(s.license.as_deref())).collect();
    licenses.sort();
    licenses.dedup();
    let mut out = String::new();
    let title = format!("Model zoo — {}", index.source);
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<meta name=\"generator\" content=\"zoo-oci\">\n<link rel=\"icon\" href=\"data:,\">\n<title>{}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n",
        html_escape(&title)
    );
    let _ = write!(
        out,
        "<header class=\"top\"><div class=\"wrap\"><h1>Model zoo</h1><p class=\"source\">{} · <span id=\"shown\">{}</span> of {}</p>\n<div class=\"controls\"><input id=\"q\" type=\"search\" placeholder=\"Search name, task, README…\" aria-label=\"Search\">\n<select id=\"framework\" aria-label=\"Framework\"><option value=\"\">All frameworks</option>",
        html_escape(&index.source),
        index.suites.len(),
        count(index.suites.len(), "entry", "entries")
    );
    for f in &frameworks {
        let _ = write!(out, "<option value=\"{0}\">{0}</option>", html_escape(f));
    }
    out.push_str("</select>\n<select id=\"license\" aria-label=\"License\"><option value=\"\">All licenses</option>");
    for l in &licenses {
        let _ = write!(out, "<option value=\"{0}\">{0}</option>", html_escape(l));
    }
    out.push_str("</select></div></div></header>\n<div class=\"wrap layout\">\n<nav id=\"categories\" aria-label=\"Categories\">\n");
    let _ = writeln!(
        out,
        "<button class=\"cat active\" data-modality=\"\" data-task=\"\">All <span class=\"count\">{}</span></button>",
        index.suites.len()
    );
    for (modality, tasks) in grouped(index) {
        let n: usize = tasks.iter().map(|(_, s)| s.len()).sum();
        let _ = writeln!(
            out,
            "<button class=\"cat modality\" data-modality=\"{}\" data-task=\"\">{} <span class=\"count\">{n}</span></button>",
            html_escape(&modality),
            html_escape(&taxonomy::modality_title(&modality))
        );
        for (task, suites) in tasks {
            let _ = writeln!(
                out,
                "<button class=\"cat task\" data-modality=\"{}\" data-task=\"{}\">{} <span class=\"count\">{}</span></button>",
                html_escape(&modality),
                html_escape(&task),
                html_escape(&taxonomy::task_title(&task)),
                suites.len()
            );
        }
    }
    out.push_str("</nav>\n<main id=\"cards\">\n");
    for note in &index.notes {
        let _ = writeln!(out, "<p class=\"note\" role=\"note\">{}</p>", html_escape(note));
    }
    for s in &index.suites {
        card(&mut out, s);
    }
    out.push_str("<p id=\"empty\" hidden>No suite matches these filters.</p>\n</main>\n</div>\n");
    let _ = write!(
        out,
        "<footer class=\"wrap\">Generated by zoo-oci from {} manifests; nothing on this page is fetched from elsewhere.</footer>\n<script>\n{SCRIPT}</script>\n</body>\n</html>\n",
        index.suites.len()
    );
    out
}

fn license_parts(license: Option<&str>) -> Vec<String> {
    license
        .map(|l| {
            l.split(|c: char| c.is_whitespace() || c == '(' || c == ')')
                .filter(|p| !p.is_empty() && !matches!(*p, "AND" | "OR" | "WITH"))
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

fn card(out: &mut String, s: &SuiteEntry) {
    let search = super::searchable_text(s);
    let _ = writeln!(
        out,
        "<article class=\"card\" id=\"{}\" data-name=\"{}\" data-modality=\"{}\" data-task=\"{}\" data-frameworks=\"{}\" data-licenses=\"{}\" data-search=\"{}\">",
        html_escape(&anchor(s)),
        html_escape(&s.name),
        html_escape(&s.modality),
        html_escape(s.task.as_deref().unwrap_or("unspecified")),
        html_escape(&s.frameworks.join(" ")),
        html_escape(&license_parts(s.license.as_deref()).join(" ")),
        html_escape(&search)
    );
    let _ = writeln!(
        out,
        "<header><h2>{} <span class=\"version\">{}</span></h2><span class=\"badge task\">{}</span></header>",
        html_escape(&s.name),
        html_escape(&s.version),
        html_escape(s.task.as_deref().unwrap_or("unspecified"))
    );
    if let Some(summary) = &s.summary {
        let _ = writeln!(out, "<p class=\"summary\">{}</p>", html_escape(summary));
    }
    out.push_str("<p class=\"chips\">");
    for f in &s.frameworks {
        let _ = write!(out, "<span class=\"badge fw\">{}</span>", html_escape(f));
    }
    if let Some(l) = &s.license {
        let _ = write!(out, "<span class=\"badge license\">{}</span>", html_escape(l));
    }
    let _ = write!(out, "<span class=\"badge size\">{}</span>", human_bytes(s.size));
    out.push_str("</p>\n");
    if !s.variants.is_empty() {
        let _ = write!(
            out,
            "<div class=\"scroll\" role=\"region\" tabindex=\"0\" aria-label=\"Variants of {} {}\">",
            html_escape(&s.name),
            html_escape(&s.version)
        );
        out.push_str("<table class=\"variants\"><thead><tr><th>Variant</th><th>Framework</th><th>Format</th><th>Precision</th><th>Params</th><th>Size</th></tr></thead><tbody>");
        for v in &s.variants {
            let _ = write!(out, "<tr><td>{}</td></tr>", variant_cells(v).join("</td><td>"));
        }
        out.push_str("</tbody></table></div>\n");
    }
    if !s.metrics.is_empty() {
        let _ = write!(
            out,
            "<div class=\"scroll\" role=\"region\" tabindex=\"0\" aria-label=\"Metrics of {} {}\">",
            html_escape(&s.name),
            html_escape(&s.version)
        );
        out.push_str(
            "<table class=\"metrics\"><thead><tr><th>Dataset</th><th>Metric</th><th>Value</th><th>Validated</th></tr></thead><tbody>",
        );
        for m in &s.metrics {
            let dataset = match &m.split {
                Some(split) => format!("{} ({split})", m.dataset),
                None => m.dataset.clone(),
            };
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"validated\">{}</td></tr>",
                html_escape(&dataset),
                html_escape(&m.kind),
                trim_float(m.value),
                html_escape(&reproduced_text(m.reproduced.as_ref()))
            );
        }
        out.push_str("</tbody></table></div>\n");
    }
    let _ = writeln!(
        out,
        "<div class=\"pull\"><code tabindex=\"0\">{0}</code><button type=\"button\" class=\"copy\" data-copy=\"{0}\">Copy</button></div>",
        html_escape(&s.pull)
    );
    let _ = writeln!(
        out,
        "<p class=\"meta\">tags {} · <code>{}</code></p>",
        html_escape(&s.tags.join(", ")),
        html_escape(short_digest(&s.digest))
    );
    if let Some(readme) = &s.readme {
        let _ = writeln!(
            out,
            "<details class=\"readme\"><summary>README</summary><div class=\"md\">{}</div></details>",
            scrollable_by_keyboard(&readme_html(readme), &format!("{} {}", s.name, s.version))
        );
    }
    out.push_str("</article>\n");
}

/// A README for the terminal: headings underlined (bold with `color`), lists with bullets,
/// code indented, links with their address; everything else as plain wrapped-as-written text.
/// A model card's front matter is left out.
pub fn terminal_markdown(markdown: &str, color: bool) -> String {
    let (bold, reset) = if color { ("\u{1b}[1m", "\u{1b}[0m") } else { ("", "") };
    // The README's own control characters are neutralised first: the only escapes in the
    // result are the bold ones written here.
    let markdown = printable(markdown);
    let mut out = String::new();
    let mut heading: Option<(HeadingLevel, String)> = None;
    let mut list_depth = 0usize;
    let mut in_code = false;
    let mut link: Option<String> = None;
    for event in Parser::new_ext(without_front_matter(&markdown), Options::ENABLE_TABLES) {
        let target = |out: &mut String, heading: &mut Option<(HeadingLevel, String)>, text: &str| match heading {
            Some((_, h)) => h.push_str(text),
            None => out.push_str(text),
        };
        match event {
            Event::Start(Tag::Heading { level, .. }) => heading = Some((level, String::new())),
            Event::End(TagEnd::Heading(_)) => {
                if let Some((level, text)) = heading.take() {
                    let rule = if level == HeadingLevel::H1 { '=' } else { '-' };
                    let _ = writeln!(out, "{bold}{text}{reset}");
                    if level <= HeadingLevel::H2 {
                        let _ = writeln!(out, "{}", rule.to_string().repeat(text.chars().count()));
                    }
                    out.push('\n');
                }
            }
            Event::Start(Tag::List(_)) => list_depth += 1,
            Event::End(TagEnd::List(_)) => {
                list_depth = list_depth.saturating_sub(1);
                if list_depth == 0 {
                    out.push('\n');
                }
            }
            Event::Start(Tag::Item) => {
                let _ = write!(out, "{}• ", "  ".repeat(list_depth.saturating_sub(1)));
            }
            Event::End(TagEnd::Item) if !out.ends_with('\n') => {
                out.push('\n');
            }
            Event::Start(Tag::CodeBlock(_)) => in_code = true,
            Event::End(TagEnd::CodeBlock) => {
                in_code = false;
                out.push('\n');
            }
            Event::End(TagEnd::Paragraph) => {
                if list_depth == 0 {
                    out.push_str("\n\n");
                } else {
                    out.push('\n');
                }
            }
            Event::Start(Tag::Link { dest_url, .. }) => link = Some(dest_url.to_string()),
            Event::End(TagEnd::Link) => {
                if let Some(url) = link.take() {
                    target(&mut out, &mut heading, &format!(" ({url})"));
                }
            }
            Event::Start(Tag::Strong) => target(&mut out, &mut heading, bold),
            Event::End(TagEnd::Strong) => target(&mut out, &mut heading, reset),
            Event::Text(text) if in_code => {
                for line in text.lines() {
                    let _ = writeln!(out, "    {line}");
                }
            }
            Event::Text(text) | Event::Html(text) | Event::InlineHtml(text) => target(&mut out, &mut heading, &text),
            Event::Code(text) => target(&mut out, &mut heading, &format!("`{text}`")),
            Event::SoftBreak => target(&mut out, &mut heading, "\n"),
            Event::HardBreak => target(&mut out, &mut heading, "\n"),
            Event::Rule => out.push_str("----\n\n"),
            Event::End(TagEnd::TableRow) | Event::End(TagEnd::TableHead) => out.push('\n'),
            Event::End(TagEnd::TableCell) => out.push_str("  "),
            _ => {}
        }
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readme_html_neutralises_html_scripts_and_remote_images() {
        let html = readme_html(
            "# Hi\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1)) ![logo](https://evil.example/x.png)",
        );
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("<h1>Hi</h1>"), "{html}");
    }

    #[test]
    fn printable_shows_control_characters_and_keeps_newlines_tabs_and_letters() {
        assert_eq!(printable("plain — 模型\n\tok"), "plain — 模型\n\tok");
        assert!(matches!(printable("plain"), std::borrow::Cow::Borrowed(_)), "clean text is not copied");
        assert_eq!(printable("\u{1b}]52;c;aGk=\u{7}\u{1b}[2J\r\u{0}\u{7f}\u{9b}"), "^[]52;c;aGk=^G^[[2J^M^@^?\\u{9b}");
    }

    #[test]
    fn a_readme_on_a_terminal_holds_no_escape_but_its_bold_headings() {
        let text = terminal_markdown("# T\u{1b}]0;title\u{7}\n\nx \u{1b}[2J y\n", true);
        assert_eq!(text.matches('\u{1b}').count(), 2, "{text:?}");
        assert!(text.contains("T^[]0;title^G") && text.contains("x ^[[2J y"), "{text:?}");
    }

    #[test]
    fn terminal_markdown_keeps_structure_without_markup() {
        let text = terminal_markdown(
            "# Title\n\nSome *text* and [a link](https://x.org).\n\n- one\n- two\n\n```\ncode\n```\n",
            false,
        );
        assert!(text.starts_with("Title\n=====\n"), "{text}");
        assert!(text.contains("a link (https://x.org)"), "{text}");
        assert!(text.contains("• one\n• two"), "{text}");
        assert!(text.contains("    code"), "{text}");
        assert!(!text.contains('#') && !text.contains("```"), "{text}");
    }
}
