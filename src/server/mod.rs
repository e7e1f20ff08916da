//! The embedded server: Mercurial's HTTP API for one protocol revision,
//! served from hgframe's own reactors.
//!
//! The URL space, status codes, headers and bodies are those of `hg serve`
//! (Mercurial 6.0's `wireprotoserver.handlewsgiapirequest` and
//! `wireprotov2server.handlehttpv2request`; for 0001/0002 the 2018
//! snapshots, whose handler is the same code) with the configuration the
//! project's tests use: `experimental.web.apiserver`, `web.api.http-v2` and
//! `web.api.debugreflect` on, `web.push_ssl=false`, `web.allow-push=*` (so
//! `rw/` URLs are allowed). `debugreflect` bodies come from
//! [`crate::reflect::reflect_bytes`]; command URLs run the frames through the
//! revision's reactor in half-duplex mode exactly as `_processhttpv2request`
//! does, and answer dispatched commands with canned responses (`--respond`)
//! through the reactor's response path.
//!
//! Where Mercurial raises, this server answers the way Python's
//! `http.server` then does: `500 Internal Server Error`, chunked, body
//! `Internal Server Error`, or, when the status line had already gone out,
//! those 21 bytes appended to the frames sent so far. The reason is in the
//! access log line instead of a traceback.
//!
//! What Mercurial lacks and a debugging server needs is added without
//! changing any answer Mercurial gives: a request size limit (413), a time
//! limit for receiving the body (408), a loopback-only default, one access
//! log line per request. This module owns the sockets and threads; the
//! protocol logic stays in the sans-IO layers it calls.

use std::fmt;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::pin::Pin;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::{Body, HttpBody};
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response as HttpResponse;

use crate::python::value::Value;
use crate::reactor::{Action, Consumed, ReactorOptions, Response, RunCommand, ServerCrash};
use crate::reflect::reflect_bytes;
use crate::session::{Responder, Session, Step};
use crate::wire::proto::{Permission, Proto};

/// Where the access log goes.
#[derive(Clone, Default)]
pub enum LogTarget {
    /// One line per request on the process's stderr (`eprintln!`; do not
    /// use while the calling thread holds the stderr lock).
    #[default]
    Stderr,
    /// No log.
    Silent,
    /// Each line (without newline) handed to a function.
    Callback(Arc<dyn Fn(&str) + Send + Sync>),
}

impl fmt::Debug for LogTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LogTarget::Stderr => "Stderr",
            LogTarget::Silent => "Silent",
            LogTarget::Callback(_) => "Callback(..)",
        })
    }
}

impl LogTarget {
    fn write(&self, line: &str) {
        match self {
            LogTarget::Stderr => eprintln!("{line}"),
            LogTarget::Silent => {}
            LogTarget::Callback(f) => f(line),
        }
    }
}

/// How to run a server.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// `HOST:PORT` to listen on (port 0 picks a free port).
    pub addr: String,
    /// Allow a non-loopback address.
    pub public: bool,
    /// Protocol revision (URL space, media type, reactor).
    pub proto: Proto,
    /// Canned command responses.
    pub responder: Responder,
    /// Largest request body accepted (bytes).
    pub max_body: u64,
    /// Time a client has to deliver its request body.
    pub timeout: Duration,
    /// Serve `debugreflect` (else 404, as without `web.api.debugreflect`).
    pub reflect: bool,
    pub log: LogTarget,
}

impl ServeOptions {
    /// Defaults of `hgframe serve` on 127.0.0.1 with a free port.
    pub fn new(proto: Proto) -> Self {
        ServeOptions {
            addr: "127.0.0.1:0".into(),
            public: false,
            proto,
            responder: Responder::default(),
            max_body: 64 * 1024 * 1024,
            timeout: Duration::from_secs(30),
            reflect: true,
            log: LogTarget::Stderr,
        }
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The address is not `HOST:PORT` or does not resolve.
    #[error("cannot use --addr {addr:?}: {reason}\n  = expected HOST:PORT, e.g. 127.0.0.1:8000 or [::1]:8000")]
    BadAddress { addr: String, reason: String },
    /// A non-loopback address without `public`.
    #[error("refusing to listen on {addr} ({resolved}): not a loopback address, so anyone who can reach this machine could talk to the server\n  = pass --public to listen there anyway, or use 127.0.0.1:PORT")]
    NotLoopback { addr: String, resolved: SocketAddr },
    /// Binding the socket failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        #[source]
        source: io::Error,
    },
    /// The async runtime or its thread could not be created.
    #[error("cannot start the server runtime: {0}")]
    Runtime(#[source] io::Error),
}

/// A running server. Dropping it shuts the server down.
pub struct ServerHandle {
    addr: SocketAddr,
    stop: Option<tokio::sync::watch::Sender<bool>>,
    thread: Option<JoinHandle<()>>,
}

impl ServerHandle {
    /// The address actually bound.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stop accepting, give open requests a moment, stop.
    pub fn shutdown(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(true);
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.stop_now();
    }
}

impl fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerHandle")
            .field("addr", &self.addr)
            .finish()
    }
}

/// How long open requests may run on after shutdown was asked for.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

fn resolve(addr: &str) -> Result<Vec<SocketAddr>, ServeError> {
    let bad = |reason: String| ServeError::BadAddress {
        addr: addr.to_string(),
        reason,
    };
    let addrs: Vec<SocketAddr> = addr
        .to_socket_addrs()
        .map_err(|e| bad(e.to_string()))?
        .collect();
    if addrs.is_empty() {
        return Err(bad("it resolves to no address".into()));
    }
    Ok(addrs)
}

fn is_loopback(a: &SocketAddr) -> bool {
    match a {
        SocketAddr::V4(v4) => v4.ip().is_loopback(),
        SocketAddr::V6(v6) => {
            v6.ip().is_loopback() || v6.ip().to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// Bind and start serving on a thread of its own; returns once bound.
pub fn start(opts: ServeOptions) -> Result<ServerHandle, ServeError> {
    let addrs = resolve(&opts.addr)?;
    if !opts.public {
        if let Some(a) = addrs.iter().find(|a| !is_loopback(a)) {
            return Err(ServeError::NotLoopback {
                addr: opts.addr.clone(),
                resolved: *a,
            });
        }
    }
    let std_listener =
        std::net::TcpListener::bind(&addrs[..]).map_err(|source| ServeError::Bind {
            addr: opts.addr.clone(),
            source,
        })?;
    let local = std_listener
        .local_addr()
        .map_err(|source| ServeError::Bind {
            addr: opts.addr.clone(),
            source,
        })?;
    std_listener
        .set_nonblocking(true)
        .map_err(ServeError::Runtime)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("hgframe-serve")
        .build()
        .map_err(ServeError::Runtime)?;
    let listener = {
        let _guard = rt.enter();
        tokio::net::TcpListener::from_std(std_listener).map_err(ServeError::Runtime)?
    };
    let ctx = Arc::new(Ctx {
        proto: opts.proto,
        responder: opts.responder,
        max_body: opts.max_body,
        timeout: opts.timeout,
        reflect: opts.reflect,
        log: opts.log,
    });
    let (tx, rx) = tokio::sync::watch::channel(false);
    let thread = std::thread::Builder::new()
        .name("hgframe-serve".into())
        .spawn(move || {
            rt.block_on(serve_until(listener, ctx, rx));
            rt.shutdown_timeout(Duration::from_millis(200));
        })
        .map_err(ServeError::Runtime)?;
    Ok(ServerHandle {
        addr: local,
        stop: Some(tx),
        thread: Some(thread),
    })
}

async fn serve_until(
    listener: tokio::net::TcpListener,
    ctx: Arc<Ctx>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    // Our own accept loop on hyper (instead of `axum::serve`) so that a
    // client that stalls while sending its request head times out too
    // (`header_read_timeout`), not only one that stalls in its body.
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        let (stream, remote) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                // e.g. too many open files: back off a little, go on
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = async { stop.wait_for(|s| *s).await.map(|_| ()) } => break,
        };
        let ctx = ctx.clone();
        let header_timeout = ctx.timeout;
        let mut conn_stop = stop.clone();
        tasks.spawn(async move {
            let service =
                hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let ctx = ctx.clone();
                    async move {
                        Ok::<_, std::convert::Infallible>(
                            handle(ctx, remote, req.map(Body::new)).await,
                        )
                    }
                });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(header_timeout)
                .keep_alive(true);
            let conn = builder.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            tokio::pin!(conn);
            // `map` drops the watch guard at once (it must not be held
            // across an await).
            let stopped = async move {
                let _ = conn_stop.wait_for(|s| *s).await.map(|_| ());
            };
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = stopped => {
                    conn.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(SHUTDOWN_GRACE, conn).await;
                }
            }
        });
        // reap finished connections
        while tasks.try_join_next().is_some() {}
    }
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
}

// ---------------------------------------------------------------------------
// Requests

struct Ctx {
    proto: Proto,
    responder: Responder,
    max_body: u64,
    timeout: Duration,
    reflect: bool,
    log: LogTarget,
}

/// A response before it becomes an HTTP message.
#[derive(Debug)]
struct Reply {
    status: StatusCode,
    content_type: Option<String>,
    headers: Vec<(header::HeaderName, HeaderValue)>,
    body: Vec<u8>,
    /// Sent with `Transfer-Encoding: chunked`, as `hg serve` sends bodies
    /// it streams (frames, the 500 page).
    chunked: bool,
    /// Close the connection afterwards (body not read in full).
    close: bool,
    /// For the log line: what happened, when the status alone does not say.
    note: Option<String>,
}

impl Reply {
    fn new(status: StatusCode, content_type: Option<&str>, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status,
            content_type: content_type.map(str::to_string),
            headers: Vec::new(),
            body: body.into(),
            chunked: false,
            close: false,
            note: None,
        }
    }

    /// `res.status = ...; Content-Type: text/plain; setbodybytes(...)`.
    fn text(status: StatusCode, body: impl Into<Vec<u8>>) -> Reply {
        Reply::new(status, Some("text/plain"), body)
    }

    /// What `http.server` sends when the WSGI application raised before
    /// the status line went out.
    fn internal_error(note: impl Into<String>) -> Reply {
        let mut r = Reply::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            None,
            b"Internal Server Error".to_vec(),
        );
        r.chunked = true;
        r.note = Some(note.into());
        r
    }

    /// Frames (already encoded) with the revision's media type.
    fn frames(proto: Proto, body: Vec<u8>) -> Reply {
        let mut r = Reply::new(StatusCode::OK, Some(proto.table().media_type), body);
        r.chunked = true;
        r
    }

    fn with_note(mut self, note: impl Into<String>) -> Reply {
        self.note = Some(note.into());
        self
    }

    fn closing(mut self) -> Reply {
        self.close = true;
        self
    }

    /// `chunked` only applies when the connection stays open: http.server
    /// sends a streamed body close-delimited otherwise (we send its length).
    fn into_response(self, head: bool, keep_alive: bool) -> HttpResponse {
        let mut b = axum::http::Response::builder().status(self.status);
        if let Some(h) = b.headers_mut() {
            h.insert(header::SERVER, HeaderValue::from_static(SERVER_HEADER));
            if let Some(ct) = &self.content_type {
                if let Ok(v) = HeaderValue::from_str(ct) {
                    h.insert(header::CONTENT_TYPE, v);
                }
            }
            for (k, v) in self.headers {
                h.append(k, v);
            }
            if self.close {
                h.insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
        }
        let body = if self.chunked && keep_alive && !head {
            Body::from_stream(Body::from(self.body).into_data_stream())
        } else {
            Body::from(self.body)
        };
        b.body(body).unwrap_or_else(|_| {
            let mut r = HttpResponse::new(Body::from("Internal Server Error"));
            *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            r
        })
    }
}

const SERVER_HEADER: &str = concat!("hgframe/", env!("CARGO_PKG_VERSION"));

async fn handle(ctx: Arc<Ctx>, remote: SocketAddr, req: Request) -> HttpResponse {
    let started = Instant::now();
    let method = req.method().clone();
    let target = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| req.uri().to_string());
    let version = req.version();
    let keep_alive = python_keeps_alive(version, req.headers());
    let reply = route(&ctx, req, started + ctx.timeout).await;
    let head = method == Method::HEAD;
    let sent = if head { 0 } else { reply.body.len() };
    if !matches!(ctx.log, LogTarget::Silent) {
        ctx.log.write(&access_line(
            remote,
            method.as_str(),
            &target,
            version,
            reply.status,
            sent,
            started.elapsed(),
            reply.note.as_deref(),
        ));
    }
    reply.into_response(head, keep_alive)
}

/// Whether Python's http.server keeps this connection open (and so
/// streams bodies chunked): HTTP/1.1 without `Connection: close`.
fn python_keeps_alive(version: axum::http::Version, headers: &HeaderMap) -> bool {
    version == axum::http::Version::HTTP_11
        && !headers
            .get(header::CONNECTION)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"close"))
}

/// What the URL asks for, decided before the body is read.
enum Route {
    /// Answer at once (after draining the body).
    Now(Reply),
    Reflect,
    Command {
        permission: Permission,
        name: Vec<u8>,
    },
}

async fn route(ctx: &Ctx, req: Request, deadline: Instant) -> Reply {
    let (parts, body) = req.into_parts();
    let r = decide(ctx, &parts.method, parts.uri.path(), &parts.headers);
    match r {
        Route::Now(reply) => drain(body, &parts.headers, ctx.max_body, deadline, reply).await,
        Route::Reflect => {
            let bytes = match read_body(body, &parts.headers, ctx.max_body, deadline).await {
                Ok(b) => b,
                Err(reply) => return reply,
            };
            let proto = ctx.proto;
            blocking(move || match reflect_bytes(proto, &bytes) {
                Ok(b) => Reply::text(StatusCode::OK, b),
                Err(e) => {
                    Reply::internal_error(format!("{e}; Mercurial's log shows {}", e.exception()))
                }
            })
            .await
        }
        Route::Command { permission, name } => {
            let bytes = match read_body(body, &parts.headers, ctx.max_body, deadline).await {
                Ok(b) => b,
                Err(reply) => return reply,
            };
            let proto = ctx.proto;
            let responder = ctx.responder.clone();
            blocking(move || process_command(proto, &responder, permission, &name, &bytes)).await
        }
    }
}

/// Run CPU-bound protocol work off the async workers; a panic there
/// (a bug) becomes a 500 instead of a dropped connection.
async fn blocking(f: impl FnOnce() -> Reply + Send + 'static) -> Reply {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r,
        Err(e) => Reply::internal_error(format!("hgframe bug: request handler failed: {e}")),
    }
}

/// The routing of `hgweb` → `handlewsgiapirequest` → `handlehttpv2request`.
fn decide(ctx: &Ctx, method: &Method, path: &str, headers: &HeaderMap) -> Route {
    let table = ctx.proto.table();
    // Python's http.server only has do_GET/do_POST/do_PUT in hgweb's handler.
    if !matches!(method.as_str(), "GET" | "POST" | "PUT") {
        return Route::Now(unsupported_method(method.as_str()));
    }
    let info = path_info(path);
    let parts = dispatch_parts(&info);
    if parts.first().map(|p| p.as_slice()) != Some(b"api") {
        let mut r = Reply::text(
            StatusCode::NOT_FOUND,
            format!(
                "hgframe serve only serves Mercurial's /api/ URL space (try /api/ or /api/{}/); hgweb pages are not emulated\n",
                table.api_name
            ),
        );
        r.note = Some("not an /api/ URL (hgweb would answer)".into());
        return Route::Now(r);
    }
    if parts.len() == 1 {
        let mut body =
            b"APIs can be accessed at /api/<name>, where <name> can be one of the following:\n\n"
                .to_vec();
        body.extend_from_slice(table.api_name.as_bytes());
        return Route::Now(Reply::text(StatusCode::OK, body));
    }
    if parts[1] != table.api_name.as_bytes() {
        let mut body = b"Unknown API: ".to_vec();
        body.extend_from_slice(&parts[1]);
        body.extend_from_slice(b"\nKnown APIs: ");
        body.extend_from_slice(table.api_name.as_bytes());
        return Route::Now(Reply::text(StatusCode::NOT_FOUND, body));
    }
    let urlparts = &parts[2..];
    if urlparts.is_empty() {
        return Route::Now(Reply::text(StatusCode::OK, "HTTP version 2 API handler"));
    }
    if urlparts.len() == 1 {
        let mut body = b"do not know how to process ".to_vec();
        body.extend_from_slice(&parts.join(&b'/'));
        body.push(b'\n');
        return Route::Now(Reply::text(StatusCode::NOT_FOUND, body));
    }
    let (perm, command) = (&urlparts[0], &urlparts[1]);
    let permission = match perm.as_slice() {
        b"ro" => Permission::Pull,
        b"rw" => Permission::Push,
        _ => {
            let mut body = b"unknown permission: ".to_vec();
            body.extend_from_slice(perm);
            return Route::Now(Reply::text(StatusCode::NOT_FOUND, body));
        }
    };
    if method != Method::POST {
        let mut r = Reply::new(
            StatusCode::METHOD_NOT_ALLOWED,
            None,
            "commands require POST requests",
        );
        r.headers
            .push((header::ALLOW, HeaderValue::from_static("POST")));
        return Route::Now(r);
    }
    // checkperm: pull is allowed; push too (push_ssl=false, allow-push=*).
    if command == b"debugreflect" {
        if !ctx.reflect {
            return Route::Now(Reply::text(
                StatusCode::NOT_FOUND,
                "debugreflect service not available",
            ));
        }
        return Route::Reflect;
    }
    if command != b"multirequest" && ctx.proto.command(command).is_none() {
        let mut body = b"unknown wire protocol command: ".to_vec();
        body.extend_from_slice(command);
        body.push(b'\n');
        return Route::Now(Reply::text(StatusCode::NOT_FOUND, body));
    }
    if accept_header(headers).as_deref() != Some(table.media_type.as_bytes()) {
        return Route::Now(Reply::text(
            StatusCode::NOT_ACCEPTABLE,
            format!(
                "client MUST specify Accept header with value: {}\n",
                table.media_type
            ),
        ));
    }
    if content_type(headers) != table.media_type.as_bytes() {
        return Route::Now(Reply::text(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "client MUST send Content-Type header with value: {}\n",
                table.media_type
            ),
        ));
    }
    Route::Command {
        permission,
        name: command.clone(),
    }
}

/// `BaseHTTPRequestHandler.send_error(501, "Unsupported method (%r)")`.
fn unsupported_method(method: &str) -> Reply {
    let message = format!("Unsupported method ({})", py_repr_str(method));
    let body = format!(
        "<!DOCTYPE HTML>\n<html lang=\"en\">\n    <head>\n        <meta charset=\"utf-8\">\n        <title>Error response</title>\n    </head>\n    <body>\n        <h1>Error response</h1>\n        <p>Error code: 501</p>\n        <p>Message: {}.</p>\n        <p>Error code explanation: 501 - Server does not support this operation.</p>\n    </body>\n</html>\n",
        html_escape(&message)
    );
    Reply::new(
        StatusCode::NOT_IMPLEMENTED,
        Some("text/html;charset=utf-8"),
        body,
    )
    .closing()
    .with_note(message)
}

/// Python's `repr()` of a str made of HTTP token characters.
fn py_repr_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::new();
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// `html.escape(s, quote=False)`.
fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn push_latin1_as_utf8(b: u8, out: &mut Vec<u8>) {
    if b < 0x80 {
        out.push(b);
    } else {
        out.push(0xc0 | (b >> 6));
        out.push(0x80 | (b & 0x3f));
    }
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// `PATH_INFO` as Mercurial 6.0 on Python 3 gets it: http.server decodes
/// the request line as Latin-1, `urlreq.unquote` (`unquote_to_bytes`)
/// encodes that as UTF-8 and percent-decodes, `pycompat.sysstr` decodes
/// the bytes as Latin-1 again and the WSGI environment is turned back into
/// bytes with `fsencode` (UTF-8). So `%FF` arrives as `\xc3\xbf`.
fn path_info(path: &str) -> Vec<u8> {
    let mut utf8 = Vec::with_capacity(path.len());
    for &b in path.as_bytes() {
        push_latin1_as_utf8(b, &mut utf8);
    }
    let mut unquoted = Vec::with_capacity(utf8.len());
    let mut i = 0;
    while i < utf8.len() {
        if utf8[i] == b'%' && i + 2 < utf8.len() {
            if let (Some(h), Some(l)) = (hex_val(utf8[i + 1]), hex_val(utf8[i + 2])) {
                unquoted.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        unquoted.push(utf8[i]);
        i += 1;
    }
    let mut out = Vec::with_capacity(unquoted.len());
    for &b in &unquoted {
        push_latin1_as_utf8(b, &mut out);
    }
    out
}

/// `req.dispatchparts`: PATH_INFO stripped of `/` at both ends, split on `/`.
fn dispatch_parts(info: &[u8]) -> Vec<Vec<u8>> {
    let start = info.iter().position(|&c| c != b'/');
    let Some(start) = start else {
        return Vec::new();
    };
    let end = info.iter().rposition(|&c| c != b'/').unwrap_or(start) + 1;
    info[start..end]
        .split(|&c| c == b'/')
        .map(|p| p.to_vec())
        .collect()
}

/// Python's `str.strip()` whitespace, for header values.
fn py_strip(b: &[u8]) -> &[u8] {
    let ws = |c: &u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c | 0x1c..=0x1f);
    let start = b.iter().position(|c| !ws(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !ws(c)).map_or(start, |e| e + 1);
    &b[start..end]
}

/// Header bytes as Mercurial sees them: Latin-1 decoded by http.server,
/// UTF-8 encoded by `fsencode`.
fn header_bytes(v: &HeaderValue) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len());
    for &b in v.as_bytes() {
        push_latin1_as_utf8(b, &mut out);
    }
    out
}

/// `req.headers.get(b'Accept')`: the first Accept header, newlines removed
/// and stripped; absent when empty.
fn accept_header(headers: &HeaderMap) -> Option<Vec<u8>> {
    let v = headers.get(header::ACCEPT)?;
    let raw: Vec<u8> = header_bytes(v)
        .into_iter()
        .filter(|&c| c != b'\n')
        .collect();
    let s = py_strip(&raw);
    (!s.is_empty()).then(|| s.to_vec())
}

/// `req.headers.get(b'Content-Type')`: http.server's
/// `get_content_type()`, the media type without parameters, lowercased,
/// `text/plain` when missing or malformed.
fn content_type(headers: &HeaderMap) -> Vec<u8> {
    let Some(v) = headers.get(header::CONTENT_TYPE) else {
        return b"text/plain".to_vec();
    };
    let raw = header_bytes(v);
    let main = raw.split(|&c| c == b';').next().unwrap_or(&[]);
    let ctype = py_strip(main).to_ascii_lowercase();
    if ctype.iter().filter(|&&c| c == b'/').count() != 1 {
        return b"text/plain".to_vec();
    }
    ctype
}

// ---------------------------------------------------------------------------
// Request bodies

fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn too_large(max: u64, declared: Option<u64>) -> Reply {
    let msg = match declared {
        Some(n) => format!(
            "request body too large: Content-Length is {n} bytes, this server accepts at most {max} (--max-body)\n"
        ),
        None => format!(
            "request body too large: more than {max} bytes, the most this server accepts (--max-body)\n"
        ),
    };
    Reply::text(StatusCode::PAYLOAD_TOO_LARGE, msg)
        .closing()
        .with_note("request body over --max-body")
}

fn timed_out(timeout: Duration, got: usize) -> Reply {
    Reply::text(
        StatusCode::REQUEST_TIMEOUT,
        format!(
            "request timeout: the request body did not arrive within {} s (--timeout); got {got} bytes\n",
            timeout.as_secs_f64()
        ),
    )
    .closing()
    .with_note("client too slow sending the body")
}

enum BodyEnd {
    TooLarge,
    TimedOut,
    Failed(String),
}

/// Pull body data until EOF, `max` bytes, or the deadline.
async fn pull_body(
    body: &mut Body,
    max: u64,
    deadline: Instant,
    keep: Option<&mut Vec<u8>>,
    count: &mut u64,
) -> Result<(), BodyEnd> {
    let mut keep = keep;
    loop {
        let next = std::future::poll_fn(|cx| Pin::new(&mut *body).poll_frame(cx));
        let frame = match tokio::time::timeout_at(deadline.into(), next).await {
            Err(_) => return Err(BodyEnd::TimedOut),
            Ok(None) => return Ok(()),
            Ok(Some(Err(e))) => return Err(BodyEnd::Failed(e.to_string())),
            Ok(Some(Ok(f))) => f,
        };
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        *count += data.len() as u64;
        if *count > max {
            return Err(BodyEnd::TooLarge);
        }
        if let Some(k) = keep.as_deref_mut() {
            k.extend_from_slice(&data);
        }
    }
}

/// After deciding 413 on a body without Content-Length: read on a little
/// so the client (which usually writes before it reads) sees the answer
/// instead of a connection reset.
async fn courtesy_drain(body: &mut Body) {
    let mut n = 0;
    let until = Instant::now() + Duration::from_millis(200);
    let _ = pull_body(body, 256 * 1024, until, None, &mut n).await;
}

/// The whole body (bounded by size and time), or the error reply.
async fn read_body(
    mut body: Body,
    headers: &HeaderMap,
    max: u64,
    deadline: Instant,
) -> Result<Vec<u8>, Reply> {
    let declared = declared_length(headers);
    if let Some(n) = declared {
        if n > max {
            return Err(too_large(max, Some(n)));
        }
    }
    let cap = declared.unwrap_or(0).min(max).min(16 * 1024 * 1024) as usize;
    let mut out = Vec::with_capacity(cap);
    let mut count = 0;
    let timeout = deadline.saturating_duration_since(Instant::now());
    match pull_body(&mut body, max, deadline, Some(&mut out), &mut count).await {
        Ok(()) => Ok(out),
        Err(BodyEnd::TooLarge) => {
            courtesy_drain(&mut body).await;
            Err(too_large(max, None))
        }
        Err(BodyEnd::TimedOut) => Err(timed_out(timeout.max(Duration::from_secs(0)), out.len())),
        Err(BodyEnd::Failed(e)) => Err(Reply::text(
            StatusCode::BAD_REQUEST,
            format!("error reading the request body: {e}\n"),
        )
        .closing()
        .with_note(format!("body read failed: {e}"))),
    }
}

/// Mercurial drains the request body before answering; do the same
/// (within the limits) so keep-alive clients stay in sync, and close the
/// connection when the body could not be drained.
async fn drain(
    mut body: Body,
    headers: &HeaderMap,
    max: u64,
    deadline: Instant,
    reply: Reply,
) -> Reply {
    if body.is_end_stream() {
        return reply;
    }
    if declared_length(headers).is_some_and(|n| n > max) {
        return reply.closing();
    }
    let mut n = 0;
    match pull_body(&mut body, max, deadline, None, &mut n).await {
        Ok(()) => reply,
        Err(_) => reply.closing(),
    }
}

// ---------------------------------------------------------------------------
// Commands: `_processhttpv2request` and `_httpv2runcommand`

/// What `_httpv2runcommand` decided.
enum Ran {
    /// The response is complete (`return True`).
    Done(Reply),
    /// Output buffered; keep reading frames (`return False`).
    Continue,
}

fn process_command(
    proto: Proto,
    responder: &Responder,
    permission: Permission,
    url_command: &[u8],
    body: &[u8],
) -> Reply {
    // Canned responses are chosen here (after the URL checks), not by the
    // session's own responder.
    let mut session = Session::new(
        proto,
        ReactorOptions { defer_output: true },
        Responder::default(),
    );
    session.push_bytes(body);
    session.finish_input();
    let mut seen_command = false;
    let mut stream_made = false;
    let mut status_set = false;
    while let Some(step) = session.poll() {
        let action = match step {
            Step::Undecodable(e) => {
                return Reply::internal_error(format!(
                    "Mercurial cannot read the request body: {e}"
                ))
            }
            Step::Frame { outcome, .. } => match outcome {
                Ok(a) => a,
                Err(c) => return Reply::internal_error(crash_note(&c)),
            },
            Step::Eof { outcome, sent } => return end_of_body(proto, outcome, sent, status_set),
            Step::Response { .. } => continue,
        };
        match action {
            Action::WantFrame { .. } => continue,
            Action::RunCommand(rc) => {
                // Called once, before the first command runs.
                if !stream_made {
                    if let Err(c) = session.make_output_stream() {
                        return Reply::internal_error(crash_note(&c));
                    }
                    stream_made = true;
                }
                match run_command(
                    proto,
                    responder,
                    &mut session,
                    permission,
                    url_command,
                    &rc,
                    seen_command,
                ) {
                    Ran::Done(r) => return r,
                    Ran::Continue => {
                        seen_command = true;
                        status_set = true;
                    }
                }
            }
            Action::Error { message } => {
                let mut b = message;
                b.push(b'\n');
                return Reply::text(StatusCode::OK, b).with_note("reactor error");
            }
            other => {
                return Reply::internal_error(format!(
                    "ProgrammingError: unhandled action from frame processor: {}",
                    other.name()
                ))
            }
        }
    }
    Reply::internal_error("hgframe bug: the session ended without reporting the end of input")
}

/// The end of the request body: the deferred responses go out.
fn end_of_body(
    proto: Proto,
    outcome: Result<Action, ServerCrash>,
    sent: Option<Consumed>,
    status_set: bool,
) -> Reply {
    match (outcome, sent) {
        (Err(c), _) => Reply::internal_error(crash_note(&c)),
        (Ok(Action::SendFrames(_)), Some(consumed)) => {
            let mut out = Vec::new();
            for f in &consumed.frames {
                if let Err(e) = f.encode_into(proto, &mut out) {
                    return Reply::internal_error(format!(
                        "hgframe bug: cannot encode a response frame: {e}"
                    ));
                }
            }
            match consumed.crash {
                None => Reply::frames(proto, out),
                Some(c) if c.exception.starts_with("hgframe limitation") => Reply::text(
                    StatusCode::NOT_IMPLEMENTED,
                    format!("hgframe serve cannot produce this response: {}\n", c.why),
                )
                .with_note(c.exception),
                // The generator raised before yielding: no status line yet.
                Some(c) if consumed.frames.is_empty() => Reply::internal_error(crash_note(&c)),
                // Status line and frames already out: http.server writes
                // its error text into the chunked body.
                Some(c) => {
                    out.extend_from_slice(b"Internal Server Error");
                    Reply::frames(proto, out).with_note(format!(
                        "the response generator raised after {} frame(s): {}",
                        consumed.frames.len(),
                        crash_note(&c)
                    ))
                }
            }
        }
        (Ok(Action::Noop), _) => Reply::internal_error(if status_set {
            "ProgrammingError: response body not defined"
        } else {
            "ProgrammingError: status line not defined (no command was dispatched before the end of the body)"
        }),
        (Ok(other), _) => Reply::internal_error(format!(
            "ProgrammingError: unhandled action from frame processor: {}",
            other.name()
        )),
    }
}

/// For the log: what Mercurial raises and why.
fn crash_note(c: &ServerCrash) -> String {
    format!("Mercurial raises {} ({})", c.exception, c.why)
}

fn command_display(v: &Value) -> String {
    match v.as_bytes() {
        Some(b) => String::from_utf8_lossy(b).into_owned(),
        None => format!("<{}>", v.type_name()),
    }
}

fn run_command(
    proto: Proto,
    responder: &Responder,
    session: &mut Session,
    permission: Permission,
    url_command: &[u8],
    rc: &RunCommand,
    subsequent: bool,
) -> Ran {
    let name = &rc.command;
    if url_command == b"multirequest" {
        // COMMANDS.commandavailable(name): a dict lookup.
        if let Err(e) = name.check_hashable() {
            return Ran::Done(Reply::internal_error(format!(
                "TypeError: {e} (the command name in the frame is not hashable)"
            )));
        }
        let def = name.as_bytes().and_then(|b| proto.command(b));
        let Some(def) = def else {
            let Some(b) = name.as_bytes() else {
                return Ran::Done(Reply::internal_error(format!(
                    "TypeError: %b requires a bytes-like object, or an object that implements __bytes__, not '{}' (formatting the command-not-available message)",
                    name.type_name()
                )));
            };
            let mut body = b"wire protocol command not available: ".to_vec();
            body.extend_from_slice(b);
            return Ran::Done(Reply::text(StatusCode::OK, body));
        };
        if permission == Permission::Pull && def.permission != Permission::Pull {
            let mut body = b"insufficient permissions to execute command: ".to_vec();
            body.extend_from_slice(def.name.as_bytes());
            return Ran::Done(Reply::text(StatusCode::FORBIDDEN, body));
        }
    } else {
        if subsequent {
            return Ran::Done(Reply::text(
                StatusCode::OK,
                "multiple commands cannot be issued to this URL",
            ));
        }
        if name.as_bytes() != Some(url_command) {
            return Ran::Done(Reply::text(
                StatusCode::OK,
                "command in frame must match command in URL",
            ));
        }
    }
    let response = responder.find(rc.request_id, &rc.command).unwrap_or_else(|| {
        let cmd = command_display(name);
        let msg = format!(
            "hgframe serve has no response for command {cmd}; start it with --respond {cmd}=RESPONSE"
        )
        .into_bytes();
        Response::command_error(proto, msg)
    });
    let Step::Response { outcome, sent, .. } =
        session.respond(rc.request_id.unwrap_or(0), response)
    else {
        return Ran::Done(Reply::internal_error(
            "hgframe bug: a response did not give a response step",
        ));
    };
    match outcome {
        Err(c) => Ran::Done(Reply::internal_error(crash_note(&c))),
        Ok(Action::Noop) => Ran::Continue,
        Ok(Action::SendFrames(_)) => {
            let consumed = sent.unwrap_or_default();
            let mut out = Vec::new();
            for f in &consumed.frames {
                if f.encode_into(proto, &mut out).is_err() {
                    return Ran::Done(Reply::internal_error(
                        "hgframe bug: cannot encode a response frame",
                    ));
                }
            }
            Ran::Done(Reply::frames(proto, out))
        }
        Ok(other) => Ran::Done(Reply::internal_error(format!(
            "ProgrammingError: unhandled event from reactor: {}",
            other.name()
        ))),
    }
}

// ---------------------------------------------------------------------------
// Access log

#[allow(clippy::too_many_arguments)]
fn access_line(
    remote: SocketAddr,
    method: &str,
    target: &str,
    version: axum::http::Version,
    status: StatusCode,
    bytes: usize,
    took: Duration,
    note: Option<&str>,
) -> String {
    let mut line = format!(
        "{} - - [{}] \"{} {} {:?}\" {} {} {:.1}ms",
        remote.ip(),
        clf_now(),
        log_escape(method),
        log_escape(target),
        version,
        status.as_u16(),
        bytes,
        took.as_secs_f64() * 1000.0
    );
    if let Some(n) = note {
        line.push_str(" (");
        line.push_str(&log_escape(n));
        line.push(')');
    }
    line
}

/// Keep a log line one line of printable text.
fn log_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Now, as a Common Log Format timestamp (UTC).
fn clf_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    clf_date(secs)
}

fn clf_date(secs: u64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = (secs / 86400) as i64;
    let rem = secs % 86400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{:02}/{}/{}:{:02}:{:02}:{:02} +0000",
        day,
        MONTHS[(month - 1) as usize],
        year,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_info_like_python() {
        assert_eq!(path_info("/api/"), b"/api/");
        assert_eq!(path_info("/api/x/ro/he%61ds"), b"/api/x/ro/heads");
        assert_eq!(path_info("/h%FFx"), b"/h\xc3\xbfx");
        assert_eq!(path_info("/a%2"), b"/a%2");
        assert_eq!(path_info("/a%"), b"/a%");
        assert_eq!(path_info("/a%zz%41"), b"/a%zzA");
        assert_eq!(path_info("/%2F"), b"//");
    }

    #[test]
    fn dispatch_parts_like_python() {
        assert!(dispatch_parts(b"/").is_empty());
        assert!(dispatch_parts(b"").is_empty());
        assert_eq!(dispatch_parts(b"/api"), vec![b"api".to_vec()]);
        assert_eq!(dispatch_parts(b"//api//"), vec![b"api".to_vec()]);
        assert_eq!(
            dispatch_parts(b"/api/x//ro/"),
            vec![b"api".to_vec(), b"x".to_vec(), b"".to_vec(), b"ro".to_vec()]
        );
    }

    #[test]
    fn content_type_normalised_like_http_server() {
        let mut h = HeaderMap::new();
        assert_eq!(content_type(&h), b"text/plain");
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("Application/X-Y ; charset=x"),
        );
        assert_eq!(content_type(&h), b"application/x-y");
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("a/b/c"));
        assert_eq!(content_type(&h), b"text/plain");
        h.insert(header::ACCEPT, HeaderValue::from_static("  a/b "));
        assert_eq!(accept_header(&h).as_deref(), Some(&b"a/b"[..]));
    }

    #[test]
    fn dates_and_repr() {
        assert_eq!(clf_date(0), "01/Jan/1970:00:00:00 +0000");
        assert_eq!(clf_date(951_782_400), "29/Feb/2000:00:00:00 +0000");
        assert_eq!(clf_date(1_700_000_000), "14/Nov/2023:22:13:20 +0000");
        assert_eq!(py_repr_str("DELETE"), "'DELETE'");
        assert_eq!(py_repr_str("A'B"), "\"A'B\"");
        assert_eq!(html_escape("a&<b>"), "a&amp;&lt;b&gt;");
    }

    #[test]
    fn refuses_non_loopback() {
        let mut o = ServeOptions::new(Proto::P0006);
        o.addr = "0.0.0.0:0".into();
        o.log = LogTarget::Silent;
        assert!(matches!(start(o), Err(ServeError::NotLoopback { .. })));
        let mut o = ServeOptions::new(Proto::P0006);
        o.addr = "nonsense".into();
        assert!(matches!(start(o), Err(ServeError::BadAddress { .. })));
    }
}
