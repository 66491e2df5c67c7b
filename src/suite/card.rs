//! README model cards. A Hugging Face card starts with YAML front matter between `---` lines
//! (license, pipeline_tag, tags, datasets, model-index): data for tools, not text for people.
//! Markdown renders it as a rule and a heading made of YAML, so whatever shows a README to people
//! (`inspect`, the index pages) shows [`body`]; the layer and the `io.zoo-oci.readme` annotation
//! keep the card whole, for the tools that read it.

use pulldown_cmark::{Event, Parser, Tag, TagEnd};
use serde_json::Value;

/// Splits a README into its front matter (the YAML text, without the `---` lines) and the rest.
/// Front matter is a first line `---` and a later line `---` (or `...`, YAML's document end);
/// a README without one is all body.
pub fn split_front_matter(text: &str) -> (Option<&str>, &str) {
    let start = text.strip_prefix('\u{feff}').unwrap_or(text);
    let Some(first_end) = start.find('\n') else { return (None, text) };
    if start[..first_end].trim_end() != "---" {
        return (None, text);
    }
    let yaml_start = first_end + 1;
    let mut at = yaml_start;
    while at <= start.len() {
        let line_end = start[at..].find('\n').map_or(start.len(), |i| at + i);
        let line = start[at..line_end].trim_end();
        if line == "---" || line == "..." {
            let body_start = (line_end + 1).min(start.len());
            return (Some(&start[yaml_start..at]), &start[body_start..]);
        }
        if line_end == start.len() {
            break;
        }
        at = line_end + 1;
    }
    (None, text) // an opening rule that is never closed is Markdown, not front matter
}

/// The README as people should see it: without its front matter.
pub fn body(text: &str) -> &str {
    split_front_matter(text).1
}

/// The front matter of a README, when it has one and it is a YAML mapping.
pub fn front_matter(text: &str) -> Option<Value> {
    let (yaml, _) = split_front_matter(text);
    serde_saphyr::from_str::<Value>(yaml?).ok().filter(Value::is_object)
}

/// Markdown inline text as plain text: a link becomes its text, an image its alt text, emphasis
/// and code marks go, raw HTML tags are dropped, entities are decoded. For one-line summaries,
/// which registry UIs, `inspect` and the index show as text.
pub fn plain_text(markdown: &str) -> String {
    let mut out = String::new();
    for event in Parser::new(markdown) {
        match event {
            Event::Text(text) | Event::Code(text) => out.push_str(&text),
            Event::SoftBreak | Event::HardBreak => out.push(' '),
            Event::End(TagEnd::Paragraph) | Event::End(TagEnd::Heading(_)) | Event::End(TagEnd::Item) => out.push(' '),
            Event::Start(Tag::Item) if !out.is_empty() => out.push(' '),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_matter_is_split_from_the_body() {
        let card = "---\nlicense: mit\ntags: [a]\n---\n\n# Title\n\nText.\n";
        assert_eq!(split_front_matter(card), (Some("license: mit\ntags: [a]\n"), "\n# Title\n\nText.\n"));
        assert_eq!(front_matter(card).unwrap()["license"], "mit");
        assert_eq!(body("---\r\nlicense: mit\r\n---\r\nBody"), "Body");
        assert_eq!(body("---\nlicense: mit\n...\nBody"), "Body");
    }

    #[test]
    fn a_readme_without_front_matter_is_all_body() {
        for text in ["# Title\n\n---\n\nafter a rule\n", "---\nnever closed\n", "----\nx\n----\n", "", "---"] {
            assert_eq!(split_front_matter(text), (None, text), "{text:?}");
        }
        assert!(front_matter("---\njust text\n---\n").is_none(), "not a mapping");
    }

    #[test]
    fn markdown_becomes_plain_text() {
        assert_eq!(
            plain_text(
                "This is a [sentence-transformers](https://www.SBERT.net) model: it maps *sentences* &amp; `text`."
            ),
            "This is a sentence-transformers model: it maps sentences & text."
        );
        assert_eq!(plain_text("![logo](x.png) A <b>bold</b>\nclaim"), "logo A bold claim");
    }
}
