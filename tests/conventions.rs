//! The habits of people who come from docker, oras, crane, kit and hf: references as those
//! tools read them, `docker login`'s prompt, and the commands they reach for — against real
//! CNCF Distribution processes.

use std::fs;
use std::path::Path;

use crate::util::registry::*;
use crate::util::*;

/// Runs zoo-oci with an empty Docker config of its own.
fn zoo_in(dir: &Path, args: &[&str]) -> Run {
    let config = dir.join("docker-config");
    fs::create_dir_all(&config).unwrap();
    run_env(dir, &[("DOCKER_CONFIG", config.to_str().unwrap())], args)
}

fn digest_of(run: &Run) -> String {
    let line = run.stdout.lines().find(|l| l.contains("sha256:")).expect("push prints the digest");
    let start = line.find("sha256:").unwrap();
    line[start..start + 71].to_string()
}

/// The forms docker, oras and crane accept are read as they read them, and the ones they refuse
/// are refused before any network call (exit 2); docker's own examples among them.
#[test]
fn references_are_read_as_docker_reads_them() {
    let reg = Registry::plain();
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let pushed = zoo_in(tmp.path(), &["push", "--plain-http", suite.to_str().unwrap(), &reg.at("zoo/tiny:1")]);
    pushed.ok();
    let digest = digest_of(&pushed);
    zoo_in(tmp.path(), &["tag", "--plain-http", &reg.at("zoo/tiny:1"), "2"]).ok();
    fs::create_dir_all(tmp.path().join("zoo")).unwrap();

    let inspect = |location: &str| zoo_in(tmp.path(), &["inspect", "--plain-http", "--retry-timeout", "0", location]);
    // Accepted, and what they resolve to.
    let name_tag_digest = format!("{}/zoo/tiny:no-such-tag@{digest}", reg.addr);
    inspect(&name_tag_digest).ok();
    inspect(&format!("{}/zoo/tiny@{digest}", reg.addr)).ok();
    let several = inspect(&reg.at("zoo/tiny"));
    several.code(2).stderr_has("no tag latest").stderr_has("1, 2");
    zoo_in(tmp.path(), &["tag", "--plain-http", &reg.at("zoo/tiny:1"), "latest"]).ok();
    let latest = zoo_in(tmp.path(), &["inspect", "--plain-http", "--format", "json", &reg.at("zoo/tiny")]);
    latest.ok();
    assert!(latest.stdout.contains(&digest), "no tag means latest: {}", latest.stdout);

    // Refused before any network call: exit 2, and the registry never heard of them.
    reg.clear_requests();
    let refused: &[(&str, &str)] = &[
        ("localhost:99999/zoo", "port"),
        ("localhost:0/zoo", "port"),
        ("localhost:5x/zoo", "port"),
        (":5000/zoo", "host name is empty"),
        ("/zoo", "names no registry host"),
        ("::1:5000/zoo", "brackets"),
        ("[::1/zoo", "closing ]"),
        ("[zz]:5000/zoo", "not an IPv6 address"),
        ("exa_mple.com/zoo", "host name"),
        ("ghcr.io/Team/model", "invalid repository name"),
        ("ghcr.io/a..b", "invalid repository name"),
        ("ghcr.io/a-/b", "invalid repository name"),
        ("ghcr.io/a___b", "invalid repository name"),
        ("ghcr.io/zoo/tiny:-bad", "invalid tag"),
        ("ghcr.io/zoo/tiny:1@sha256:abc", "sha256"),
        ("team/model:1", "unsupported location"),
        ("zoo:1.0", "did you mean oci:zoo:1.0"),
        ("./zoo:1.0", "did you mean oci:./zoo:1.0"),
    ];
    for (form, says) in refused {
        inspect(form).code(2).stderr_has(says);
    }
    let long = format!("ghcr.io/{}", "a".repeat(260));
    inspect(&long).code(2).stderr_has("255");
    assert!(reg.requests().is_empty(), "refused forms reached the registry: {:?}", reg.requests());

    // Accepted by the grammar: these reach the network (nothing listens on port 1: exit 1).
    for form in ["localhost:1/a__b", "localhost:1/a--b/c.d_e", "[::1]:1/zoo", "127.0.0.1:1/zoo/tiny:1.0"] {
        inspect(form).code(1).stderr_has("refused");
    }
}

/// `docker.io/ubuntu` is `docker.io/library/ubuntu` on Docker Hub's registry host: an HTTP
/// proxy in front of a local registry sees the request docker would send.
#[test]
fn docker_hub_names_mean_library_and_talk_to_its_registry_host() {
    use crate::util::proxy::{Fault, FaultProxy};
    let reg = Registry::plain();
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    zoo_in(tmp.path(), &["push", "-q", "--plain-http", suite.to_str().unwrap(), &reg.at("library/ubuntu:1")]).ok();
    let proxy = FaultProxy::start(&reg.addr, Fault::Delay("never-matches", 0));
    let config = tmp.path().join("docker-config");
    let proxied = [
        ("DOCKER_CONFIG", config.to_str().unwrap()),
        ("HTTP_PROXY", &format!("http://{}", proxy.addr)),
        ("http_proxy", &format!("http://{}", proxy.addr)),
        ("NO_PROXY", ""),
        ("no_proxy", ""),
    ];
    let run = run_env(tmp.path(), &proxied, &["inspect", "--plain-http", "docker.io/ubuntu:1"]);
    run.ok().stdout_has("tiny");
    let log = proxy.log();
    assert!(
        log.iter().any(|l| l.contains("GET http://registry-1.docker.io/v2/library/ubuntu/manifests/1")),
        "the request went to Docker Hub's registry host for library/ubuntu: {log:?}"
    );
}

/// Runs `zoo-oci login` on a pseudo-terminal, typing `password` at its prompt: what the
/// terminal showed, and the exit code.
fn login_on_a_terminal(dir: &Path, password: &str, args: &[&str]) -> (String, i32) {
    require_tool("python3");
    const TYPIST: &str = r#"
import os, pty, sys, time
password, command = sys.argv[1], sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(command[0], command)
seen = b""
deadline = time.time() + 30
typed = False
while time.time() < deadline:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    seen += chunk
    if not typed and b"Password: " in seen:
        time.sleep(0.3)  # a person's pause: the prompt turns echo off just after printing
        os.write(fd, password.encode() + b"\n")
        typed = True
_, status = os.waitpid(pid, 0)
sys.stdout.write(seen.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
"#;
    let config = dir.join("docker-config");
    fs::create_dir_all(&config).unwrap();
    let zoo = env!("CARGO_BIN_EXE_zoo-oci");
    let out = std::process::Command::new("python3")
        .args(["-c", TYPIST, password, zoo])
        .args(args)
        .env("DOCKER_CONFIG", &config)
        .current_dir(dir)
        .output()
        .unwrap();
    (String::from_utf8_lossy(&out.stdout).into_owned(), out.status.code().unwrap_or(-1))
}

/// `login` asks for the password on a terminal without echo, as `docker login` does; a wrong
/// one is refused naming the user; `-p` works and warns; without a terminal it says to use
/// `--password-stdin`.
#[test]
fn login_prompts_on_a_terminal_without_echo() {
    let reg = Registry::tls_auth();
    let tmp = scratch();
    let ca = reg.ca_arg();
    let args = ["login", &reg.addr, "-u", USER, "--ca-file", &ca];

    let (screen, code) = login_on_a_terminal(tmp.path(), "wrong-password", &args);
    assert_eq!(code, 3, "{screen}");
    assert!(screen.contains(&format!("refused the credentials of user {USER}")), "{screen}");
    assert!(!screen.contains("wrong-password"), "the password was echoed: {screen}");

    let (screen, code) = login_on_a_terminal(tmp.path(), PASSWORD, &args);
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("Password: ") && screen.contains("logged in"), "{screen}");
    assert!(!screen.contains(PASSWORD), "the password was echoed: {screen}");
    let saved = fs::read_to_string(tmp.path().join("docker-config/config.json")).unwrap();
    assert!(saved.contains(&reg.addr), "{saved}");

    let with_p = zoo_in(tmp.path(), &["login", &reg.addr, "-u", USER, "-p", PASSWORD, "--ca-file", &ca]);
    with_p.ok().stderr_has("warning: a password given with -p");
    assert!(!with_p.stderr.contains(PASSWORD) && !with_p.stdout.contains(PASSWORD));
    // No terminal (the test's stdin is not one), no password: a usage error naming the flag.
    zoo_in(tmp.path(), &["login", &reg.addr, "-u", USER, "--ca-file", &ca]).code(2).stderr_has("--password-stdin");
}

/// `tags` lists a repository's and a layout's tags, `--long` with the suite each holds; `rm`
/// takes a tag out of a layout (blobs stay) and a manifest out of a registry, or says what to
/// do where the registry refuses; `gc` frees what no tag reaches, and nothing else.
#[test]
fn tags_rm_and_gc_do_what_oras_crane_and_the_registry_do() {
    let reg = Registry::plain();
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let layout = tmp.path().join("zoo");
    let at_layout = |tag: &str| format!("oci:{}:{tag}", layout.display());
    zoo_in(tmp.path(), &["push", "-q", suite.to_str().unwrap(), &at_layout("1")]).ok();
    zoo_in(tmp.path(), &["tag", &at_layout("1"), "stable"]).ok();
    // A second suite version, with a file of its own, so that gc has something to free.
    fs::write(suite.join("scripts/common.py"), "X = 2\n").unwrap();
    let yaml = fs::read_to_string(suite.join("zoo.yaml")).unwrap();
    let bumped = yaml.replace("version: \"1.0.0\"", "version: \"2.0.0\"");
    assert_ne!(yaml, bumped, "the small suite's zoo.yaml names its version");
    fs::write(suite.join("zoo.yaml"), bumped).unwrap();
    zoo_in(tmp.path(), &["push", "-q", suite.to_str().unwrap(), &at_layout("2")]).ok();

    let plain = zoo_in(tmp.path(), &["tags", &format!("oci:{}", layout.display())]);
    assert_eq!(plain.ok().stdout, "1\n2\nstable\n");
    let long = zoo_in(tmp.path(), &["tags", "--long", "--format", "json", &format!("oci:{}", layout.display())]);
    let report: serde_json::Value = serde_json::from_str(&long.ok().stdout).unwrap();
    let entries = report["tags"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[1]["tag"], "2");
    assert_eq!(entries[1]["version"], "2.0.0");
    assert_eq!(entries[0]["digest"], entries[2]["digest"], "1 and stable are one manifest");
    assert_eq!(entries[0]["name"], "tiny");

    // rm in a layout: the tag goes, the blobs stay until gc; gc frees only what 2 alone held.
    let blobs = |dir: &Path| fs::read_dir(dir.join("blobs/sha256")).unwrap().count();
    let before = blobs(&layout);
    zoo_in(tmp.path(), &["gc", &format!("oci:{}", layout.display())]).ok().stderr_has("removed 0 blobs");
    zoo_in(tmp.path(), &["rm", &at_layout("2")]).ok().stderr_has("removed tag 2");
    assert_eq!(blobs(&layout), before, "rm keeps the blobs");
    let dry = zoo_in(tmp.path(), &["gc", "--dry-run", &format!("oci:{}", layout.display())]);
    dry.ok().stderr_has("would remove");
    assert_eq!(blobs(&layout), before, "a dry run removes nothing");
    let doomed = dry.stdout.lines().count();
    assert!(doomed >= 2, "at least 2's manifest and its changed scripts layer: {}", dry.stdout);
    zoo_in(tmp.path(), &["gc", &format!("oci:{}", layout.display())])
        .ok()
        .stderr_has(&format!("removed {doomed} blobs"));
    assert_eq!(blobs(&layout), before - doomed);
    let out = tmp.path().join("out");
    zoo_in(tmp.path(), &["pull", "-q", &at_layout("stable"), "-o", out.to_str().unwrap()]).ok();
    zoo_in(tmp.path(), &["rm", &format!("oci:{}", layout.display())]).code(2).stderr_has("names no tag or digest");

    // rm in a registry deletes the manifest; tags lists what is left.
    zoo_in(tmp.path(), &["copy", &at_layout("1"), &reg.at("zoo/tiny:1"), "--to-plain-http"]).ok();
    zoo_in(tmp.path(), &["tag", "--plain-http", &reg.at("zoo/tiny:1"), "keep"]).ok();
    let listed = zoo_in(tmp.path(), &["tags", "--plain-http", &reg.at("zoo/tiny")]);
    assert_eq!(listed.ok().stdout, "1\nkeep\n");
    zoo_in(tmp.path(), &["rm", "--plain-http", &reg.at("zoo/tiny:1")]).ok().stderr_has("deleted manifest sha256:");
    assert!(
        reg.requests().iter().any(|r| r.starts_with("DELETE /v2/zoo/tiny/manifests/sha256:")),
        "{:?}",
        reg.requests()
    );
    zoo_in(tmp.path(), &["inspect", "--plain-http", &reg.at("zoo/tiny:keep")]).code(4);
    zoo_in(tmp.path(), &["gc", &reg.at("zoo/tiny")]).code(2).stderr_has("gc works on OCI layouts");

    let strict = Registry::start(Setup { no_delete: true, ..Setup::default() });
    zoo_in(tmp.path(), &["copy", &at_layout("1"), &strict.at("zoo/tiny:1"), "--to-plain-http"]).ok();
    zoo_in(tmp.path(), &["rm", "--plain-http", &strict.at("zoo/tiny:1")])
        .code(1)
        .stderr_has("does not allow deleting manifests")
        .stderr_has("storage.delete.enabled");
}

/// `--exclude` is the mirror of `--include`: the files it matches are never written.
#[test]
fn pull_exclude_leaves_out_what_it_matches() {
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let layout = format!("oci:{}:1", tmp.path().join("zoo").display());
    zoo_in(tmp.path(), &["push", "-q", suite.to_str().unwrap(), &layout]).ok();
    let out = tmp.path().join("out");
    zoo_in(
        tmp.path(),
        &["pull", "-q", &layout, "--exclude", "*.py", "--exclude", "docs/*", "-o", out.to_str().unwrap()],
    )
    .ok();
    let mut written = Vec::new();
    let mut expected = Vec::new();
    for (root, into) in [(&out, &mut written), (&suite, &mut expected)] {
        for entry in walk(root) {
            let rel = entry.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            if !rel.starts_with(".zoo-oci") {
                into.push(rel);
            }
        }
    }
    expected.retain(|p| !p.ends_with(".py") && !p.starts_with("docs/"));
    written.sort();
    expected.sort();
    assert!(!expected.is_empty());
    assert_eq!(written, expected);
    let both = tmp.path().join("both");
    let run = zoo_in(
        tmp.path(),
        &["pull", "-q", &layout, "--include", "*.py", "--exclude", "*.py", "-o", both.to_str().unwrap()],
    );
    run.code(4).stderr_has("matches nothing");
}

/// Every file under `root`, recursively.
fn walk(root: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() { pending.push(path) } else { files.push(path) }
        }
    }
    files
}

/// Help as good as ripgrep's: both location forms, global options apart from the command's
/// own, examples; no registry flags on commands that never talk to one. Pinned as snapshots.
#[test]
fn help_shows_locations_groups_options_and_examples() {
    let tmp = scratch();
    let help = |args: &[&str]| {
        let run = zoo_in(tmp.path(), args);
        run.ok();
        run.stdout.replace(env!("CARGO_PKG_VERSION"), "[VERSION]")
    };
    for command in ["push", "pull", "copy", "inspect", "diff", "index", "tag", "tags", "rm", "login"] {
        let text = help(&[command, "--help"]);
        let mut needles = vec!["Registry options:", "Global options:", "Examples:", "--plain-http"];
        if command != "login" {
            needles.extend(["HOST[:PORT]/REPO", "oci:PATH"]); // login takes a registry, not a location
        }
        for needle in needles {
            assert!(text.contains(needle), "{command} --help lacks {needle:?}:\n{text}");
        }
    }
    for command in ["init", "check", "gc", "logout", "completions", "man"] {
        let text = help(&[command, "--help"]);
        assert!(
            !text.contains("--plain-http") && !text.contains("--ca-file"),
            "{command} lists registry flags:\n{text}"
        );
        assert!(text.contains("Global options:"), "{command}:\n{text}");
    }
    insta::assert_snapshot!("help", help(&["--help"]));
    insta::assert_snapshot!("help_pull", help(&["pull", "--help"]));
    insta::assert_snapshot!("help_init", help(&["init", "--help"]));
}

/// Completion scripts generate for each shell, naming the commands; the man page is roff.
#[test]
fn completions_and_the_man_page_generate() {
    let tmp = scratch();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let run = zoo_in(tmp.path(), &["completions", shell]);
        run.ok();
        for command in ["push", "pull", "tags", "gc"] {
            assert!(run.stdout.contains(command), "{shell} completions lack {command}");
        }
    }
    {
        let script = tmp.path().join("zoo-oci.bash");
        fs::write(&script, zoo_in(tmp.path(), &["completions", "bash"]).stdout).unwrap();
        let out = std::process::Command::new("bash").arg("-n").arg(&script).output().unwrap();
        assert!(out.status.success(), "bash -n: {}", String::from_utf8_lossy(&out.stderr));
    }
    let man = zoo_in(tmp.path(), &["man"]);
    man.ok().stdout_has(".TH zoo-oci").stdout_has("completions");
    zoo_in(tmp.path(), &["completions", "tcsh"]).code(2);
}

/// The pull commands `inspect` and the index print can be pasted: they carry `--plain-http`
/// where the registry needs it, are shell-quoted, and run.
#[test]
fn printed_pull_commands_can_be_pasted() {
    let reg = Registry::plain();
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    zoo_in(tmp.path(), &["push", "-q", "--plain-http", suite.to_str().unwrap(), &reg.at("zoo/tiny:1")]).ok();
    let expected = format!("zoo-oci pull --plain-http {}/zoo/tiny:1 -o tiny", reg.addr);
    zoo_in(tmp.path(), &["inspect", "--plain-http", &reg.at("zoo/tiny:1")]).ok().stdout_has(&expected);
    let json = zoo_in(tmp.path(), &["inspect", "--plain-http", "--format", "json", &reg.at("zoo/tiny:1")]);
    let report: serde_json::Value = serde_json::from_str(&json.ok().stdout).unwrap();
    assert_eq!(report["pull"], expected.as_str());
    for format in ["json", "markdown", "html"] {
        let index = zoo_in(tmp.path(), &["index", "--plain-http", "--format", format, &reg.addr]);
        index.ok().stdout_has(&expected);
    }

    // A layout in a folder with a space: quoted, and the pasted command works.
    let spaced = tmp.path().join("my zoo");
    zoo_in(tmp.path(), &["push", "-q", suite.to_str().unwrap(), &format!("oci:{}:1", spaced.display())]).ok();
    let shown = zoo_in(tmp.path(), &["inspect", "--format", "json", &format!("oci:{}:1", spaced.display())]);
    let command =
        serde_json::from_str::<serde_json::Value>(&shown.ok().stdout).unwrap()["pull"].as_str().unwrap().to_string();
    assert!(command.contains(&format!("'oci:{}:1'", spaced.display())), "{command}");
    let words = shlex_split(&command);
    assert_eq!(&words[..2], ["zoo-oci", "pull"]);
    let args: Vec<&str> = words[1..].iter().map(String::as_str).collect();
    zoo_in(tmp.path(), &args).ok();
    assert_same_tree(&suite, &tmp.path().join("tiny"));
}

/// Splits a command line as `sh` would, by asking `sh`.
fn shlex_split(command: &str) -> Vec<String> {
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("for w in {}; do printf '%s\\0' \"$w\"; done", command.trim_start_matches("zoo-oci ")))
        .output()
        .unwrap();
    let mut words = vec!["zoo-oci".to_string()];
    words.extend(String::from_utf8(out.stdout).unwrap().split('\0').filter(|w| !w.is_empty()).map(String::from));
    words
}

/// On a pipe (a CI log, a pod's log), a long transfer says how far it is every few seconds,
/// as a plain line (or a JSON event), never a terminal control character.
#[test]
fn a_long_transfer_reports_progress_lines_on_a_pipe() {
    use crate::util::proxy::{Fault, FaultProxy};
    let reg = Registry::plain();
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    zoo_in(tmp.path(), &["push", "-q", "--plain-http", suite.to_str().unwrap(), &reg.at("zoo/tiny:1")]).ok();
    // The 70 kB ONNX model at 12 kB/s: about 6 s.
    let proxy = FaultProxy::start(&reg.addr, Fault::Throttle("/blobs/", 12_000));
    for (format, needle) in [("text", "moving  models/onnx/"), ("json", "\"event\":\"progress\"")] {
        let out = tmp.path().join(format!("out-{format}"));
        let run = zoo_in(
            tmp.path(),
            &[
                "pull",
                "--plain-http",
                "--log-format",
                format,
                "--only",
                "model",
                &proxy.at("zoo/tiny:1"),
                "-o",
                out.to_str().unwrap(),
            ],
        );
        run.ok().stderr_has(needle);
        assert!(
            !run.stderr.contains('\r') && !run.stderr.contains('\u{1b}'),
            "control characters on a pipe: {}",
            run.stderr
        );
        if format == "text" {
            let line = run.stderr.lines().find(|l| l.contains("moving")).unwrap();
            assert!(line.contains(" of ") && line.contains("kB") && line.ends_with("%)"), "{line}");
        }
    }
}

/// The hashing pass of a push reports itself: `hashing` events while it runs (a spinner on a
/// terminal) and a `hashed` event with every layer byte counted once.
#[test]
fn the_hashing_pass_reports_the_bytes_it_hashed() {
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let layout = format!("oci:{}:1", tmp.path().join("zoo").display());
    let push = zoo_in(tmp.path(), &["push", "--log-format", "json", suite.to_str().unwrap(), &layout]);
    push.ok();
    let hashed: serde_json::Value = push
        .stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|e| e["event"] == "hashed")
        .unwrap_or_else(|| panic!("no hashed event: {}", push.stderr));
    let inspect = zoo_in(tmp.path(), &["inspect", "--format", "json", &layout]);
    let report: serde_json::Value = serde_json::from_str(&inspect.ok().stdout).unwrap();
    let layer_bytes: u64 = report["layers"].as_array().unwrap().iter().map(|l| l["size"].as_u64().unwrap()).sum();
    assert_eq!(hashed["bytes"].as_u64().unwrap(), layer_bytes, "every layer byte hashed once");
}
