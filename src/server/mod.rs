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

mod body;
mod dispatch;
pub mod forward;
mod gone;
mod handshake;
pub mod http;
mod log;
mod pycompat;
mod reply;
mod routing;

use log::access_entry;
pub use log::AccessEntry;
use routing::route;

use std::fmt;
use std::future::Future;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::pin::Pin;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use self::http::{header, HeaderMap, Method, Request, Response as HttpResponse};

use crate::session::Responder;
use crate::wire::proto::Proto;

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
    /// Each entry handed to a function, to print as it likes
    /// ([`AccessEntry::line`], [`AccessEntry::json`]).
    Entries(Arc<dyn Fn(&AccessEntry) + Send + Sync>),
}

impl fmt::Debug for LogTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LogTarget::Stderr => "Stderr",
            LogTarget::Silent => "Silent",
            LogTarget::Callback(_) => "Callback(..)",
            LogTarget::Entries(_) => "Entries(..)",
        })
    }
}

impl LogTarget {
    fn write(&self, entry: &AccessEntry) {
        match self {
            LogTarget::Stderr => eprintln!("{}", entry.line()),
            LogTarget::Silent => {}
            LogTarget::Callback(f) => f(&entry.line()),
            LogTarget::Entries(f) => f(entry),
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
    /// The most all requests' bodies may hold at once (bytes); past it,
    /// 503 with `Retry-After`.
    pub max_total_body: u64,
    /// The most a decoded request value may take
    /// ([`crate::reactor::ReactorOptions::max_value`]); past it, 500.
    pub max_value: u64,
    /// Time a client has to deliver its request body.
    pub timeout: Duration,
    /// Serve `debugreflect` (else 404, as without `web.api.debugreflect`).
    pub reflect: bool,
    /// See [`ListenOptions::on_idle`].
    pub on_idle: Option<fn()>,
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
            max_body: DEFAULT_MAX_BODY,
            max_total_body: DEFAULT_MAX_TOTAL_BODY,
            max_value: crate::reactor::DEFAULT_MAX_VALUE,
            timeout: Duration::from_secs(30),
            reflect: true,
            on_idle: None,
            log: LogTarget::Stderr,
        }
    }
}

/// The largest request body `serve` and `proxy` accept by default.
pub const DEFAULT_MAX_BODY: u64 = 64 * 1024 * 1024;

/// The most all request bodies may hold together by default.
pub const DEFAULT_MAX_TOTAL_BODY: u64 = 256 * 1024 * 1024;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The address is not `HOST:PORT` or does not resolve.
    #[error("cannot listen on {addr:?}: {reason}\n  = expected HOST:PORT, e.g. 127.0.0.1:8000 or [::1]:8000")]
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

/// An HTTP request handler: the connection's peer and the request in, the
/// response out.
pub type Handler = Arc<
    dyn Fn(SocketAddr, Request) -> Pin<Box<dyn Future<Output = HttpResponse> + Send>> + Send + Sync,
>;

/// Where and how to listen.
#[derive(Debug, Clone)]
pub struct ListenOptions {
    /// `HOST:PORT` (port 0 picks a free port).
    pub addr: String,
    /// Allow a non-loopback address.
    pub public: bool,
    /// Time a client has to send its request head.
    pub header_timeout: Duration,
    /// Name of the server's thread.
    pub name: &'static str,
    /// Called on a worker thread each time it runs out of work (the
    /// binary hands its allocator's "give freed memory back" here, so an
    /// idle server returns to its baseline; the library knows no
    /// allocator).
    pub on_idle: Option<fn()>,
}

/// How often a worker may run the idle hook at most.
const IDLE_EVERY: Duration = Duration::from_millis(250);

/// Bind and serve `handler` on a thread of its own (HTTP/1.1, keep-alive,
/// a timeout on request heads, graceful shutdown); returns once bound.
/// `serve` and `proxy` both listen through here.
pub fn listen(opts: ListenOptions, handler: Handler) -> Result<ServerHandle, ServeError> {
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
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all().thread_name(opts.name);
    if let Some(f) = opts.on_idle {
        // At most every IDLE_EVERY per thread: giving memory back purges
        // pages, and a worker that parks between each request of one
        // keep-alive client paid for a purge (TLB shootdowns, page faults)
        // per request: half the 1-connection throughput (profiled).
        builder.on_thread_park(move || {
            thread_local! {
                static LAST: std::cell::Cell<Option<std::time::Instant>> =
                    const { std::cell::Cell::new(None) };
            }
            let now = std::time::Instant::now();
            if LAST
                .get()
                .is_none_or(|t| now.duration_since(t) >= IDLE_EVERY)
            {
                LAST.set(Some(now));
                f();
            }
        });
    }
    let rt = builder.build().map_err(ServeError::Runtime)?;
    if opts.on_idle.is_some() {
        // A tick, so that a worker whose last park came too soon after
        // its last purge wakes and parks again once the load is over.
        rt.spawn(async {
            let mut tick = tokio::time::interval(IDLE_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
            }
        });
    }
    let listener = {
        let _guard = rt.enter();
        tokio::net::TcpListener::from_std(std_listener).map_err(ServeError::Runtime)?
    };
    let (tx, rx) = tokio::sync::watch::channel(false);
    let timeout = opts.header_timeout;
    let thread = std::thread::Builder::new()
        .name(opts.name.into())
        .spawn(move || {
            rt.block_on(serve_until(listener, handler, timeout, rx));
            rt.shutdown_timeout(Duration::from_millis(200));
        })
        .map_err(ServeError::Runtime)?;
    Ok(ServerHandle {
        addr: local,
        stop: Some(tx),
        thread: Some(thread),
    })
}

/// Bind and start serving on a thread of its own; returns once bound.
pub fn start(opts: ServeOptions) -> Result<ServerHandle, ServeError> {
    let ctx = Arc::new(Ctx {
        proto: opts.proto,
        responder: opts.responder,
        max_body: opts.max_body,
        budget: body::Budget::new(opts.max_total_body),
        max_value: opts.max_value,
        workers: Arc::new(tokio::sync::Semaphore::new(
            std::thread::available_parallelism().map_or(2, |n| n.get()),
        )),
        timeout: opts.timeout,
        reflect: opts.reflect,
        log: opts.log,
    });
    let listen_opts = ListenOptions {
        addr: opts.addr,
        public: opts.public,
        header_timeout: opts.timeout,
        name: "hgframe-serve",
        on_idle: opts.on_idle,
    };
    let handler: Handler = Arc::new(move |remote, req| {
        let ctx = ctx.clone();
        Box::pin(async move { handle(ctx, remote, req).await })
    });
    listen(listen_opts, handler)
}

async fn serve_until(
    listener: tokio::net::TcpListener,
    handler: Handler,
    header_timeout: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    // Our own accept loop on hyper so that a
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
            // Reap finished connections as they finish (their memory goes
            // back even when no new client comes).
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
        };
        let handler = handler.clone();
        let mut conn_stop = stop.clone();
        let conn_fd = gone::ConnFd::of(&stream);
        tasks.spawn(async move {
            let service = hyper::service::service_fn(
                move |mut req: hyper::Request<hyper::body::Incoming>| {
                    let handler = handler.clone();
                    req.extensions_mut().insert(conn_fd);
                    async move { Ok::<_, std::convert::Infallible>(handler(remote, req).await) }
                },
            );
            let mut builder = hyper::server::conn::http1::Builder::new();
            // half_close: a client that shuts down its sending side after
            // the request still gets the answer, as from `hg serve`.
            builder
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(header_timeout)
                .half_close(true)
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
    budget: body::Budget,
    max_value: u64,
    /// One permit per core: protocol work running at once.
    workers: Arc<tokio::sync::Semaphore>,
    timeout: Duration,
    reflect: bool,
    log: LogTarget,
}

/// A request being answered. If the connection fails before the answer
/// (the client has gone), hyper drops the request's future and with it
/// this guard, which stops the protocol work and writes the log line.
struct InFlight {
    ctx: Arc<Ctx>,
    remote: SocketAddr,
    method: Method,
    target: String,
    version: http::Version,
    started: Instant,
    gone: gone::Gone,
    answered: bool,
}

impl InFlight {
    fn log(&self, status: http::StatusCode, sent: usize, note: Option<&str>) {
        if !matches!(self.ctx.log, LogTarget::Silent) {
            self.ctx.log.write(&access_entry(
                self.remote,
                self.method.as_str(),
                &self.target,
                self.version,
                status,
                sent,
                self.started.elapsed(),
                note,
            ));
        }
    }
}

/// Status 499 (nginx's "client closed request"), for the log only.
fn client_gone() -> http::StatusCode {
    http::StatusCode::from_u16(499).unwrap_or(http::StatusCode::BAD_REQUEST)
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.answered {
            return;
        }
        self.gone.set();
        self.log(
            client_gone(),
            0,
            Some("the client went away before the answer; its work stopped"),
        );
    }
}

async fn handle(ctx: Arc<Ctx>, remote: SocketAddr, req: Request) -> HttpResponse {
    let started = Instant::now();
    let version = req.version();
    let keep_alive = python_keeps_alive(version, req.headers());
    let conn = req.extensions().get::<gone::ConnFd>().copied();
    let mut flight = InFlight {
        ctx: ctx.clone(),
        remote,
        method: req.method().clone(),
        target: req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| req.uri().to_string()),
        version,
        started,
        gone: gone::Gone::new(conn),
        answered: false,
    };
    let reply = route(&ctx, req, started + ctx.timeout, flight.gone.clone()).await;
    flight.answered = true;
    let head = flight.method == Method::HEAD;
    if flight.gone.seen() {
        // The socket reported a reset while the work ran: nobody reads
        // this answer (hyper's write fails and closes the connection).
        flight.log(
            client_gone(),
            0,
            Some("the client reset the connection before the answer; its work stopped"),
        );
        return reply.closing().into_response(head, false);
    }
    let size = if head { 0 } else { reply.len() };
    let status = reply.status;
    let note = reply.note.clone();
    // The line is written when hyper is done with the body: with what it
    // handed to the socket.
    reply.into_response_then(head, keep_alive, move |left| {
        let left = if head { 0 } else { left as usize };
        if left == 0 {
            flight.log(status, size, note.as_deref());
        } else {
            let why = format!(
                "the connection failed while the answer was sent: {} of {size} bytes went out{}",
                size - left.min(size),
                note.map(|n| format!("; {n}")).unwrap_or_default()
            );
            flight.log(status, size - left.min(size), Some(&why));
        }
    })
}

/// Whether Python's http.server keeps this connection open (and so
/// streams bodies chunked): HTTP/1.1 without `Connection: close`.
fn python_keeps_alive(version: http::Version, headers: &HeaderMap) -> bool {
    version == http::Version::HTTP_11
        && !headers
            .get(header::CONNECTION)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"close"))
}

#[cfg(test)]
mod tests {
    use super::*;

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
