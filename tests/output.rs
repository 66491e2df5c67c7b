//! Standard output as a pipe: a reader that stops early (`| head -1`) has what it wanted, so
//! zoo-oci ends quietly with 0 (it used to panic with exit 101 on the broken pipe).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;

use crate::util::*;

/// A layout holding the small suite with a README far bigger than a pipe's buffer, so that
/// `inspect` and `index --format json` are still writing when `head` goes away.
fn layout_with_a_long_readme(root: &Path) -> String {
    let suite = small_suite(root);
    let line = "A line of the README that goes on for a while, to fill the pipe. ";
    write(&suite, "README.md", format!("# Tiny\n\n{}", line.repeat(3000)), false);
    let layout = format!("oci:{}", root.join("zoo").display());
    run_in(root, &["push", "-q", suite.to_str().unwrap(), &format!("{layout}:1.0")]).ok();
    layout
}

/// Runs `zoo-oci ARGS | head -1` in bash with pipefail: the exit status is zoo-oci's.
fn piped_into_head(root: &Path, args: &[&str]) -> (i32, String, String) {
    let script = r#"set -o pipefail; bin="$1"; shift; "$bin" "$@" 2>"$ERR" | head -1"#;
    let err = root.join("stderr.txt");
    let out = std::process::Command::new("bash")
        .current_dir(root)
        .env("ERR", &err)
        .env_remove("SOURCE_DATE_EPOCH")
        .arg("-c")
        .arg(script)
        .arg("bash")
        .arg(env!("CARGO_BIN_EXE_zoo-oci"))
        .args(args)
        .output()
        .unwrap();
    let stderr = std::fs::read_to_string(&err).unwrap_or_default();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
}

#[test]
fn inspect_and_index_piped_into_head_exit_0_with_nothing_on_stderr() {
    let tmp = scratch();
    let layout = layout_with_a_long_readme(tmp.path());
    let inspect = zoo().current_dir(tmp.path()).args(["inspect", &format!("{layout}:1.0")]).output().unwrap();
    assert!(inspect.stdout.len() > 2 * 65536, "the output must outgrow the pipe: {} bytes", inspect.stdout.len());
    let at = format!("{layout}:1.0");
    for args in [vec!["inspect", at.as_str()], vec!["index", "--format", "json", layout.as_str()]] {
        let (code, first, stderr) = piped_into_head(tmp.path(), &args);
        assert_eq!((code, stderr.as_str()), (0, ""), "zoo-oci {args:?} | head -1");
        assert!(!first.trim().is_empty(), "head got the first line");
    }
}

#[test]
fn a_reader_that_closes_before_any_output_is_not_an_error() {
    let tmp = scratch();
    let layout = layout_with_a_long_readme(tmp.path());
    let mut child = zoo()
        .current_dir(tmp.path())
        .args(["inspect", "--format", "json", &format!("{layout}:1.0")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    drop(stdout); // the reader goes away mid-output
    let out = child.wait_with_output().unwrap();
    assert_eq!(first.trim(), "{");
    assert_eq!(out.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
}

/// The README's contents list names every section, in order, and no section it lacks: an edit
/// that cuts or renames a section shows here.
#[test]
fn the_readme_contents_list_matches_its_sections() {
    let readme = std::fs::read_to_string(crate::util::repo().join("README.md")).unwrap();
    let headings: Vec<&str> =
        readme.lines().filter_map(|l| l.strip_prefix("## ")).filter(|h| *h != "Contents").collect();
    let contents_start = readme.find("## Contents").expect("the README has a contents list");
    let listed: Vec<String> = readme[contents_start..]
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with("- ["))
        .map(|l| l["- [".len()..l.find("](").unwrap()].to_string())
        .collect();
    assert_eq!(listed, headings, "the contents list and the ## headings differ");
    for required in ["A tour", "The suite descriptor, `zoo.yaml`", "The artifact format", "Exit codes"] {
        assert!(headings.contains(&required), "the README lost its section {required:?}");
    }
}

/// A suite with one file big enough that packing it takes a few of the progress ticks (200 ms).
fn suite_with_a_big_file(root: &Path) -> std::path::PathBuf {
    let suite = small_suite(root);
    write(&suite, "data/test/big.bin", pseudo_random(96 << 20, 7), false);
    suite
}

/// Runs zoo-oci under a pseudo-terminal (util-linux `script`), as a user at a terminal does:
/// what it printed there, control characters and all.
fn at_a_terminal(root: &Path, args: &[&str]) -> (i32, String) {
    require_tool("script");
    let bin = env!("CARGO_BIN_EXE_zoo-oci");
    let command = std::iter::once(bin).chain(args.iter().copied()).map(shell_quote).collect::<Vec<_>>().join(" ");
    let out = std::process::Command::new("script")
        .current_dir(root)
        .env("COLUMNS", "160")
        .env("ZOO_OCI_CACHE", root.join("cache"))
        .args(["-qfec", &command, "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

fn shell_quote(arg: &str) -> String {
    format!("'{}'", arg.replace('\'', r"'\''"))
}

#[test]
fn a_push_says_it_uploaded_what_it_uploaded_and_shows_a_bar_at_a_terminal() {
    use crate::util::registry::Registry;
    let reg = Registry::plain();
    let tmp = scratch();
    let suite = suite_with_a_big_file(tmp.path());
    let at = reg.at("zoo/big:1");
    let (code, screen) = at_a_terminal(tmp.path(), &["push", "--plain-http", suite.to_str().unwrap(), &at]);
    assert_eq!(code, 0, "{screen}");
    // A bar with the total while the layers go up as they are hashed, not only a spinner.
    let doing = format!("uploading the layers to {} while hashing them", reg.at("zoo/big"));
    assert!(screen.contains(&doing), "{screen}");
    assert!(screen.contains("/100.76 MB"), "the bar shows the total (96 MiB and the small files): {screen}");
    assert!(screen.contains('█') || screen.contains('░'), "a bar is drawn: {screen}");
    // Every layer is told as uploaded: none was there before.
    assert!(!screen.contains("exists"), "{screen}");
    assert!(screen.contains("uploaded data/test/"), "{screen}");

    // In a log (--log-format json), the same: an uploaded event per layer, the hashing events
    // with their total (--no-cache: the digest cache would skip reading the known layers)...
    let other = reg.at("zoo/big-json:1");
    let args = ["push", "--plain-http", "--log-format", "json", suite.to_str().unwrap(), &other];
    let cache = tmp.path().join("cache");
    let env = [("ZOO_OCI_CACHE", cache.to_str().unwrap())];
    let run = run_env(tmp.path(), &env, &[&args[..], &["--no-cache"]].concat()).ok().stderr.clone();
    let events: Vec<serde_json::Value> = run.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let kinds = |events: &[serde_json::Value], kind: &str| events.iter().filter(|e| e["event"] == kind).count();
    assert!(kinds(&events, "uploaded") >= 5, "{run}");
    assert_eq!(kinds(&events, "exists"), 0, "{run}");
    let hashing = events.iter().find(|e| e["event"] == "hashing");
    if let Some(hashing) = hashing {
        let total = hashing["total"].as_u64().unwrap();
        assert!((96 << 20..97 << 20).contains(&total), "{run}");
        assert!(hashing["bytes"].as_u64().unwrap() <= total, "{run}");
        assert_eq!(hashing["uploading_to"], reg.at("zoo/big-json"), "{run}");
    }
    // ... and a push of the same suite again finds every layer there.
    let again = run_env(tmp.path(), &env, &args).ok().stderr.clone();
    let events: Vec<serde_json::Value> = again.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    assert_eq!(kinds(&events, "uploaded"), 0, "{again}");
    assert!(kinds(&events, "exists") >= 6, "{again}");
}
