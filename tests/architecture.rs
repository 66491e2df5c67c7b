//! The module graph of `src/` is the one ARCHITECTURE.md shows, and it has no cycle: read from
//! the `crate::` paths of every source file (comments aside), so that an import that breaks the
//! layering fails here, and the document cannot drift from the code.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use crate::util::repo;

type Graph = BTreeMap<String, BTreeSet<String>>;

/// The top-level module a file of `src/` belongs to.
fn module_of(relative: &Path) -> Option<String> {
    let first = relative.components().next()?.as_os_str().to_string_lossy().into_owned();
    let name = first.strip_suffix(".rs").unwrap_or(&first).to_string();
    (name != "lib" && name != "main").then_some(name)
}

/// The top-level modules named by `crate::` paths in `code`, braces included
/// (`crate::{cache::Cache, pull}`).
fn modules_named(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        found.extend(leading_ident(&item));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                if depth == 0 {
                    item.push(c);
                }
            }
            found.extend(leading_ident(&item));
        } else {
            found.extend(leading_ident(rest));
        }
    }
    found
}

fn leading_ident(text: &str) -> Option<String> {
    let ident: String = text.trim_start().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    (!ident.is_empty() && ident != "self").then_some(ident)
}

/// A line without its comment: `//` at the start, or after whitespace (not `https://`).
fn code_of(line: &str) -> &str {
    let trimmed = line.trim_start();
    if trimmed.starts_with("//") {
        return "";
    }
    match line.find(" //") {
        Some(at) => &line[..at],
        None => line,
    }
}

/// The crate root's re-exports (`pub use error::{Error, Result}`), by the name they go by.
fn root_aliases(lib: &str) -> BTreeMap<String, String> {
    let mut aliases = BTreeMap::new();
    for line in lib.lines().filter_map(|l| l.trim().strip_prefix("pub use ")) {
        let Some((module, names)) = line.trim_end_matches(';').split_once("::") else { continue };
        for name in names.trim_matches(|c| c == '{' || c == '}').split(',') {
            let name = name.split(" as ").last().unwrap_or(name).trim();
            aliases.insert(name.to_string(), module.trim().to_string());
        }
    }
    aliases
}

fn imports(src: &Path) -> Graph {
    let aliases = root_aliases(&fs::read_to_string(src.join("lib.rs")).unwrap());
    let mut graph = Graph::new();
    let mut pending = vec![src.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let Some(module) = module_of(path.strip_prefix(src).unwrap()) else { continue };
            let text = fs::read_to_string(&path).unwrap();
            // A file's unit tests (at its end, by the house's convention) are not its imports.
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            let named: BTreeSet<String> = code
                .lines()
                .flat_map(|l| modules_named(code_of(l)))
                .map(|name| aliases.get(&name).cloned().unwrap_or(name))
                .collect();
            let edges = graph.entry(module.clone()).or_default();
            edges.extend(named.into_iter().filter(|m| *m != module));
        }
    }
    graph
}

/// The graph in ARCHITECTURE.md, between `<!-- module graph -->` and `<!-- end -->`: a line
/// `module: what it imports`.
fn documented(text: &str) -> Graph {
    let start = text.find("<!-- module graph -->").expect("ARCHITECTURE.md has a module graph block");
    let block = &text[start..text[start..].find("<!-- end -->").map(|e| start + e).expect("the block ends")];
    block
        .lines()
        .filter_map(|l| l.trim().split_once(':'))
        .filter(|(m, _)| !m.contains(' ') && !m.starts_with('<') && !m.starts_with('`'))
        .map(|(m, deps)| (m.trim().to_string(), deps.split_whitespace().map(String::from).collect()))
        .collect()
}

/// A cycle in `graph`, if there is one.
fn cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(node: &str, graph: &Graph, path: &mut Vec<String>, done: &mut BTreeSet<String>) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut found = path[at..].to_vec();
            found.push(node.to_string());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, graph, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn the_module_graph_is_the_documented_one_and_has_no_cycle() {
    let actual = imports(&repo().join("src"));
    if let Some(found) = cycle(&actual) {
        panic!("an import cycle: {}", found.join(" -> "));
    }
    let doc = documented(&fs::read_to_string(repo().join("ARCHITECTURE.md")).unwrap());
    let mut differences = Vec::new();
    for module in actual.keys().chain(doc.keys()).collect::<BTreeSet<_>>() {
        let (has, says) =
            (actual.get(module).cloned().unwrap_or_default(), doc.get(module).cloned().unwrap_or_default());
        for extra in has.difference(&says) {
            differences.push(format!("{module} imports {extra}, which ARCHITECTURE.md does not show"));
        }
        for gone in says.difference(&has) {
            differences.push(format!("ARCHITECTURE.md shows {module} importing {gone}, which it does not"));
        }
    }
    assert!(differences.is_empty(), "update the code or ARCHITECTURE.md's module graph:\n{}", differences.join("\n"));
}

#[test]
fn the_reader_finds_grouped_paths_and_cycles() {
    assert_eq!(
        modules_named("use crate::{cache::{Cache, X}, pull, self}; let x = crate::error::Error::x();"),
        ["cache", "error", "pull"].map(String::from).into_iter().collect()
    );
    assert_eq!(code_of("let u = \"https://x\"; // crate::cache"), "let u = \"https://x\";");
    let graph: Graph = [("a", &["b"][..]), ("b", &["c"]), ("c", &["a"])]
        .into_iter()
        .map(|(m, d)| (m.to_string(), d.iter().map(|s| s.to_string()).collect()))
        .collect();
    assert_eq!(cycle(&graph).unwrap(), ["a", "b", "c", "a"]);
}
