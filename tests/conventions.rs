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
