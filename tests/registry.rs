//! The registry target against real CNCF Distribution processes: round trips, incremental
//! pushes, mounts, credentials, TLS, and errors that say what to do.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde_json::Value;

use crate::util::registry::*;
use crate::util::*;

/// Runs zoo-oci with an empty Docker config of its own, so no test sees the real one.
fn zoo_in(dir: &Path, args: &[&str]) -> Run {
    let config = dir.join("docker-config");
    fs::create_dir_all(&config).unwrap();
    run_env(dir, &[("DOCKER_CONFIG", config.to_str().unwrap())], args)
}

fn zoo_env(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Run {
    let config = dir.join("docker-config");
    fs::create_dir_all(&config).unwrap();
    let mut all = vec![("DOCKER_CONFIG", config.to_str().unwrap())];
    all.extend_from_slice(env);
    run_env(dir, &all, args)
}

const CREDS: [(&str, &str); 2] = [("ZOO_OCI_USERNAME", USER), ("ZOO_OCI_PASSWORD", PASSWORD)];

#[test]
fn every_example_round_trips_through_a_plain_registry_byte_for_byte() {
    let reg = Registry::plain();
    let tmp = scratch();
    for name in ["iris-logreg", "squeezenet-light"] {
        let suite = example(name);
        let at = reg.at(&format!("zoo/{name}:v1"));
        zoo_in(tmp.path(), &["push", "-q", "--plain-http", suite.to_str().unwrap(), &at]).ok();
        let out = tmp.path().join(name);
        zoo_in(tmp.path(), &["pull", "-q", "--plain-http", &at, "-o", out.to_str().unwrap()]).ok();
        assert_same_tree(&suite, &out);
    }
}

#[test]
fn a_multi_framework_suite_round_trips_through_an_authenticated_tls_registry() {
    let reg = Registry::tls_auth();
    let tmp = scratch();
    let suite = example("squeezenet-light");
    let ca = reg.ca_arg();
    // Log in once: push and pull then read the Docker config.
    let login =
        zoo_in_stdin(tmp.path(), PASSWORD, &["login", &reg.addr, "-u", USER, "--password-stdin", "--ca-file", &ca]);
    login.ok().stderr_has("logged in");
    let at = reg.at("zoo/squeezenet:1.1.0");
    let pushed = zoo_in(tmp.path(), &["push", "-q", "--ca-file", &ca, suite.to_str().unwrap(), &at]);
    pushed.ok();
    let out = tmp.path().join("out");
    zoo_in(tmp.path(), &["pull", "-q", "--ca-file", &ca, &at, "-o", out.to_str().unwrap()]).ok();
    assert_same_tree(&suite, &out);
    let inspect = zoo_in(tmp.path(), &["inspect", "--format", "json", "--ca-file", &ca, &at]);
    let v: Value = serde_json::from_str(&inspect.ok().stdout).unwrap();
    assert_eq!(v["digest"].as_str().unwrap(), pushed.stdout.trim());
    assert!(v["annotations"]["io.zoo-oci.frameworks"].as_str().unwrap().contains(','), "several frameworks");
}

fn zoo_in_stdin(dir: &Path, stdin: &str, args: &[&str]) -> Run {
    use std::io::Write;
    let config = dir.join("docker-config");
    fs::create_dir_all(&config).unwrap();
    let mut child = zoo()
        .current_dir(dir)
        .env("DOCKER_CONFIG", &config)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn re_pushing_uploads_nothing_and_a_changed_script_uploads_only_its_layer() {
    let reg = Registry::plain();
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let at = reg.at("zoo/tiny:1");
    zoo_in(tmp.path(), &["push", "-q", "--plain-http", suite.to_str().unwrap(), &at]).ok();
    assert_eq!(uploads(&reg.requests()), 10, "9 layers and a config: {:?}", reg.requests());

    reg.clear_requests();
    let again = zoo_in(tmp.path(), &["push", "--plain-http", suite.to_str().unwrap(), &at]);
    again.ok().stderr_has("0 blobs uploaded");
    assert_eq!(uploads(&reg.requests()), 0, "{:?}", reg.requests());

    reg.clear_requests();
    write(&suite, "scripts/common.py", "X = 'changed'\n", false);
    zoo_in(tmp.path(), &["push", "--plain-http", suite.to_str().unwrap(), &at]).ok().stderr_has("2 blobs uploaded");
    let requests = reg.requests();
    assert_eq!(uploads(&requests), 2, "the scripts layer and the config: {requests:?}");
    assert_eq!(requests.iter().filter(|r| r.starts_with("PUT ") && r.contains("/manifests/")).count(), 1);
}

#[test]
fn uploads_are_monolithic_puts_of_the_stored_manifest_bytes() {
    let reg = Registry::plain();
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let layout = tmp.path().join("zoo");
    let local = run_in(tmp.path(), &["push", "-q", suite.to_str().unwrap(), &format!("oci:{}:1", layout.display())]);
    zoo_in(
        tmp.path(),
        &["copy", "-q", "--to-plain-http", &format!("oci:{}:1", layout.display()), &reg.at("zoo/tiny:1")],
    )
    .ok();
    let requests = reg.requests();
    assert_eq!(requests.iter().filter(|r| r.starts_with("PATCH ")).count(), 0, "monolithic: {requests:?}");
    // The registry holds the very bytes of the layout's manifest.
    let digest = local.stdout.trim();
    let raw =
        reg.data_dir().join("data/docker/registry/v2/blobs/sha256").join(&digest[7..9]).join(&digest[7..]).join("data");
    assert_eq!(fs::read(raw).unwrap(), blob(&layout, digest));
}

#[test]
fn copy_between_repositories_of_one_registry_mounts_instead_of_uploading() {
    let reg = Registry::plain();
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    zoo_in(tmp.path(), &["push", "-q", "--plain-http", suite.to_str().unwrap(), &reg.at("team-a/tiny:1")]).ok();
    reg.clear_requests();
    let copied = zoo_in(tmp.path(), &["copy", "--plain-http", &reg.at("team-a/tiny:1"), &reg.at("team-b/tiny:1")]);
    copied.ok().stderr_has("mounted");
    let requests = reg.requests();
    assert!(requests.iter().any(|r| r.contains("mount=")), "{requests:?}");
    assert_eq!(uploads(&requests), 0, "{requests:?}");
    let out = tmp.path().join("out");
    zoo_in(tmp.path(), &["pull", "-q", "--plain-http", &reg.at("team-b/tiny:1"), "-o", out.to_str().unwrap()]).ok();
    assert_same_tree(&suite, &out);
}

#[test]
fn registry_and_layout_copy_both_ways_and_tags_move() {
    let reg = Registry::plain();
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let pushed = zoo_in(tmp.path(), &["push", "-q", "--plain-http", suite.to_str().unwrap(), &reg.at("zoo/tiny:1")]);
    let digest = pushed.ok().stdout.trim().to_string();
    zoo_in(tmp.path(), &["tag", "--plain-http", &reg.at("zoo/tiny:1"), "stable"]).ok();
    let layout = tmp.path().join("mirror");
    let to_layout = zoo_in(
        tmp.path(),
        &[
            "copy",
            "--from-plain-http",
            &reg.at(&format!("zoo/tiny@{digest}")),
            &format!("oci:{}:stable", layout.display()),
        ],
    );
    assert_eq!(to_layout.ok().stdout.trim(), digest);
    let back = zoo_in(
        tmp.path(),
        &["copy", "-q", "--to-plain-http", &format!("oci:{}:stable", layout.display()), &reg.at("other/tiny")],
    );
    assert_eq!(back.ok().stdout.trim(), digest);
    let v: Value = serde_json::from_str(
        &zoo_in(tmp.path(), &["inspect", "--plain-http", "--format", "json", &reg.at("other/tiny:stable")]).ok().stdout,
    )
    .unwrap();
    assert_eq!(v["digest"], digest);
}

#[test]
fn unknown_repositories_and_tags_are_not_found() {
    let reg = Registry::plain();
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    zoo_in(tmp.path(), &["push", "-q", "--plain-http", suite.to_str().unwrap(), &reg.at("zoo/tiny:1")]).ok();
    zoo_in(tmp.path(), &["pull", "--plain-http", &reg.at("zoo/tiny:2"), "-o", "x"]).code(4);
    zoo_in(tmp.path(), &["inspect", "--plain-http", &reg.at("nobody/here:1")]).code(4);
    assert!(!tmp.path().join("x").exists());
}

#[test]
fn without_credentials_an_authenticated_registry_exits_3_with_a_login_hint() {
    let reg = Registry::tls_auth();
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    zoo_in(tmp.path(), &["push", "--ca-file", &reg.ca_arg(), suite.to_str().unwrap(), &reg.at("zoo/tiny:1")])
        .code(3)
        .stderr_has(&format!("zoo-oci login {}", reg.addr));
    let wrong = [("ZOO_OCI_USERNAME", USER), ("ZOO_OCI_PASSWORD", "wrong-password")];
    zoo_env(tmp.path(), &wrong, &["pull", "--ca-file", &reg.ca_arg(), &reg.at("zoo/tiny:1")]).code(3);
}

#[test]
fn login_checks_the_password_stores_it_0600_and_logout_removes_it() {
    let reg = Registry::tls_auth();
    let tmp = scratch();
    let ca = reg.ca_arg();
    let config = tmp.path().join("docker-config/config.json");
    zoo_in_stdin(
        tmp.path(),
        "not-the-password\n",
        &["login", &reg.addr, "-u", USER, "--password-stdin", "--ca-file", &ca],
    )
    .code(3);
    assert!(!config.exists(), "a refused login writes nothing");
    // An existing config keeps its other settings.
    fs::write(&config, r#"{"auths":{},"psFormat":"table {{.ID}}"}"#).unwrap();
    zoo_in_stdin(
        tmp.path(),
        &format!("{PASSWORD}\n"),
        &["login", &reg.addr, "-u", USER, "--password-stdin", "--ca-file", &ca],
    )
    .ok();
    let mode = fs::metadata(&config).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let v: Value = serde_json::from_slice(&fs::read(&config).unwrap()).unwrap();
    assert_eq!(v["psFormat"], "table {{.ID}}");
    assert!(v["auths"][&reg.addr]["auth"].is_string());
    let suite = small_suite(tmp.path());
    zoo_in(tmp.path(), &["push", "-q", "--ca-file", &ca, suite.to_str().unwrap(), &reg.at("zoo/tiny:1")]).ok();
    zoo_in(tmp.path(), &["logout", &reg.addr]).ok().stderr_has("removed");
    let v: Value = serde_json::from_slice(&fs::read(&config).unwrap()).unwrap();
    assert!(v["auths"].get(&reg.addr).is_none());
    zoo_in(tmp.path(), &["pull", "--ca-file", &ca, &reg.at("zoo/tiny:1"), "-o", "out"]).code(3);
}

#[test]
fn credentials_come_from_the_environment_podman_and_credential_helpers() {
    let reg = Registry::tls_auth();
    let tmp = scratch();
    let ca = reg.ca_arg();
    let suite = small_suite(tmp.path());
    let at = reg.at("zoo/tiny:1");
    zoo_env(tmp.path(), &CREDS, &["push", "-q", "--ca-file", &ca, suite.to_str().unwrap(), &at]).ok();

    // Podman's auth.json, named by REGISTRY_AUTH_FILE.
    let auth = base64(&format!("{USER}:{PASSWORD}"));
    let podman = tmp.path().join("auth.json");
    fs::write(&podman, format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, reg.addr)).unwrap();
    zoo_env(tmp.path(), &[("REGISTRY_AUTH_FILE", podman.to_str().unwrap())], &["inspect", "--ca-file", &ca, &at])
        .ok()
        .stdout_has("tiny 1.0.0");

    // A credential helper named in the Docker config's credHelpers.
    let bin = tmp.path().join("bin");
    let stored = tmp.path().join("helper-stored.json");
    write(
        &bin,
        "docker-credential-zootest",
        format!(
            "#!/bin/sh\ncase \"$1\" in\n  get) read server; printf '{{\"ServerURL\":\"%s\",\"Username\":\"{USER}\",\"Secret\":\"{PASSWORD}\"}}' \"$server\" ;;\n  store) cat > {} ;;\n  erase) cat > /dev/null ;;\nesac\n",
            stored.display()
        ),
        true,
    );
    let config_dir = tmp.path().join("helper-config");
    fs::create_dir_all(&config_dir).unwrap();
    fs::write(config_dir.join("config.json"), format!(r#"{{"credHelpers":{{"{}":"zootest"}}}}"#, reg.addr)).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let run = run_env(
        tmp.path(),
        &[("DOCKER_CONFIG", config_dir.to_str().unwrap()), ("PATH", &path)],
        &["inspect", "--ca-file", &ca, &at],
    );
    run.ok().stdout_has("tiny 1.0.0");

    // credsStore: the same helper for every registry; login stores through it, not in the file.
    fs::write(config_dir.join("config.json"), r#"{"credsStore":"zootest"}"#).unwrap();
    let env = [("DOCKER_CONFIG", config_dir.to_str().unwrap()), ("PATH", path.as_str())];
    run_env(tmp.path(), &env, &["inspect", "--ca-file", &ca, &at]).ok();
    let mut login = zoo()
        .current_dir(tmp.path())
        .envs(env)
        .args(["login", &reg.addr, "-u", USER, "--password-stdin", "--ca-file", &ca])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut login.stdin.take().unwrap(), PASSWORD.as_bytes()).unwrap();
    assert!(login.wait_with_output().unwrap().status.success());
    let handed: Value = serde_json::from_slice(&fs::read(&stored).unwrap()).unwrap();
    assert_eq!(handed["Secret"], PASSWORD);
    assert_eq!(handed["ServerURL"], reg.addr.as_str());
    let config = fs::read_to_string(config_dir.join("config.json")).unwrap();
    assert!(!config.contains(&base64(&format!("{USER}:{PASSWORD}"))), "the secret went to the helper, not the file");
}

fn base64(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[test]
fn secrets_never_appear_in_output_at_any_verbosity() {
    let reg = Registry::tls_auth();
    let tmp = scratch();
    let ca = reg.ca_arg();
    let suite = small_suite(tmp.path());
    let at = reg.at("zoo/tiny:1");
    let secret_forms = [PASSWORD.to_string(), base64(&format!("{USER}:{PASSWORD}"))];
    let runs = [
        zoo_env(tmp.path(), &CREDS, &["push", "-v", "--ca-file", &ca, suite.to_str().unwrap(), &at]),
        zoo_env(tmp.path(), &CREDS, &["pull", "-v", "--ca-file", &ca, &at, "-o", "out"]),
        zoo_env(
            tmp.path(),
            &[("ZOO_OCI_USERNAME", USER), ("ZOO_OCI_PASSWORD", PASSWORD)],
            &["pull", "-v", &at, "-o", "x"],
        ),
        zoo_in_stdin(
            tmp.path(),
            "wrong",
            &["login", "-v", &reg.addr, "-u", USER, "--password-stdin", "--ca-file", &ca],
        ),
        zoo_in_stdin(
            tmp.path(),
            PASSWORD,
            &["login", "-v", &reg.addr, "-u", USER, "--password-stdin", "--ca-file", &ca],
        ),
    ];
    for run in &runs {
        for secret in &secret_forms {
            assert!(
                !run.stdout.contains(secret.as_str()) && !run.stderr.contains(secret.as_str()),
                "{}\n{}",
                run.stdout,
                run.stderr
            );
        }
    }
    assert_eq!(runs[0].code, 0);
    runs[0].stderr_has(&format!("credentials for {}: from ZOO_OCI_USERNAME/ZOO_OCI_PASSWORD", reg.addr));
    assert_eq!(runs[2].code, 1, "no --ca-file: untrusted certificate");
}

#[test]
fn an_untrusted_certificate_hints_at_ca_file_and_ca_file_works_whatever_ssl_cert_file_says() {
    let reg = Registry::tls();
    let tmp = scratch();
    let at = reg.at("zoo/tiny:1");
    zoo_in(tmp.path(), &["inspect", &at]).code(1).stderr_has("not trusted").stderr_has("--ca-file");
    let suite = small_suite(tmp.path());
    let bogus = tmp.path().join("bogus.pem");
    fs::write(&bogus, "not a certificate").unwrap();
    zoo_env(
        tmp.path(),
        &[("SSL_CERT_FILE", bogus.to_str().unwrap())],
        &["push", "-q", "--ca-file", &reg.ca_arg(), suite.to_str().unwrap(), &at],
    )
    .ok();
    zoo_in(tmp.path(), &["inspect", "--ca-file", bogus.to_str().unwrap(), &at])
        .code(2)
        .stderr_has("no PEM certificate");
}

#[test]
fn transport_mistakes_get_hints_naming_the_address() {
    let plain = Registry::plain();
    let tls = Registry::tls();
    let tmp = scratch();
    zoo_in(tmp.path(), &["inspect", &plain.at("zoo/tiny:1")])
        .code(1)
        .stderr_has(&plain.addr)
        .stderr_has("--plain-http");
    zoo_in(tmp.path(), &["inspect", "--plain-http", &tls.at("zoo/tiny:1")]).code(1).stderr_has("drop --plain-http");
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    zoo_in(tmp.path(), &["inspect", "--retry-timeout", "0", &format!("127.0.0.1:{closed}/zoo/tiny:1")])
        .code(1)
        .stderr_has(&format!("connection refused by 127.0.0.1:{closed}"));
}

#[test]
fn a_registry_refusing_monolithic_uploads_gets_chunked_ones() {
    let reg = Registry::plain();
    let proxy = crate::util::proxy::FaultProxy::start(&reg.addr, crate::util::proxy::Fault::RefuseMonolithic);
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    zoo_in(tmp.path(), &["push", "-q", "--plain-http", suite.to_str().unwrap(), &proxy.at("zoo/tiny:1")]).ok();
    assert!(!proxy.faults().is_empty(), "the monolithic PUT was tried first");
    assert!(reg.requests().iter().any(|r| r.starts_with("PATCH ")), "then chunks: {:?}", reg.requests());
    let out = tmp.path().join("out");
    zoo_in(tmp.path(), &["pull", "-q", "--plain-http", &reg.at("zoo/tiny:1"), "-o", out.to_str().unwrap()]).ok();
    assert_same_tree(&suite, &out);
}

#[test]
fn transient_failures_are_retried_without_repeating_finished_uploads() {
    let reg = Registry::plain();
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    // Two 503s on blob uploads: each blob is tried again after a HEAD.
    let proxy =
        crate::util::proxy::FaultProxy::start(&reg.addr, crate::util::proxy::Fault::Unavailable("/blobs/uploads/", 2));
    let pushed = zoo_in(tmp.path(), &["push", "--plain-http", suite.to_str().unwrap(), &proxy.at("zoo/tiny:1")]);
    pushed.ok().stderr_has("retry");
    assert_eq!(proxy.faults().len(), 2, "{:?}", proxy.faults());
    // A download cut mid-blob is started again, and the pull still verifies every byte.
    let proxy =
        crate::util::proxy::FaultProxy::start(&reg.addr, crate::util::proxy::Fault::CutResponse("/blobs/sha256:", 1));
    let out = tmp.path().join("out");
    zoo_in(tmp.path(), &["pull", "--plain-http", &proxy.at("zoo/tiny:1"), "-o", out.to_str().unwrap()]).ok();
    assert_eq!(proxy.faults().len(), 1, "{:?}", proxy.faults());
    assert_same_tree(&suite, &out);
}

#[test]
fn a_registry_that_stays_down_fails_with_the_error_after_retrying() {
    let reg = Registry::plain();
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let proxy = crate::util::proxy::FaultProxy::start(
        &reg.addr,
        crate::util::proxy::Fault::Unavailable("/blobs/uploads/", 1000),
    );
    zoo_in(
        tmp.path(),
        &["push", "--plain-http", "--retry-timeout", "5s", suite.to_str().unwrap(), &proxy.at("zoo/tiny:1")],
    )
    .code(1)
    .stderr_has("HTTP 503");
    assert!(
        reg.requests().iter().all(|r| !r.contains("/manifests/") || !r.starts_with("PUT")),
        "no manifest without its blobs"
    );
}

#[test]
fn bearer_token_challenges_are_answered_with_the_configured_credentials() {
    use crate::util::proxy::{Fault, FaultProxy, TOKEN};
    let reg = Registry::plain();
    let proxy = FaultProxy::start(&reg.addr, Fault::BearerAuth(USER, PASSWORD));
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let at = proxy.at("zoo/tiny:1");
    zoo_in(tmp.path(), &["push", "--plain-http", suite.to_str().unwrap(), &at]).code(3).stderr_has("zoo-oci login");
    let login = zoo_in_stdin(
        tmp.path(),
        PASSWORD,
        &["login", "-v", "--plain-http", &proxy.addr, "-u", USER, "--password-stdin"],
    );
    login.ok();
    let push = zoo_in(tmp.path(), &["push", "-v", "--plain-http", suite.to_str().unwrap(), &at]);
    push.ok();
    let out = tmp.path().join("out");
    zoo_in(tmp.path(), &["pull", "-q", "--plain-http", &at, "-o", out.to_str().unwrap()]).ok();
    assert_same_tree(&suite, &out);
    let seen = proxy.seen.lock().unwrap().clone();
    assert!(seen.iter().any(|l| l == "TOKEN granted"), "{seen:?}");
    for run in [&login, &push] {
        assert!(!run.stderr.contains(TOKEN) && !run.stdout.contains(TOKEN), "the token leaked");
        assert!(!run.stderr.contains(PASSWORD), "the password leaked");
    }
    let wrong =
        zoo_in_stdin(tmp.path(), "nope", &["login", "--plain-http", &proxy.addr, "-u", USER, "--password-stdin"]);
    wrong.code(3);
}

/// A failed copy says which side failed, in the message and as data in JSON logs.
#[test]
fn copy_errors_name_the_side_that_failed() {
    let reg = Registry::plain();
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let layout = format!("oci:{}", tmp.path().join("zoo").display());
    zoo_in(tmp.path(), &["push", "-q", suite.to_str().unwrap(), &format!("{layout}:1.0")]).ok();

    let missing = zoo_in(tmp.path(), &["copy", "--plain-http", &format!("{layout}:2.0"), &reg.at("zoo/tiny:2.0")]);
    missing.code(4).stderr_has(&format!("error: source {layout}: ")).stderr_has("the tags are: 1.0");

    // Nothing listens on the destination's port: the destination failed.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let refused = zoo_in(
        tmp.path(),
        &[
            "copy",
            "--retry-timeout",
            "0",
            "--log-format",
            "json",
            &format!("{layout}:1.0"),
            &format!("127.0.0.1:{port}/zoo/tiny"),
        ],
    );
    refused.code(1);
    let line = refused.stderr.lines().last().unwrap();
    let event: Value = serde_json::from_str(line).unwrap();
    assert_eq!(event["side"], "destination", "{line}");
    assert!(event["message"].as_str().unwrap().contains("refused"), "{line}");
}

/// A registry's CA is read from a certs.d folder laid out as docker's and podman's
/// (`HOST:PORT/ca.crt`); `--insecure` verifies nothing and says so on every run.
#[test]
fn certs_d_folders_are_read_as_docker_reads_them_and_insecure_warns() {
    let reg = Registry::tls();
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let at = reg.at("zoo/tiny:1");
    let certs = tmp.path().join("certs.d");
    let empty = tmp.path().join("empty.d");
    fs::create_dir_all(certs.join(&reg.addr)).unwrap();
    fs::create_dir_all(&empty).unwrap();
    fs::copy(reg.ca.as_ref().unwrap(), certs.join(&reg.addr).join("ca.crt")).unwrap();
    let (certs, empty) = (certs.to_str().unwrap(), empty.to_str().unwrap());

    zoo_in(tmp.path(), &["push", "-q", "--certs-dir", empty, suite.to_str().unwrap(), &at])
        .code(1)
        .stderr_has("not trusted");
    zoo_in(tmp.path(), &["push", "-q", "--certs-dir", certs, suite.to_str().unwrap(), &at]).ok();
    let out = tmp.path().join("out");
    zoo_in(tmp.path(), &["pull", "-q", "--certs-dir", certs, &at, "-o", out.to_str().unwrap()]).ok();
    assert_same_tree(&suite, &out);

    let insecure = zoo_in(tmp.path(), &["inspect", "--certs-dir", empty, "--insecure", &at]);
    insecure.ok().stderr_has("warning: --insecure");
}
