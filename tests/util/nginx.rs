//! nginx from Debian in front of a registry, limiting the rate of each connection
//! (`limit_rate`), as CDNs and object-store backends do: what a download in parallel byte ranges
//! is for. Buffered proxying (`proxy_buffering on`, no temp file) so that the limit applies to
//! what the client reads, and `Range` goes through to the registry, which answers 206.

use std::fs;
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::registry::free_port;

/// A running nginx; stopped when dropped.
pub struct Nginx {
    child: Child,
    /// `127.0.0.1:PORT` to point clients at.
    pub addr: String,
    dir: tempfile::TempDir,
}

/// How nginx treats `Range`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Ranges {
    /// Passed to the registry, whose 206 answers come back.
    Passed,
    /// Taken off every request: the registry sends whole blobs (200), as some proxies do.
    Dropped,
}

impl Nginx {
    /// nginx on a free port proxying to `upstream` (`HOST:PORT`, plain HTTP), each connection
    /// sent at most `bytes_per_second`.
    pub fn limiting(upstream: &str, bytes_per_second: u64, ranges: Ranges) -> Nginx {
        let ok = Command::new(nginx()).arg("-v").output().map(|o| o.status.success()).unwrap_or(false);
        assert!(ok, "setup error: nginx is not installed; run scripts/test.sh (it installs nginx-light)");
        let dir = tempfile::Builder::new().prefix("zoo-oci-nginx-").tempdir().unwrap();
        let d = dir.path().display();
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let range_rules = match ranges {
            Ranges::Passed => String::new(),
            Ranges::Dropped => "      proxy_set_header Range \"\";\n      max_ranges 0;\n".to_string(),
        };
        let config = format!(
            "worker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
             events {{ worker_connections 256; }}\n\
             http {{\n  log_format timed '$status $body_bytes_sent $msec $request_time \"$request\"';\n\
             \x20 access_log {d}/access.log timed;\n\
             \x20 client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n\
             \x20 uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
             \x20 server {{\n    listen {addr};\n    client_max_body_size 0;\n\
             \x20   location / {{\n      proxy_pass http://{upstream};\n      proxy_set_header Host $http_host;\n\
             \x20     proxy_http_version 1.1;\n      proxy_buffering on;\n      proxy_max_temp_file_size 0;\n\
             \x20     limit_rate {bytes_per_second};\n{range_rules}    }}\n  }}\n}}\n"
        );
        let conf = dir.path().join("nginx.conf");
        fs::write(&conf, config).unwrap();
        let child = Command::new(nginx())
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&conf)
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .args(["-g", "daemon off; user root;"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx starts");
        let nginx = Nginx { child, addr, dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(&nginx.addr).is_err() {
            assert!(Instant::now() < deadline, "nginx did not start:\n{}", nginx.error_log());
            std::thread::sleep(Duration::from_millis(20));
        }
        nginx
    }

    /// `ADDR/REPO:TAG` through nginx.
    pub fn at(&self, repo_tag: &str) -> String {
        format!("{}/{repo_tag}", self.addr)
    }

    /// The answers to the GETs whose request line contains `pattern`, in the access log:
    /// `(status, body bytes, start, end)`, the times in seconds (nginx logs the end, `$msec`,
    /// and the duration, `$request_time`).
    pub fn answers(&self, pattern: &str) -> Vec<(u16, u64, f64, f64)> {
        let log = fs::read_to_string(self.dir.path().join("access.log")).unwrap_or_default();
        log.lines()
            .filter(|l| l.contains(pattern) && l.contains("\"GET "))
            .filter_map(|l| {
                let mut fields = l.split(' ');
                let status = fields.next()?.parse().ok()?;
                let bytes = fields.next()?.parse().ok()?;
                let end: f64 = fields.next()?.parse().ok()?;
                let took: f64 = fields.next()?.parse().ok()?;
                Some((status, bytes, end - took, end))
            })
            .collect()
    }

    fn error_log(&self) -> String {
        fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The nginx binary: on `PATH`, else where Debian puts it (`/usr/sbin`, not on every user's
/// `PATH`).
fn nginx() -> PathBuf {
    let debian = PathBuf::from("/usr/sbin/nginx");
    if debian.is_file() { debian } else { PathBuf::from("nginx") }
}
