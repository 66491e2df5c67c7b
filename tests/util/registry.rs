//! Real registry processes for the tests: CNCF Distribution (`docker-registry` from Debian),
//! plain HTTP or TLS with htpasswd, on free loopback ports, stopped on drop.

use std::fs;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::require_tool;

/// The user and password of the authenticated registries.
pub const USER: &str = "zoo-tester";
/// A password that must never show up in any output.
pub const PASSWORD: &str = "pw-Never-Print-7f3a9c";

/// A running registry.
pub struct Registry {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// The CA that signed its certificate (TLS registries).
    pub ca: Option<PathBuf>,
    dir: tempfile::TempDir,
}

/// The certificates of the TLS registries, made once per test run with openssl.
pub struct Tls {
    /// Where they are.
    pub dir: PathBuf,
}

impl Tls {
    /// A file of the set: `ca.pem` (the test CA), `server.pem`/`server.key` (signed by it),
    /// `domain.crt`/`domain.key` (self-signed, its own CA: the recipe of Distribution's docs),
    /// `expired.crt`/`expired.key` (the same, out of its validity period), `othername.crt`/
    /// `othername.key` (the same, for another host name), `client.cert`/`client.key` (a
    /// client certificate signed by the test CA), `stranger.cert`/`stranger.key` (a client
    /// certificate signed by nobody the registry trusts).
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// The test certificates.
pub fn tls() -> &'static Tls {
    static TLS: OnceLock<Tls> = OnceLock::new();
    TLS.get_or_init(|| {
        require_tool("openssl");
        let dir = std::env::temp_dir().join(format!("zoo-oci-test-tls-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let run = |args: &[&str]| {
            let out = Command::new("openssl").args(args).current_dir(&dir).output().expect("openssl runs");
            assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        };
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
        run(&[&["req", "-x509"], &ec[..], &["-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=zoo-oci test CA"]].concat());
        run(&[&["req"], &ec[..], &["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"]].concat());
        fs::write(
            dir.join("ext.cnf"),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        run(&[
            "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem",
            "-days", "2", "-extfile", "ext.cnf",
        ]);
        // Distribution's docs, "Use self-signed certificates", word for word but for the names.
        let san = "subjectAltName = IP:127.0.0.1,DNS:localhost";
        run(&["req", "-newkey", "rsa:4096", "-nodes", "-sha256", "-keyout", "domain.key", "-addext", san, "-x509", "-days", "365", "-out", "domain.crt", "-subj", "/CN=localhost"]);
        run(&[&["req", "-x509"], &ec[..], &["-keyout", "othername.key", "-out", "othername.crt", "-days", "365", "-subj", "/CN=registry.example", "-addext", "subjectAltName = DNS:registry.example"]].concat());
        // The same recipe out of its period: `openssl ca` is what sets past dates in OpenSSL 3.0.
        fs::write(
            dir.join("past.cnf"),
            "[ca]\ndefault_ca = past\n[past]\ndatabase = past.txt\nnew_certs_dir = .\nserial = past.serial\npolicy = any\ndefault_md = sha256\ncopy_extensions = copy\n[any]\ncommonName = supplied\n",
        )
        .unwrap();
        fs::write(dir.join("past.txt"), "").unwrap();
        fs::write(dir.join("past.serial"), "01\n").unwrap();
        run(&[&["req", "-new"], &ec[..], &["-keyout", "expired.key", "-out", "expired.csr", "-subj", "/CN=localhost", "-addext", san, "-addext", "basicConstraints=critical,CA:TRUE"]].concat());
        run(&["ca", "-batch", "-config", "past.cnf", "-selfsign", "-keyfile", "expired.key", "-in", "expired.csr", "-out", "expired.crt", "-startdate", "20200101000000Z", "-enddate", "20200102000000Z", "-notext"]);
        // Client certificates: one the registry trusts (signed by the test CA), one it does not.
        fs::write(dir.join("client.cnf"), "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n").unwrap();
        run(&[&["req"], &ec[..], &["-keyout", "client.key", "-out", "client.csr", "-subj", "/CN=zoo-oci test client"]].concat());
        run(&["x509", "-req", "-in", "client.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "client.cert", "-days", "2", "-extfile", "client.cnf"]);
        run(&[&["req", "-x509"], &ec[..], &["-keyout", "stranger.key", "-out", "stranger.cert", "-days", "2", "-subj", "/CN=stranger"]].concat());
        Tls { dir }
    })
}

/// How a test registry is set up.
#[derive(Default)]
pub struct Setup {
    /// Serve TLS with this certificate and key (None: plain HTTP).
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Ask clients for a certificate signed by this CA (mutual TLS).
    pub client_ca: Option<PathBuf>,
    /// htpasswd authentication with [`USER`] and [`PASSWORD`].
    pub auth: bool,
    /// Refuse to delete manifests (Distribution's default; the tests' registries allow it).
    pub no_delete: bool,
    /// A pull-through cache of this origin (`http://HOST:PORT`): Distribution's `proxy` mode.
    pub proxy_of: Option<String>,
    /// The largest catalogue page it gives (`catalog.maxentries`; Distribution's default 1000),
    /// refusing a larger `n`.
    pub catalog_max_entries: Option<u32>,
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Registry {
    /// A plain-HTTP registry without authentication.
    pub fn plain() -> Registry {
        Registry::start(Setup::default())
    }

    /// A pull-through cache in front of `origin` (Distribution's proxy mode), plain HTTP.
    pub fn pull_through(origin: &Registry) -> Registry {
        Registry::start(Setup { proxy_of: Some(format!("http://{}", origin.addr)), ..Setup::default() })
    }

    /// A TLS registry with htpasswd authentication ([`USER`], [`PASSWORD`]).
    pub fn tls_auth() -> Registry {
        Registry::tls_with(true, None)
    }

    /// A TLS registry without authentication.
    pub fn tls() -> Registry {
        Registry::tls_with(false, None)
    }

    /// A TLS registry with the test CA's server certificate.
    fn tls_with(auth: bool, client_ca: Option<PathBuf>) -> Registry {
        let t = tls();
        let mut registry = Registry::start(Setup {
            tls: Some((t.file("server.pem"), t.file("server.key"))),
            client_ca,
            auth,
            ..Setup::default()
        });
        registry.ca = Some(t.file("ca.pem"));
        registry
    }

    /// A TLS registry that wants a client certificate signed by the test CA.
    pub fn mutual_tls() -> Registry {
        Registry::tls_with(false, Some(tls().file("ca.pem")))
    }

    /// A registry set up as `setup` says.
    pub fn start(setup: Setup) -> Registry {
        require_tool("docker-registry");
        let dir = tempfile::Builder::new().prefix("zoo-oci-registry-").tempdir().unwrap();
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let mut config = format!(
            "version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: false\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: {}\nhttp:\n  addr: {addr}\n",
            dir.path().join("data").display(),
            !setup.no_delete
        );
        let ca = setup.tls.as_ref().map(|(cert, _)| cert.clone());
        if let Some((cert, key)) = &setup.tls {
            config.push_str(&format!("  tls:\n    certificate: {}\n    key: {}\n", cert.display(), key.display()));
            if let Some(client_ca) = &setup.client_ca {
                config.push_str(&format!("    clientcas:\n      - {}\n", client_ca.display()));
            }
        }
        if let Some(origin) = &setup.proxy_of {
            config.push_str(&format!("proxy:\n  remoteurl: {origin}\n"));
        }
        if let Some(n) = setup.catalog_max_entries {
            config.push_str(&format!("catalog:\n  maxentries: {n}\n"));
        }
        if setup.auth {
            require_tool("htpasswd");
            let htpasswd = dir.path().join("htpasswd");
            let out = Command::new("htpasswd").args(["-Bbc"]).arg(&htpasswd).args([USER, PASSWORD]).output().unwrap();
            assert!(out.status.success(), "htpasswd failed");
            config
                .push_str(&format!("auth:\n  htpasswd:\n    realm: zoo-oci-tests\n    path: {}\n", htpasswd.display()));
        }
        fs::write(dir.path().join("config.yml"), config).unwrap();
        let log = fs::File::create(dir.path().join("registry.log")).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(dir.path().join("config.yml"))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .expect("docker-registry starts");
        let registry = Registry { child, addr, ca, dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(&registry.addr).is_err() {
            assert!(Instant::now() < deadline, "the registry did not start:\n{}", registry.log());
            std::thread::sleep(Duration::from_millis(20));
        }
        registry
    }

    /// Stops the registry process; its data and address stay for [`start_again`](Self::start_again).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Freezes the registry process (SIGSTOP): its connections stay open and say nothing, as a
    /// hung server's do.
    pub fn pause(&self) {
        let status = Command::new("kill").args(["-STOP", &self.child.id().to_string()]).status().unwrap();
        assert!(status.success(), "kill -STOP");
    }

    /// Lets a paused registry go on (SIGCONT).
    pub fn resume(&self) {
        let status = Command::new("kill").args(["-CONT", &self.child.id().to_string()]).status().unwrap();
        assert!(status.success(), "kill -CONT");
    }

    /// Starts the registry again on the same address with the same data.
    pub fn start_again(&mut self) {
        let log = fs::OpenOptions::new().append(true).open(self.dir.path().join("registry.log")).unwrap();
        self.child = Command::new("docker-registry")
            .arg("serve")
            .arg(self.dir.path().join("config.yml"))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .expect("docker-registry starts");
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(&self.addr).is_err() {
            assert!(Instant::now() < deadline, "the registry did not start again");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Rewrites, in the registry's own storage, every blob `change` gives new bytes for (what
    /// tampering on the server looks like); gives how many it rewrote.
    pub fn tamper_in_storage(&self, change: impl Fn(&[u8]) -> Option<Vec<u8>>) -> usize {
        let blobs = self.data_dir().join("data/docker/registry/v2/blobs/sha256");
        let mut tampered = 0;
        for prefix in fs::read_dir(&blobs).unwrap().flatten() {
            for blob in fs::read_dir(prefix.path()).unwrap().flatten() {
                let data = blob.path().join("data");
                if let Some(changed) = change(&fs::read(&data).unwrap()) {
                    fs::write(&data, changed).unwrap();
                    tampered += 1;
                }
            }
        }
        tampered
    }

    /// `ADDR/REPO:TAG`.
    pub fn at(&self, repo_tag: &str) -> String {
        format!("{}/{repo_tag}", self.addr)
    }

    /// The registry's log so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// The requests in the access log, as `METHOD PATH` (query included), in order.
    pub fn requests(&self) -> Vec<String> {
        self.log()
            .lines()
            .filter_map(|line| {
                let start =
                    line.find("\"GET ").or_else(|| line.find("\"HEAD ")).or_else(|| line.find("\"PUT ")).or_else(
                        || line.find("\"POST ").or_else(|| line.find("\"PATCH ")).or_else(|| line.find("\"DELETE ")),
                    )?;
                let rest = &line[start + 1..];
                let end = rest.find(" HTTP/")?;
                Some(rest[..end].to_string())
            })
            .collect()
    }

    /// The blob downloads in the access log (Distribution's is the combined log format), each
    /// with its status and the bytes its answer carried: a ranged GET carries its part.
    pub fn blob_downloads(&self) -> Vec<(String, u16, u64)> {
        self.log()
            .lines()
            .filter_map(|line| {
                let start = line.find("\"GET ")?;
                let rest = &line[start + 1..];
                let (request, after) = rest.split_once(" HTTP/")?;
                if !request.contains("/blobs/sha256:") {
                    return None;
                }
                let mut fields = after.split_once("\" ")?.1.split(' ');
                let status = fields.next()?.parse().ok()?;
                let bytes = fields.next()?.parse().unwrap_or(0);
                Some((request.to_string(), status, bytes))
            })
            .collect()
    }

    /// The size of a blob the registry stores (Distribution's filesystem layout).
    pub fn blob_size(&self, digest: &str) -> u64 {
        let hex = digest.trim_start_matches("sha256:");
        let data = self.data_dir().join("data/docker/registry/v2/blobs/sha256").join(&hex[..2]).join(hex).join("data");
        fs::metadata(&data).unwrap_or_else(|e| panic!("{}: {e}", data.display())).len()
    }

    /// Forgets the requests so far (by truncating the log).
    pub fn clear_requests(&self) {
        // The registry appends with O_APPEND? It holds the file open: truncation works either way.
        fs::OpenOptions::new().write(true).truncate(true).open(self.dir.path().join("registry.log")).unwrap();
    }

    /// The CA file as a string argument.
    pub fn ca_arg(&self) -> String {
        self.ca.as_ref().expect("a TLS registry").display().to_string()
    }

    /// Where the registry stores its data.
    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Blob uploads started (POST …/blobs/uploads/ without mount) in these requests.
pub fn uploads(requests: &[String]) -> usize {
    requests.iter().filter(|r| r.starts_with("POST ") && r.contains("/blobs/uploads/") && !r.contains("mount=")).count()
}

/// A program in one of the virtualenvs scripts/setup.sh makes under `$ZOO_OCI_CACHE` (else
/// `~/.cache/zoo-oci`), `rel` below it, checked by running it with `probe`: a setup error naming
/// `what` when it is not there.
pub fn setup_tool(rel: &str, probe: &[&str], what: &str) -> PathBuf {
    let cache = std::env::var_os("ZOO_OCI_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/zoo-oci"));
    let program = cache.join(rel);
    let ok = Command::new(&program).args(probe).output().is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "setup error: {what} is not installed in {}; run scripts/setup.sh (scripts/test.sh runs it)",
        program.display()
    );
    program
}

/// The Python interpreter of the virtualenv holding the ORAS SDK.
pub fn oras_python() -> PathBuf {
    setup_tool("venv/bin/python", &["-c", "import oras.client"], "the ORAS Python SDK")
}

/// PyPI's `model_signing` command (model-signing 1.1.1).
pub fn model_signing() -> PathBuf {
    setup_tool("venv-model-signing/bin/model_signing", &["--help"], "model-signing")
}
