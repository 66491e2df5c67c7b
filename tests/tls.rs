//! TLS as private registries set it up, against real CNCF Distribution processes: the
//! self-signed certificate of Distribution's docs (its own CA), certs.d folders, and mutual TLS
//! with a client certificate from certs.d or from flags.

use std::fs;
use std::path::Path;

use crate::util::registry::*;
use crate::util::*;

/// Runs zoo-oci with an empty Docker config and an empty certs.d of its own, so no test sees
/// the machine's.
fn zoo(dir: &Path, args: &[&str]) -> Run {
    let config = dir.join("docker-config");
    fs::create_dir_all(&config).unwrap();
    let mut all: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    if !args.contains(&"--certs-dir") {
        let none = dir.join("no-certs.d");
        fs::create_dir_all(&none).unwrap();
        // After the command's name: registry flags belong to the commands that take them.
        all.splice(1..1, ["--certs-dir".to_string(), none.display().to_string()]);
    }
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    run_env(dir, &[("DOCKER_CONFIG", config.to_str().unwrap())], &all)
}

/// A registry serving the certificate `name`.crt / `name`.key of the test set.
fn serving(name: &str) -> Registry {
    let t = tls();
    Registry::start(Setup {
        tls: Some((t.file(&format!("{name}.crt")), t.file(&format!("{name}.key")))),
        ..Setup::default()
    })
}

/// The recipe in Distribution's docs makes a certificate that is its own CA (OpenSSL 3 marks
/// it `CA:TRUE`). Given with `--ca-file` or in certs.d, it is trusted because the server
/// presents exactly it; without it, the certificate is refused.
#[test]
fn the_self_signed_certificate_of_distributions_docs_is_trusted_when_given() {
    let reg = serving("domain");
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let at = reg.at("zoo/tiny:1");
    let cert = tls().file("domain.crt");
    let text = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-ext", "basicConstraints", "-in"])
        .arg(&cert)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&text.stdout).contains("CA:TRUE"), "the docs' recipe makes a CA certificate");

    zoo(tmp.path(), &["push", "-q", suite.to_str().unwrap(), &at]).code(1).stderr_has("not trusted");
    zoo(tmp.path(), &["push", "-q", "--ca-file", cert.to_str().unwrap(), suite.to_str().unwrap(), &at]).ok();
    // As the docs go on: the certificate copied to certs.d/HOST:PORT/ca.crt.
    let certs = tmp.path().join("certs.d");
    fs::create_dir_all(certs.join(&reg.addr)).unwrap();
    fs::copy(&cert, certs.join(&reg.addr).join("ca.crt")).unwrap();
    let out = tmp.path().join("out");
    zoo(tmp.path(), &["pull", "-q", "--certs-dir", certs.to_str().unwrap(), &at, "-o", out.to_str().unwrap()]).ok();
    assert_same_tree(&suite, &out);
}

/// Trusting the exact certificate does not trust it for another host name or outside its
/// validity period; and it is a pin, not a CA: another self-signed certificate is refused.
#[test]
fn a_given_self_signed_certificate_still_has_its_name_and_period_checked() {
    let tmp = scratch();
    let t = tls();
    let expired = serving("expired");
    let run =
        zoo(tmp.path(), &["inspect", "--ca-file", t.file("expired.crt").to_str().unwrap(), &expired.at("zoo/x:1")]);
    run.code(1).stderr_has("expired");

    let othername = serving("othername");
    let run =
        zoo(tmp.path(), &["inspect", "--ca-file", t.file("othername.crt").to_str().unwrap(), &othername.at("zoo/x:1")]);
    run.code(1).stderr_has("not valid for 127.0.0.1");

    let domain = serving("domain");
    let run =
        zoo(tmp.path(), &["inspect", "--ca-file", t.file("othername.crt").to_str().unwrap(), &domain.at("zoo/x:1")]);
    run.code(1).stderr_has("not trusted");
}

/// A registry that asks for a client certificate gets the one in certs.d (`client.cert` with
/// `client.key`, as docker reads them) or the one `--cert-file`/`--key-file` name; without one,
/// or with one it does not trust, the message says so.
#[test]
fn mutual_tls_presents_the_client_certificate_from_certs_d_or_the_flags() {
    let reg = Registry::mutual_tls();
    let tmp = scratch();
    let t = tls();
    let suite = small_suite(tmp.path());
    let at = reg.at("zoo/tiny:1");
    let ca = reg.ca_arg();

    let none = zoo(tmp.path(), &["push", "-q", "--ca-file", &ca, suite.to_str().unwrap(), &at]);
    none.code(1).stderr_has("asks for a client certificate").stderr_has("client.cert");

    let certs = tmp.path().join("certs.d");
    let host = certs.join(&reg.addr);
    fs::create_dir_all(&host).unwrap();
    fs::copy(t.file("ca.pem"), host.join("ca.crt")).unwrap();
    fs::copy(t.file("client.cert"), host.join("client.cert")).unwrap();
    let certs = certs.to_str().unwrap();
    // A certificate without its key is a setup error named as such.
    zoo(tmp.path(), &["push", "-q", "--certs-dir", certs, suite.to_str().unwrap(), &at]).code(2).stderr_has("no key");
    fs::copy(t.file("client.key"), host.join("client.key")).unwrap();
    zoo(tmp.path(), &["push", "-q", "--certs-dir", certs, suite.to_str().unwrap(), &at]).ok();

    let out = tmp.path().join("out");
    let (cert, key) = (t.file("client.cert"), t.file("client.key"));
    let flags = ["--ca-file", &ca, "--cert-file", cert.to_str().unwrap(), "--key-file", key.to_str().unwrap()];
    let mut pull = vec!["pull", "-q"];
    pull.extend(flags);
    pull.extend([at.as_str(), "-o", out.to_str().unwrap()]);
    zoo(tmp.path(), &pull).ok();
    assert_same_tree(&suite, &out);

    let (cert, key) = (t.file("stranger.cert"), t.file("stranger.key"));
    let stranger =
        ["inspect", "--ca-file", &ca, "--cert-file", cert.to_str().unwrap(), "--key-file", key.to_str().unwrap(), &at];
    zoo(tmp.path(), &stranger).code(1).stderr_has("refused the client certificate");
    zoo(tmp.path(), &["inspect", "--ca-file", &ca, "--cert-file", cert.to_str().unwrap(), &at]).code(2);
}
