//! An HTTP proxy in front of a real registry that injects the faults a real server will not
//! produce on demand: refusing monolithic uploads, transient 503s, connections cut mid-blob.
//! One request per connection (it answers `Connection: close`), which every client handles.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

/// What to do to requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answer 405 to a PUT of an upload that carries the blob's bytes (a monolithic upload).
    RefuseMonolithic,
    /// Answer 503 to the first N requests whose line contains the pattern.
    Unavailable(&'static str, usize),
    /// Forward the first N matching GETs but cut the response after half of its body.
    CutResponse(&'static str, usize),
}

/// A running proxy; stops accepting when dropped.
pub struct FaultProxy {
    /// `127.0.0.1:PORT` to point clients at.
    pub addr: String,
    /// Every request line seen, with the status the proxy answered itself, if any.
    pub seen: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl FaultProxy {
    /// Starts a proxy to `upstream` (a plain-HTTP registry) injecting `fault`.
    pub fn start(upstream: &str, fault: Fault) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let matched = Arc::new(AtomicUsize::new(0));
        let (upstream, seen2, stop2) = (upstream.to_string(), seen.clone(), stop.clone());
        thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (upstream, seen, matched) = (upstream.clone(), seen2.clone(), matched.clone());
                thread::spawn(move || {
                    let _ = handle(conn, &upstream, fault, &seen, &matched);
                });
            }
        });
        FaultProxy { addr, seen, stop }
    }

    /// `ADDR/REPO:TAG` through the proxy.
    pub fn at(&self, repo_tag: &str) -> String {
        format!("{}/{repo_tag}", self.addr)
    }

    /// The requests the proxy answered with a fault.
    pub fn faults(&self) -> Vec<String> {
        self.seen.lock().unwrap().iter().filter(|l| l.starts_with("FAULT ")).cloned().collect()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(&self.addr); // wake the accept loop
    }
}

fn handle(
    client: TcpStream,
    upstream: &str,
    fault: Fault,
    seen: &Mutex<Vec<String>>,
    matched: &AtomicUsize,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut head = Vec::new();
    let mut request_line = String::new();
    let mut content_length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        if request_line.is_empty() {
            request_line = line.trim_end().to_string();
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            content_length = v.trim().parse().unwrap_or(0);
        }
        if lower.starts_with("connection:") {
            continue; // replaced below
        }
        if line == "\r\n" {
            head.extend_from_slice(b"Connection: close\r\n\r\n");
            break;
        }
        head.extend_from_slice(line.as_bytes());
    }
    let mut body = vec![0u8; content_length];
    reader.read_exact(&mut body)?;
    let mut client = client;
    let is_match =
        |pattern: &str, limit: usize| request_line.contains(pattern) && matched.fetch_add(1, Ordering::SeqCst) < limit;
    let answer_fault = match fault {
        Fault::RefuseMonolithic => {
            request_line.starts_with("PUT ") && request_line.contains("/blobs/uploads/") && content_length > 0
        }
        Fault::Unavailable(pattern, n) => is_match(pattern, n),
        Fault::CutResponse(..) => false,
    };
    if answer_fault {
        let status =
            if fault == Fault::RefuseMonolithic { "405 Method Not Allowed" } else { "503 Service Unavailable" };
        seen.lock().unwrap().push(format!("FAULT {status} {request_line}"));
        write!(client, "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")?;
        return Ok(());
    }
    let cut = match fault {
        Fault::CutResponse(pattern, n) => request_line.starts_with("GET ") && is_match(pattern, n),
        _ => false,
    };
    seen.lock().unwrap().push(request_line.clone());
    let mut up = TcpStream::connect(upstream)?;
    up.write_all(&head)?;
    up.write_all(&body)?;
    let mut response = Vec::new();
    up.read_to_end(&mut response)?;
    if cut {
        seen.lock().unwrap().push(format!("FAULT cut {request_line}"));
        let header_end = response.windows(4).position(|w| w == b"\r\n\r\n").map_or(response.len(), |i| i + 4);
        let keep = header_end + (response.len() - header_end) / 2;
        client.write_all(&response[..keep])?;
        return Ok(()); // dropping the socket cuts the body short
    }
    client.write_all(&response)
}
