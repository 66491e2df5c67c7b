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
    /// Act as a registry with a token service: requests need `Authorization: Bearer` with the
    /// token that `/token` hands out for Basic credentials `user:password`.
    BearerAuth(&'static str, &'static str),
    /// Hold every request whose line contains the pattern this many milliseconds before
    /// forwarding it: a slow blob, to see what a client does meanwhile.
    Delay(&'static str, u64),
    /// Send the answers of requests whose line contains the pattern at this many bytes a
    /// second: a slow link, for progress reports.
    Throttle(&'static str, usize),
    /// Answer 503, without forwarding it, to the Nth request (from 1) whose line contains the
    /// pattern: a chunk of an upload that fails midway.
    FailNth(&'static str, usize),
    /// Of the first request with a streamed (chunked) body over 1 MiB whose line contains the
    /// pattern, forward the first half of the body, then close the client's connection unanswered: a
    /// one-pass upload whose connection breaks off half-way.
    CutUpload(&'static str),
    /// Answer `GET /api/v2.0/systeminfo` as a Harbor of this version does (Harbor itself cannot
    /// run here): `harbor_version` only to a request with Basic credentials, as Harbor tells it
    /// only to a signed-in user; forward the rest to the registry.
    Harbor(&'static str),
    /// Act as [`Fault::BearerAuth`] with these credentials, and hand out every upload `Location`
    /// at this other origin (`HOST:PORT`, path and query kept): a registry whose uploads go to
    /// S3 or a CDN.
    ForeignUploads(&'static str, &'static str, &'static str),
    /// Forward every request, noting `AUTHORIZATION <request line>` for each that carries an
    /// `Authorization` header: the other origin of [`Fault::ForeignUploads`].
    Witness,
    /// Act as [`Fault::BearerAuth`] with these credentials, and answer every blob GET with a
    /// `307` to the same path at this other origin (`HOST:PORT`): downloads sent on to a CDN.
    RedirectBlobs(&'static str, &'static str, &'static str),
    /// Answer every request whose line contains the pattern with this status and JSON body,
    /// without forwarding it: a registry that puts what it likes in its error messages.
    Answer(&'static str, u16, &'static str),
    /// Answer `416 Range Not Satisfiable`, without forwarding it, to every GET that asks for a
    /// byte range: a registry that will not send the rest of a partial download.
    RefuseRanges,
    /// Forward every request, counting the blob transfers in flight (a GET of a blob, a PUT or
    /// PATCH of an upload) from the moment their request begins until their answer is sent, and
    /// noting `INFLIGHT N` each time the count rises ([`FaultProxy::most_in_flight`]).
    Watch,
}

/// The token the [`Fault::BearerAuth`] proxy hands out.
pub const TOKEN: &str = "tok-Never-Print-91c2";

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
        let (upstream, seen2, stop2, me) = (upstream.to_string(), seen.clone(), stop.clone(), addr.clone());
        thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (upstream, seen, matched, me) = (upstream.clone(), seen2.clone(), matched.clone(), me.clone());
                thread::spawn(move || {
                    let _ = handle(conn, &upstream, fault, &seen, &matched, &me);
                });
            }
        });
        FaultProxy { addr, seen, stop }
    }

    /// `ADDR/REPO:TAG` through the proxy.
    pub fn at(&self, repo_tag: &str) -> String {
        format!("{}/{repo_tag}", self.addr)
    }

    /// Every request line seen, `ANSWERED <line>` when the upstream answered it (before the
    /// client sees the answer), and `DONE <line>` when its answer was sent, in order.
    pub fn log(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }

    /// `(bytes sent, Range header)` of each answer to a GET whose line contains `pattern`.
    pub fn served(&self, pattern: &str) -> Vec<(u64, String)> {
        self.log()
            .iter()
            .filter(|l| l.starts_with("SENT ") && l.contains("GET ") && l.contains(pattern))
            .map(|l| {
                let mut parts = l.splitn(3, ' ');
                let bytes = parts.nth(1).unwrap().parse().unwrap();
                let range = parts.next().unwrap().split(' ').next().unwrap().trim_start_matches("range=").to_string();
                (bytes, range)
            })
            .collect()
    }

    /// The most blob transfers that were in flight at once ([`Fault::Watch`]).
    pub fn most_in_flight(&self) -> usize {
        self.log().iter().filter_map(|l| l.strip_prefix("INFLIGHT ")).filter_map(|n| n.parse().ok()).max().unwrap_or(0)
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

/// A body sent with `Transfer-Encoding: chunked`, decoded.
fn read_chunked(reader: &mut impl BufRead) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        reader.read_line(&mut size)?;
        let size = usize::from_str_radix(size.trim().split(';').next().unwrap_or(""), 16)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        if size == 0 {
            // Trailers, then the empty line.
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line)? == 0 || line == "\r\n" {
                    return Ok(body);
                }
            }
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..])?;
        let mut end = [0u8; 2];
        reader.read_exact(&mut end)?;
    }
}

fn handle(
    client: TcpStream,
    upstream: &str,
    fault: Fault,
    seen: &Mutex<Vec<String>>,
    matched: &AtomicUsize,
    me: &str,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut head = Vec::new();
    let mut request_line = String::new();
    let mut content_length = 0usize;
    let mut authorization = String::new();
    let mut range = String::new();
    let mut chunked = false;
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
        if let Some(v) = lower.strip_prefix("range:") {
            range = v.trim().to_string();
        }
        if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
            // A streamed body (a one-pass upload): decoded here, forwarded with its length.
            chunked = true;
            continue;
        }
        if lower.starts_with("connection:") {
            continue; // replaced below
        }
        if lower.starts_with("authorization:") {
            authorization = line["authorization:".len()..].trim().to_string();
            if matches!(fault, Fault::BearerAuth(..) | Fault::ForeignUploads(..) | Fault::RedirectBlobs(..)) {
                continue; // the upstream registry has no authentication
            }
        }
        if line == "\r\n" {
            break;
        }
        head.extend_from_slice(line.as_bytes());
    }
    // Counted from here, the request's head read, until this function returns.
    let _in_flight = (fault == Fault::Watch && is_blob_transfer(&request_line)).then(|| {
        let now = matched.fetch_add(1, Ordering::SeqCst) + 1;
        seen.lock().unwrap().push(format!("INFLIGHT {now}"));
        InFlight(matched)
    });
    let body = if chunked {
        read_chunked(&mut reader)?
    } else {
        let mut body = vec![0u8; content_length];
        reader.read_exact(&mut body)?;
        body
    };
    if chunked {
        head.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    head.extend_from_slice(b"Connection: close\r\n\r\n");
    let mut client = client;
    let is_match =
        |pattern: &str, limit: usize| request_line.contains(pattern) && matched.fetch_add(1, Ordering::SeqCst) < limit;
    if fault == Fault::Witness && !authorization.is_empty() {
        seen.lock().unwrap().push(format!("AUTHORIZATION {request_line}"));
    }
    if let Fault::BearerAuth(user, password)
    | Fault::ForeignUploads(user, password, _)
    | Fault::RedirectBlobs(user, password, _) = fault
    {
        use base64::Engine as _;
        let basic = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")));
        if request_line.starts_with("GET /token") {
            seen.lock().unwrap().push(format!("TOKEN {}", if authorization == basic { "granted" } else { "refused" }));
            if authorization == basic {
                let body = format!(r#"{{"token":"{TOKEN}","access_token":"{TOKEN}","expires_in":300}}"#);
                write!(
                    client,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )?;
            } else {
                write!(client, "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")?;
            }
            return Ok(());
        }
        if authorization != format!("Bearer {TOKEN}") {
            let body = r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#;
            write!(
                client,
                "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"http://{me}/token\",service=\"zoo-test\"\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )?;
            return Ok(());
        }
    }
    if let Fault::Harbor(version) = fault
        && request_line.starts_with("GET /api/v2.0/systeminfo")
    {
        seen.lock().unwrap().push(request_line.clone());
        let body = if authorization.starts_with("Basic ") {
            format!(r#"{{"auth_mode":"db_auth","harbor_version":"{version}","self_registration":false}}"#)
        } else {
            r#"{"auth_mode":"db_auth","self_registration":false,"banner_message":""}"#.to_string()
        };
        write!(
            client,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )?;
        return Ok(());
    }
    if let Fault::Answer(pattern, status, body) = fault
        && request_line.contains(pattern)
    {
        seen.lock().unwrap().push(format!("FAULT {status} {request_line}"));
        write!(
            client,
            "HTTP/1.1 {status} Refused\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )?;
        return Ok(());
    }
    if fault == Fault::RefuseRanges && request_line.starts_with("GET ") && !range.is_empty() {
        seen.lock().unwrap().push(format!("FAULT 416 range={range} {request_line}"));
        write!(client, "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")?;
        return Ok(());
    }
    if let Fault::RedirectBlobs(_, _, other) = fault
        && request_line.starts_with("GET ")
        && request_line.contains("/blobs/sha256:")
    {
        let path = request_line.split(' ').nth(1).unwrap_or("/");
        seen.lock().unwrap().push(format!("REDIRECT {request_line}"));
        write!(
            client,
            "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://{other}{path}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )?;
        return Ok(());
    }
    let answer_fault = match fault {
        Fault::RefuseMonolithic => {
            request_line.starts_with("PUT ") && request_line.contains("/blobs/uploads/") && content_length > 0
        }
        Fault::Unavailable(pattern, n) => is_match(pattern, n),
        Fault::FailNth(pattern, n) => request_line.contains(pattern) && matched.fetch_add(1, Ordering::SeqCst) + 1 == n,
        Fault::CutResponse(..)
        | Fault::BearerAuth(..)
        | Fault::Delay(..)
        | Fault::Throttle(..)
        | Fault::CutUpload(..)
        | Fault::Harbor(..)
        | Fault::ForeignUploads(..)
        | Fault::Witness
        | Fault::RedirectBlobs(..)
        | Fault::Answer(..)
        | Fault::RefuseRanges
        | Fault::Watch => false,
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
    if let Fault::Delay(pattern, millis) = fault
        && request_line.contains(pattern)
    {
        thread::sleep(std::time::Duration::from_millis(millis));
    }
    let cut_upload =
        matches!(fault, Fault::CutUpload(pattern) if chunked && body.len() > 1 << 20 && is_match(pattern, 1));
    let (head, body) = if cut_upload {
        let half = body.len() / 2;
        let head = String::from_utf8_lossy(&head)
            .replace(&format!("Content-Length: {}\r\n", body.len()), &format!("Content-Length: {half}\r\n"));
        (head.into_bytes(), body[..half].to_vec())
    } else {
        (head, body)
    };
    let mut up = TcpStream::connect(upstream)?;
    up.write_all(&head)?;
    up.write_all(&body)?;
    seen.lock().unwrap().push(format!("RECV {} {request_line}", body.len()));
    let mut response = Vec::new();
    up.read_to_end(&mut response)?;
    if let Fault::ForeignUploads(_, _, other) = fault {
        response = elsewhere(&response, other);
    }
    // Logged before the client can see the answer: whatever the client does after it (its next
    // request) is logged after this line, which `DONE` (logged once the answer is sent) is not.
    seen.lock().unwrap().push(format!("ANSWERED {request_line}"));
    if cut_upload {
        seen.lock().unwrap().push(format!("FAULT cut upload {request_line}"));
        return Ok(()); // the client's connection closes unanswered
    }
    let header_end = response.windows(4).position(|w| w == b"\r\n\r\n").map_or(response.len(), |i| i + 4);
    if cut {
        seen.lock().unwrap().push(format!("FAULT cut {request_line}"));
        let keep = header_end + (response.len() - header_end) / 2;
        client.write_all(&response[..keep])?;
        seen.lock().unwrap().push(format!("SENT {} range={range} {request_line}", keep - header_end));
        return Ok(()); // dropping the socket cuts the body short
    }
    match fault {
        Fault::Throttle(pattern, rate) if request_line.contains(pattern) => {
            // Tenths of a second's worth at a time.
            for chunk in response.chunks((rate / 10).max(1)) {
                client.write_all(chunk)?;
                thread::sleep(std::time::Duration::from_millis(100));
            }
        }
        _ => client.write_all(&response)?,
    }
    seen.lock().unwrap().push(format!("SENT {} range={range} {request_line}", response.len() - header_end));
    seen.lock().unwrap().push(format!("DONE {request_line}"));
    Ok(())
}

/// `response` with its `Location` header, when it names an upload, moved to `other`'s origin.
fn elsewhere(response: &[u8], other: &str) -> Vec<u8> {
    let header_end = response.windows(4).position(|w| w == b"\r\n\r\n").map_or(response.len(), |i| i + 4);
    let head = String::from_utf8_lossy(&response[..header_end]);
    let head: String = head
        .split_inclusive("\r\n")
        .map(|line| match line.split_once(':') {
            Some((name, value)) if name.eq_ignore_ascii_case("location") && value.contains("/blobs/uploads/") => {
                let path = &value[value.find("/v2/").unwrap_or(0)..];
                format!("Location: http://{other}{}", path.trim_start())
            }
            _ => line.to_string(),
        })
        .collect();
    [head.as_bytes(), &response[header_end..]].concat()
}

/// Whether a request line is a blob transfer: a GET of a blob, a PUT or PATCH of an upload.
fn is_blob_transfer(request_line: &str) -> bool {
    let (method, target) = request_line.split_once(' ').unwrap_or(("", ""));
    let path = target.split([' ', '?']).next().unwrap_or("");
    (method == "GET" && path.contains("/blobs/sha256:"))
        || (matches!(method, "PUT" | "PATCH") && path.contains("/blobs/uploads/"))
}

/// One transfer in flight ([`Fault::Watch`]): counted down when dropped.
struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}
