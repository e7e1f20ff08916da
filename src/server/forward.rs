//! Forwarding HTTP exchanges to an upstream server untouched, for the
//! proxy: the request is read (within the size and time limits) and handed
//! to an [`Upstream`]; the answer's status line and headers go back as
//! they are and its body is streamed through as it arrives, never held
//! whole. A [`Watcher`] sees every exchange on the way (request, response
//! head, each body chunk, the end), for decoding and printing.
//!
//! This module owns the listening side only: the upstream connection is
//! the caller's ([`Upstream`] is implemented on the client).

use std::io::Read;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::header::{HeaderName, HeaderValue};

use super::http::{Body, Response as HttpResponse, StatusCode};

use super::body::{read_body, Budget};
use super::{Handler, Request};

/// A request on its way upstream.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub method: String,
    /// Path and query, as the client sent them.
    pub target: String,
    /// End-to-end headers (hop-by-hop ones removed).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Outgoing {
    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }
}

/// An upstream answer whose body is read as it arrives.
pub struct Incoming {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: Box<dyn Read + Send>,
}

/// The first value of a header in a list (names case-insensitive).
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Sends requests upstream.
pub trait Upstream: Send + Sync {
    /// Send the request; the error is a message for the client and the log.
    fn send(&self, req: &Outgoing) -> Result<Incoming, String>;
}

/// How an exchange ended.
#[derive(Debug, Clone)]
pub struct Ended {
    pub response_bytes: u64,
    pub elapsed: Duration,
    /// Why the response body stopped early (upstream cut, client gone).
    pub error: Option<String>,
}

/// Sees every exchange. Calls for one exchange come in order from one
/// thread; exchanges on different connections may interleave.
pub trait Watcher: Send + Sync {
    fn request(&self, id: u64, remote: SocketAddr, req: &Outgoing);
    fn response(&self, id: u64, status: u16, reason: &str, headers: &[(String, String)]);
    fn chunk(&self, id: u64, data: &[u8]);
    fn ended(&self, id: u64, end: &Ended);
    /// The upstream could not be asked (the client gets 502).
    fn failed(&self, id: u64, message: &str);
}

/// Headers that describe one connection, not the message.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Body chunks read from upstream at a time, and how many may wait for a
/// slow client (memory per exchange: at most their product).
const CHUNK: usize = 64 * 1024;
const QUEUED_CHUNKS: usize = 8;

/// The forwarding handler: request bodies of at most `max_body` bytes,
/// at most `max_total_body` held across connections, each delivered
/// within `timeout`.
pub fn handler(
    upstream: Arc<dyn Upstream>,
    watcher: Arc<dyn Watcher>,
    max_body: u64,
    max_total_body: u64,
    timeout: Duration,
) -> Handler {
    let next = Arc::new(AtomicU64::new(1));
    let budget = Budget::new(max_total_body);
    Arc::new(move |remote, req| {
        let upstream = upstream.clone();
        let watcher = watcher.clone();
        let budget = budget.clone();
        let id = next.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            let limits = (max_body, &budget, timeout);
            forward(upstream, watcher, id, remote, req, limits).await
        })
    })
}

async fn forward(
    upstream: Arc<dyn Upstream>,
    watcher: Arc<dyn Watcher>,
    id: u64,
    remote: SocketAddr,
    req: Request,
    (max_body, budget, timeout): (u64, &Budget, Duration),
) -> HttpResponse {
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    let target = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .filter(|(k, _)| !HOP_BY_HOP.contains(&k.as_str()) && k.as_str() != "host")
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let (body, held) =
        match read_body(body, &parts.headers, max_body, started + timeout, budget).await {
            Ok(b) => b,
            Err(reply) => return reply.into_response(false, false),
        };
    let out = Outgoing {
        method: parts.method.as_str().to_string(),
        target,
        headers,
        body,
    };
    watcher.request(id, remote, &out);
    let (head_tx, head_rx) = tokio::sync::oneshot::channel();
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(QUEUED_CHUNKS);
    let w = watcher.clone();
    tokio::task::spawn_blocking(move || {
        let resp = upstream.send(&out);
        // The request body's share of the budget ends with the request.
        drop(out);
        drop(held);
        let mut resp = match resp {
            Ok(r) => r,
            Err(m) => {
                w.failed(id, &m);
                let _ = head_tx.send(Err(m));
                return;
            }
        };
        w.response(id, resp.status, &resp.reason, &resp.headers);
        let head = (resp.status, resp.reason.clone(), resp.headers.clone());
        if head_tx.send(Ok(head)).is_err() {
            return;
        }
        let mut total = 0u64;
        let mut error = None;
        let mut buf = vec![0u8; CHUNK];
        loop {
            match resp.body.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    total += n as u64;
                    w.chunk(id, &buf[..n]);
                    if tx.blocking_send(Ok(buf[..n].to_vec())).is_err() {
                        error = Some("the client went away".to_string());
                        break;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    error = Some(format!("the upstream response was cut: {e}"));
                    let _ = tx.blocking_send(Err(e));
                    break;
                }
            }
        }
        w.ended(
            id,
            &Ended {
                response_bytes: total,
                elapsed: started.elapsed(),
                error,
            },
        );
    });
    match head_rx.await {
        Ok(Ok((status, reason, headers))) => {
            let mut b = hyper::Response::builder()
                .status(StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY));
            if let Some(h) = b.headers_mut() {
                for (k, v) in &headers {
                    if HOP_BY_HOP.contains(&k.to_ascii_lowercase().as_str()) {
                        continue;
                    }
                    if let (Ok(k), Ok(v)) = (
                        HeaderName::from_bytes(k.as_bytes()),
                        HeaderValue::from_str(v),
                    ) {
                        h.append(k, v);
                    }
                }
            }
            let _ = reason;
            b.body(Body::channel(rx))
                .unwrap_or_else(|_| bad_gateway("the upstream answer could not be passed on"))
        }
        Ok(Err(m)) => bad_gateway(&m),
        Err(_) => bad_gateway("the upstream request failed"),
    }
}

fn bad_gateway(message: &str) -> HttpResponse {
    let mut r = HttpResponse::new(Body::whole(format!("hgframe proxy: {message}\n")));
    *r.status_mut() = StatusCode::BAD_GATEWAY;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain"),
    );
    r
}
