//! A forward proxy as corporate networks run them (and as Dragonfly's dfdaemon serves
//! registries): plain-HTTP requests in absolute form are forwarded and logged; `CONNECT
//! HOST:PORT` opens a tunnel (the TLS inside stays end to end) and is logged. Not a fault
//! injector: the real thing, small, so that a test can see what went through it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

/// A running forward proxy on 127.0.0.1.
pub struct ForwardProxy {
    /// `127.0.0.1:PORT`.
    pub addr: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl ForwardProxy {
    /// Starts one; it lives as long as the test process.
    pub fn start() -> ForwardProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let log = Arc::new(Mutex::new(Vec::new()));
        let shared = log.clone();
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let log = shared.clone();
                thread::spawn(move || {
                    let _ = serve(client, &log);
                });
            }
        });
        ForwardProxy { addr, log }
    }

    /// `http://127.0.0.1:PORT`, for `HTTP_PROXY` and `HTTPS_PROXY`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Each request line it received (`CONNECT 127.0.0.1:5000 HTTP/1.1`, `GET http://… HTTP/1.1`).
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

/// Copies both ways until either side closes.
fn pipe(a: TcpStream, b: TcpStream) {
    let (mut a_read, mut b_write) = (a.try_clone().unwrap(), b.try_clone().unwrap());
    let up = thread::spawn(move || {
        let _ = std::io::copy(&mut a_read, &mut b_write);
        let _ = b_write.shutdown(Shutdown::Write);
    });
    let (mut b_read, mut a_write) = (b, a);
    let _ = std::io::copy(&mut b_read, &mut a_write);
    let _ = a_write.shutdown(Shutdown::Write);
    let _ = up.join();
}

fn serve(client: TcpStream, log: &Mutex<Vec<String>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let request = line.trim_end().to_string();
    log.lock().unwrap().push(request.clone());
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        headers.push(h);
    }
    let mut parts = request.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if method == "CONNECT" {
        let upstream = TcpStream::connect(target)?;
        let mut client = client;
        client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
        // What the client sent after the headers, already buffered, goes first.
        let buffered = reader.buffer().to_vec();
        let mut upstream_w = upstream.try_clone()?;
        upstream_w.write_all(&buffered)?;
        pipe(client, upstream);
        return Ok(());
    }
    // Absolute form: http://HOST:PORT/path → origin form to HOST:PORT, one request per
    // connection (Connection: close), the answer streamed back as it comes.
    let rest = target.strip_prefix("http://").unwrap_or(target);
    let (host, path) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}"))).unwrap_or((rest, "/".into()));
    let mut upstream = TcpStream::connect(host)?;
    let mut head = format!("{method} {path} HTTP/1.1\r\n");
    for h in headers.iter().filter(|h| {
        let lower = h.to_ascii_lowercase();
        !lower.starts_with("connection:") && !lower.starts_with("proxy-")
    }) {
        head.push_str(h);
    }
    head.push_str("Connection: close\r\n\r\n");
    upstream.write_all(head.as_bytes())?;
    let buffered = reader.buffer().to_vec();
    upstream.write_all(&buffered)?;
    let body_left = headers
        .iter()
        .find_map(|h| h.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<u64>().ok()))
        .flatten()
        .unwrap_or(0)
        .saturating_sub(buffered.len() as u64);
    if body_left > 0 {
        std::io::copy(&mut reader.get_mut().take(body_left), &mut upstream)?;
    }
    let mut client = client;
    std::io::copy(&mut upstream, &mut client)?;
    let _ = client.shutdown(Shutdown::Write);
    Ok(())
}
