//! The static binary and the container image (issue 4, point 5): `scripts/build-static.sh` and
//! `scripts/build-image.sh`, checked with ldd, a real registry addressed by name, skopeo, and the
//! bytes of the image's layer.

use std::fs;
use std::io::{self, Read};
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::util::registry::Registry;
use crate::util::*;

/// Inputs of the scripts that must come from the test, not from the shell that runs it.
const SCRIPT_INPUTS: [&str; 8] =
    ["BINARY", "IMAGE_DIR", "TAG", "TARGET_DIR", "SOURCE_DATE_EPOCH", "CA_BUNDLE", "SOURCE_URL", "RUSTFLAGS"];

/// Runs `scripts/NAME` in `cwd` with `PROFILE=dev` (the build the other tests reuse) and `env`;
/// returns its stdout after asserting success, with its stderr shown on failure.
fn script(name: &str, cwd: &Path, env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new(repo().join("scripts").join(name));
    cmd.current_dir(cwd).env("PROFILE", "dev").stdin(Stdio::null());
    // The static build shares nothing with the test build (its own RUSTFLAGS and folder): no
    // debug info at all saves its generation and linking, and the tests read no backtrace from it.
    cmd.env("CARGO_PROFILE_DEV_DEBUG", "false");
    for var in SCRIPT_INPUTS {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap_or_else(|e| panic!("scripts/{name} runs: {e}"));
    assert!(
        out.status.success(),
        "scripts/{name} failed ({})\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 stdout")
}

/// The last line a script printed.
fn last_line(stdout: &str) -> String {
    stdout.lines().last().expect("the script printed a last line").to_string()
}

/// The static binary, built (or found up to date) by `scripts/build-static.sh`.
fn static_binary() -> String {
    last_line(&script("build-static.sh", &repo(), &[]))
}

/// `sha256:HEX` of a file.
fn file_digest(path: &Path) -> String {
    let mut file = fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut hasher = HashingReader { inner: &mut file, hasher: Sha256::new() };
    io::copy(&mut hasher, &mut io::sink()).unwrap();
    hasher.digest()
}

/// Hashes what is read through it.
struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

impl<R> HashingReader<R> {
    fn digest(self) -> String {
        format!("sha256:{}", hex::encode(self.hasher.finalize()))
    }
}

/// Runs skopeo and parses the JSON it prints.
fn skopeo(args: &[&str]) -> Value {
    let out = Command::new("skopeo").args(args).output().expect("skopeo runs");
    assert!(out.status.success(), "skopeo {args:?}:\n{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("skopeo prints JSON")
}

/// The OCI name of the architecture these tests run on.
fn oci_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

#[test]
fn the_static_binary_has_no_dynamic_dependencies_and_pulls_from_a_registry_named_localhost() {
    require_tool("ldd");
    let binary = static_binary();
    let ldd = Command::new("ldd").arg(&binary).output().expect("ldd runs");
    let said = format!("{}{}", String::from_utf8_lossy(&ldd.stdout), String::from_utf8_lossy(&ldd.stderr));
    assert!(said.contains("statically linked") || said.contains("not a dynamic executable"), "ldd {binary}:\n{said}");

    // Pushed by the ordinary (dynamic) test binary, through a layout whose manifest names the layers.
    let reg = Registry::plain();
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let layout = tmp.path().join("layout");
    let local = format!("oci:{}:1", layout.display());
    let docker_config = tmp.path().join("docker-config");
    fs::create_dir_all(&docker_config).unwrap();
    let config_env = [("DOCKER_CONFIG", docker_config.to_str().unwrap())];
    run_in(tmp.path(), &["push", "-q", suite.to_str().unwrap(), &local]).ok();
    run_env(tmp.path(), &config_env, &["copy", "-q", "--to-plain-http", &local, &reg.at("zoo/tiny:1")]).ok();
    let mut model_layers: Vec<String> = manifest(&layout, "1")["layers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|layer| layer["annotations"]["io.zoo-oci.class"] == "model")
        .map(|layer| layer["digest"].as_str().unwrap().to_string())
        .collect();
    model_layers.sort();
    assert_eq!(model_layers.len(), 3, "the small suite has three weight files in two model variants");

    // The static binary resolves `localhost` itself (hickory-dns), with no NSS plugin and no credentials.
    reg.clear_requests();
    let port = reg.addr.rsplit(':').next().unwrap();
    let out = tmp.path().join("out");
    let pulled = Command::new(&binary)
        .current_dir(tmp.path())
        .env("DOCKER_CONFIG", &docker_config)
        .env_remove("ZOO_OCI_USERNAME")
        .env_remove("ZOO_OCI_PASSWORD")
        .args(["pull", "--plain-http", &format!("localhost:{port}/zoo/tiny:1"), "-o"])
        .arg(&out)
        .args(["--only", "model"])
        .output()
        .expect("the static binary runs");
    assert!(
        pulled.status.success(),
        "static pull failed ({}):\n{}",
        pulled.status,
        String::from_utf8_lossy(&pulled.stderr)
    );
    assert_same_tree(&suite.join("models"), &out.join("models"));
    let others: Vec<String> =
        tree(&out).into_iter().map(|(name, _, _)| name).filter(|name| !name.starts_with("models/")).collect();
    assert!(others.is_empty(), "only the models were pulled: {others:?}");

    let requests = reg.requests();
    let mut fetched: Vec<String> = requests
        .iter()
        .filter(|r| r.starts_with("GET ") && r.contains("/blobs/"))
        .map(|r| r.rsplit('/').next().unwrap().to_string())
        .collect();
    fetched.sort();
    assert_eq!(fetched, model_layers, "exactly the model layers were downloaded: {requests:?}");
}

/// One entry of the image's layer: name, is a directory, mode, uid, gid, mtime, user and group
/// names, digest of the content.
#[derive(Debug)]
struct LayerEntry {
    name: String,
    dir: bool,
    mode: u32,
    owner: (u64, u64),
    mtime: u64,
    names: (String, String),
    digest: String,
}

/// Lists the gzip layer at `path` (with `gzip -dc`) and returns its entries and the digest of the
/// uncompressed tar; the content of `zoo-oci` is also written to `extract_binary`.
fn read_layer(path: &Path, extract_binary: &Path) -> (Vec<LayerEntry>, String) {
    let mut gzip = Command::new("gzip")
        .arg("-dc")
        .arg(path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("gzip runs");
    let mut tar = tar::Archive::new(HashingReader { inner: gzip.stdout.take().unwrap(), hasher: Sha256::new() });
    let mut entries = Vec::new();
    for entry in tar.entries().unwrap() {
        let mut entry = entry.unwrap();
        let header = entry.header().clone();
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let text = |bytes: Option<&[u8]>| String::from_utf8_lossy(bytes.unwrap_or_default()).into_owned();
        let mut content = HashingReader { inner: &mut entry, hasher: Sha256::new() };
        if name == "zoo-oci" {
            io::copy(&mut content, &mut fs::File::create(extract_binary).unwrap()).unwrap();
        } else {
            io::copy(&mut content, &mut io::sink()).unwrap();
        }
        entries.push(LayerEntry {
            name,
            dir: header.entry_type().is_dir(),
            mode: header.mode().unwrap(),
            owner: (header.uid().unwrap(), header.gid().unwrap()),
            mtime: header.mtime().unwrap(),
            names: (text(header.username_bytes()), text(header.groupname_bytes())),
            digest: content.digest(),
        });
    }
    // The end-of-archive blocks count in the diff_id too.
    let mut rest = tar.into_inner();
    io::copy(&mut rest, &mut io::sink()).unwrap();
    let status = gzip.wait().unwrap();
    assert!(status.success(), "gzip -dc {}: {status}", path.display());
    (entries, rest.digest())
}

#[test]
fn build_image_makes_a_valid_reproducible_oci_image() {
    for tool in ["skopeo", "gzip", "python3"] {
        require_tool(tool);
    }
    let tmp = scratch();
    let dir = tmp.path().join("image");
    let stdout = script("build-image.sh", &repo(), &[("IMAGE_DIR", dir.to_str().unwrap()), ("TAG", "test")]);
    let location = format!("oci:{}:test", dir.display());
    assert_eq!(stdout, format!("{location}\n"), "stdout holds the location only; the rest goes to stderr");
    let binary = static_binary();

    // Layout: every blob is what its name says; one manifest, one config, one gzip layer.
    for blob in fs::read_dir(dir.join("blobs/sha256")).unwrap() {
        let blob = blob.unwrap();
        assert_eq!(file_digest(&blob.path()), format!("sha256:{}", blob.file_name().to_string_lossy()));
    }
    let index = index_json(&dir);
    let tagged = &index["manifests"][0];
    assert_eq!(index["manifests"].as_array().unwrap().len(), 1, "{index}");
    assert_eq!(tagged["mediaType"], "application/vnd.oci.image.manifest.v1+json");
    let digest = tagged["digest"].as_str().unwrap().to_string();
    let m = manifest(&dir, "test");
    assert_eq!(m["mediaType"], "application/vnd.oci.image.manifest.v1+json");
    assert_eq!(m["config"]["mediaType"], "application/vnd.oci.image.config.v1+json");
    let layers = m["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1, "{m}");
    assert_eq!(layers[0]["mediaType"], "application/vnd.oci.image.layer.v1.tar+gzip");

    // skopeo reads it as an image: its config and its platform.
    let config = skopeo(&["inspect", "--config", &location]);
    let run = &config["config"];
    assert_eq!(run["Entrypoint"], serde_json::json!(["/zoo-oci"]), "{config}");
    assert_eq!(run["Cmd"], serde_json::json!(["--help"]));
    assert_eq!(run["User"], "65532:65532");
    assert_eq!(run["WorkingDir"], "/");
    let env: Vec<&str> = run["Env"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert!(env.contains(&"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"), "{env:?}");
    assert_eq!(run["Labels"]["org.opencontainers.image.title"], "zoo-oci");
    assert_eq!(run["Labels"]["org.opencontainers.image.version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(run["Labels"]["org.opencontainers.image.licenses"], "Apache-2.0");
    assert_eq!(config["rootfs"]["type"], "layers");
    assert_eq!(config["history"].as_array().unwrap().len(), 1);
    let image = skopeo(&["inspect", &location]);
    assert_eq!(image["Os"], "linux", "{image}");
    assert_eq!(image["Architecture"], oci_arch());
    assert_eq!(image["Digest"], digest.as_str());

    // The layer: exactly the binary, the CA roots, /tmp and /models, owned by 0:0 at time 0.
    let layer = blob_path(&dir, layers[0]["digest"].as_str().unwrap());
    let head = fs::read(&layer).unwrap();
    assert_eq!(head[..2], [0x1f, 0x8b], "gzip");
    assert_eq!(head[3] & 0x08, 0, "no file name in the gzip header");
    assert_eq!(head[4..8], [0, 0, 0, 0], "no time in the gzip header");
    drop(head);
    let from_image = tmp.path().join("zoo-oci-from-image");
    let (entries, diff_id) = read_layer(&layer, &from_image);
    assert_eq!(config["rootfs"]["diff_ids"], serde_json::json!([diff_id]), "diff_id = sha256 of the tar");
    let listed: Vec<(&str, bool, u32)> = entries.iter().map(|e| (e.name.as_str(), e.dir, e.mode)).collect();
    assert_eq!(
        listed,
        [
            ("etc/", true, 0o755),
            ("etc/ssl/", true, 0o755),
            ("etc/ssl/certs/", true, 0o755),
            ("etc/ssl/certs/ca-certificates.crt", false, 0o644),
            ("models/", true, 0o777),
            ("tmp/", true, 0o1777),
            ("zoo-oci", false, 0o755),
        ]
    );
    for e in &entries {
        assert_eq!((e.owner, e.mtime, &e.names), ((0, 0), 0, &(String::new(), String::new())), "{e:?}");
    }
    let content = |name: &str| entries.iter().find(|e| e.name == name).unwrap().digest.clone();
    assert_eq!(content("zoo-oci"), file_digest(Path::new(&binary)), "/zoo-oci is the static binary");
    assert_eq!(
        content("etc/ssl/certs/ca-certificates.crt"),
        file_digest(Path::new("/etc/ssl/certs/ca-certificates.crt")),
        "the host's CA roots"
    );

    // The same inputs again (the binary's bytes with another path, time and mode; another
    // folder, given relative to the caller) give the same manifest.
    fs::set_permissions(&from_image, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let again = script(
        "build-image.sh",
        tmp.path(),
        &[("BINARY", "zoo-oci-from-image"), ("IMAGE_DIR", "again"), ("TAG", "test")],
    );
    let again_dir = tmp.path().join("again");
    assert_eq!(again, format!("oci:{}:test\n", again_dir.display()));
    assert_eq!(index_json(&again_dir)["manifests"][0]["digest"], digest.as_str(), "reproducible");

    // Ready for a registry: zoo-oci copies it, skopeo reads it back from there.
    let reg = Registry::plain();
    let docker_config = tmp.path().join("docker-config");
    fs::create_dir_all(&docker_config).unwrap();
    let remote = reg.at("tools/zoo-oci:test");
    run_env(
        tmp.path(),
        &[("DOCKER_CONFIG", docker_config.to_str().unwrap())],
        &["copy", "-q", "--to-plain-http", &location, &remote],
    )
    .ok();
    let pushed = skopeo(&["inspect", "--tls-verify=false", &format!("docker://{remote}")]);
    assert_eq!(pushed["Digest"], digest.as_str(), "{pushed}");
    assert_eq!(pushed["Os"], "linux");
    assert_eq!(pushed["Architecture"], oci_arch());
}
