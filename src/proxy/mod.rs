//! `hgframe proxy`: stand between a real Mercurial client and server and
//! watch the exchange. [`crate::server::forward`] does the forwarding
//! (untouched, streamed); this module watches: each request's frames run
//! through the local server reactor (what the server will do), each
//! response's frames decoded as they pass and run through the client
//! reactor that wrote the request (what the client gets: its objects, and
//! what it refuses), both cross-checked, and the requests kept for a
//! replay transcript. Memory per exchange is bounded: frames and objects
//! are handed out as they pass, the client reactor under its
//! [`Limits`].
//!
//! It hands out [`ProxyEvent`]s to a sink and prints nothing; the upstream
//! connection is [`crate::client`]'s ([`ClientUpstream`]).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::client::Client;
use crate::human::to_human;
use crate::python::escape::hex;
use crate::python::value::Value;
use crate::reactor::client::response::{
    read_request_body, RequestBody, RequestSummary, ResponseDecoder, ResponseEvent, Verdict,
};
use crate::reactor::client::Limits;
use crate::reactor::{Action, ReactorOptions};
use crate::reflect::{line_values, parse_reflect_body, reflect_bytes, same_up_to_set_order};
use crate::remote::body_summary;
use crate::server::forward::{header, Ended, Incoming, Outgoing, Upstream, Watcher};
use crate::session::{Responder, Session, Step};
use crate::wire::frame::{Frame, FrameDecoder, LengthMode, Located};
use crate::wire::proto::Proto;

/// The upstream server, through the HTTP client.
pub struct ClientUpstream(pub Client);

impl Upstream for ClientUpstream {
    fn send(&self, req: &Outgoing) -> Result<Incoming, String> {
        let r = self
            .0
            .send_streaming(&req.method, &req.target, &req.headers, req.body.clone())
            .map_err(|e| e.to_string())?;
        Ok(Incoming {
            status: r.status,
            reason: r.reason,
            headers: r.headers,
            body: r.body,
        })
    }
}

/// What an exchange is, from its URL and headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExchangeKind {
    /// `GET /?cmd=capabilities`: the version-1 handshake.
    Handshake,
    /// A POST to a command URL of the frame protocol.
    Command {
        proto: Proto,
        /// The command in the URL (`multirequest` for several).
        command: String,
        /// The commands the request dispatches (from its frames).
        commands: Vec<String>,
    },
    /// A POST to `debugreflect`.
    Reflect { proto: Proto },
    /// Anything else (passed through, not decoded).
    Other,
}

/// What the proxy saw.
#[derive(Debug)]
pub enum ProxyEvent {
    /// A request arrived and went upstream.
    Request {
        id: u64,
        remote: SocketAddr,
        method: String,
        target: String,
        request_bytes: usize,
        kind: ExchangeKind,
    },
    /// One of the request's frames as the local server reactor handles it
    /// (or the bytes it cannot read).
    RequestStep { id: u64, proto: Proto, step: Step },
    /// The answer's status line.
    Response {
        id: u64,
        status: u16,
        reason: String,
        content_type: String,
    },
    /// A response frame, as it passed.
    ResponseFrame {
        id: u64,
        proto: Proto,
        frame: Located<Frame>,
    },
    /// What the client reactor made of a response frame, when it is more
    /// than data: a stream's encoding set, an error-response, a frame a
    /// Mercurial client refuses or raises on.
    ClientVerdict { id: u64, verdict: Verdict },
    /// A complete object of a request's response data, as the client
    /// decodes it (index 0: the status map).
    Object {
        id: u64,
        request_id: u16,
        index: u64,
        value: Value,
    },
    /// The client cannot go on decoding (its CBOR decoder raised, or
    /// hgframe's memory bound).
    ClientStops { id: u64, message: String },
    /// Per request, what the client got in all.
    ClientSummary {
        id: u64,
        requests: Vec<RequestSummary>,
    },
    /// A body that is not frames: the handshake's CBOR values, or text and
    /// HTML summed up in lines.
    ResponseBody { id: u64, body: BodySummary },
    /// The local reactor and the server disagree.
    Disagreement { id: u64, message: String },
    /// The exchange is over.
    Ended {
        id: u64,
        response_bytes: u64,
        elapsed: Duration,
        error: Option<String>,
    },
    /// The upstream could not be asked (the client got 502).
    Failed { id: u64, message: String },
}

impl ProxyEvent {
    /// The exchange the event belongs to.
    pub fn id(&self) -> u64 {
        match self {
            ProxyEvent::Request { id, .. }
            | ProxyEvent::RequestStep { id, .. }
            | ProxyEvent::Response { id, .. }
            | ProxyEvent::ResponseFrame { id, .. }
            | ProxyEvent::ClientVerdict { id, .. }
            | ProxyEvent::Object { id, .. }
            | ProxyEvent::ClientStops { id, .. }
            | ProxyEvent::ClientSummary { id, .. }
            | ProxyEvent::ResponseBody { id, .. }
            | ProxyEvent::Disagreement { id, .. }
            | ProxyEvent::Ended { id, .. }
            | ProxyEvent::Failed { id, .. } => *id,
        }
    }
}

/// A body that is not frames, as the proxy read it.
#[derive(Debug)]
pub enum BodySummary {
    /// `application/mercurial-cbor`: its values.
    Cbor(Vec<crate::python::value::Value>),
    /// Lines fit for a terminal (see [`crate::remote::body_summary`]).
    Lines(Vec<String>),
}

/// A request kept for the transcript.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub proto: Proto,
    pub body: Vec<u8>,
}

/// The most of a non-frame body, or of a debugreflect answer, kept to sum
/// up or compare (frames are decoded as they pass and never kept).
const KEEP: usize = 1 << 20;

/// What the local reactor predicts for a request.
enum Prediction {
    /// A debugreflect body (or the 500 it gets), with the request.
    Reflect {
        proto: Proto,
        request: Vec<u8>,
        body: Result<Vec<u8>, String>,
    },
    /// Command URL: the request ids dispatched, or the reactor's error
    /// text (answered as text/plain), or a 500.
    Commands(Result<Vec<u16>, String>),
    None,
}

struct Exchange {
    kind: ExchangeKind,
    /// The commands the request issued, for the client reactor.
    request_body: Option<RequestBody>,
    /// The client reactor judging the response (command URLs whose
    /// revision has one).
    client: Option<ResponseDecoder>,
    prediction: Prediction,
    status: u16,
    content_type: String,
    decoder: Option<(Proto, FrameDecoder)>,
    kept: Vec<u8>,
    total: u64,
    response_ids: Vec<u16>,
}

/// Watches exchanges and hands out events; keeps `/api/` requests for
/// the transcript.
pub struct ProxyWatch {
    sink: Arc<dyn Fn(ProxyEvent) + Send + Sync>,
    exchanges: Mutex<HashMap<u64, Exchange>>,
    recorded: Mutex<Vec<Recorded>>,
}

impl ProxyWatch {
    pub fn new(sink: Arc<dyn Fn(ProxyEvent) + Send + Sync>) -> Self {
        ProxyWatch {
            sink,
            exchanges: Mutex::new(HashMap::new()),
            recorded: Mutex::new(Vec::new()),
        }
    }

    /// The frame-protocol requests seen so far, in order.
    pub fn recorded(&self) -> Vec<Recorded> {
        self.recorded.lock().map(|r| r.clone()).unwrap_or_default()
    }

    fn emit(&self, e: ProxyEvent) {
        (self.sink)(e)
    }
}

/// What a request is: the handshake, a command, debugreflect, or other.
fn classify(req: &Outgoing) -> ExchangeKind {
    let (path, query) = match req.target.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (req.target.as_str(), None),
    };
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    if req.method == "GET" && query.is_some_and(|q| q.split('&').any(|kv| kv == "cmd=capabilities"))
    {
        return ExchangeKind::Handshake;
    }
    // .../api/<API>/<perm>/<command>, with any prefix (hgweb paths).
    let Some(i) = parts.iter().rposition(|p| *p == "api") else {
        return ExchangeKind::Other;
    };
    let rest = &parts[i + 1..];
    if req.method != "POST" || rest.len() != 3 {
        return ExchangeKind::Other;
    }
    let by_type = req.header("content-type").and_then(Proto::by_media_type);
    let by_api = Proto::by_api_name(rest[0]);
    let proto = match (by_type, by_api.as_slice()) {
        (Some(p), _) if by_api.contains(&p) => p,
        (None, [p]) => *p,
        _ if rest[2] == "debugreflect" && by_api.len() == 1 => by_api[0],
        _ => return ExchangeKind::Other,
    };
    if rest[2] == "debugreflect" {
        ExchangeKind::Reflect { proto }
    } else {
        ExchangeKind::Command {
            proto,
            command: rest[2].to_string(),
            commands: Vec::new(),
        }
    }
}

impl Watcher for ProxyWatch {
    fn request(&self, id: u64, remote: SocketAddr, req: &Outgoing) {
        let mut kind = classify(req);
        let mut steps = Vec::new();
        let prediction = match &mut kind {
            ExchangeKind::Reflect { proto } => {
                let p = *proto;
                steps = run_local(p, &req.body, false);
                Prediction::Reflect {
                    proto: p,
                    request: req.body.clone(),
                    body: reflect_bytes(p, &req.body).map_err(|e| e.to_string()),
                }
            }
            ExchangeKind::Command {
                proto, commands, ..
            } => {
                let p = *proto;
                steps = run_local(p, &req.body, true);
                let mut ids = Vec::new();
                let mut error = None;
                for s in &steps {
                    match s {
                        Step::Frame {
                            outcome: Ok(Action::RunCommand(rc)),
                            ..
                        } => {
                            ids.push(rc.request_id.unwrap_or(0));
                            commands.push(
                                rc.command
                                    .as_bytes()
                                    .map(|b| String::from_utf8_lossy(b).into_owned())
                                    .unwrap_or_else(|| format!("<{}>", rc.command.type_name())),
                            );
                        }
                        Step::Frame {
                            outcome: Ok(Action::Error { message }),
                            ..
                        } if error.is_none() => {
                            error = Some(String::from_utf8_lossy(message).into_owned());
                        }
                        Step::Frame {
                            outcome: Err(c), ..
                        } if error.is_none() => {
                            error = Some(format!("HTTP 500 ({})", c.exception));
                        }
                        Step::Undecodable(e) if error.is_none() => {
                            error = Some(format!("HTTP 500 ({e})"));
                        }
                        _ => {}
                    }
                }
                Prediction::Commands(match error {
                    Some(e) => Err(e),
                    None => Ok(ids),
                })
            }
            _ => Prediction::None,
        };
        if let ExchangeKind::Command { proto, .. } | ExchangeKind::Reflect { proto } = &kind {
            if let Ok(mut r) = self.recorded.lock() {
                r.push(Recorded {
                    proto: *proto,
                    body: req.body.clone(),
                });
            }
        }
        self.emit(ProxyEvent::Request {
            id,
            remote,
            method: req.method.clone(),
            target: req.target.clone(),
            request_bytes: req.body.len(),
            kind: kind.clone(),
        });
        if let ExchangeKind::Command { proto, .. } | ExchangeKind::Reflect { proto } = &kind {
            for step in steps {
                self.emit(ProxyEvent::RequestStep {
                    id,
                    proto: *proto,
                    step,
                });
            }
        }
        let request_body = match &kind {
            ExchangeKind::Command { proto, .. } => Some(read_request_body(*proto, &req.body)),
            _ => None,
        };
        if let Ok(mut x) = self.exchanges.lock() {
            x.insert(
                id,
                Exchange {
                    request_body,
                    client: None,
                    kind,
                    prediction,
                    status: 0,
                    content_type: String::new(),
                    decoder: None,
                    kept: Vec::new(),
                    total: 0,
                    response_ids: Vec::new(),
                },
            );
        }
    }

    fn response(&self, id: u64, status: u16, reason: &str, headers: &[(String, String)]) {
        let content_type = header(headers, "content-type").unwrap_or("").to_string();
        if let Ok(mut x) = self.exchanges.lock() {
            if let Some(e) = x.get_mut(&id) {
                e.status = status;
                e.content_type = content_type.clone();
                if let Some(p) = Proto::by_media_type(&content_type) {
                    e.decoder = Some((p, FrameDecoder::new(p, LengthMode::Correct)));
                    if let Some(rb) = e.request_body.take() {
                        e.client = ResponseDecoder::for_request(p, &rb, Limits::default())
                            .ok()
                            .map(|(d, _)| d);
                    }
                }
            }
        }
        self.emit(ProxyEvent::Response {
            id,
            status,
            reason: reason.to_string(),
            content_type,
        });
    }

    fn chunk(&self, id: u64, data: &[u8]) {
        let mut frames = Vec::new();
        let mut decoded = Vec::new();
        if let Ok(mut x) = self.exchanges.lock() {
            if let Some(e) = x.get_mut(&id) {
                e.total += data.len() as u64;
                let keep = matches!(e.kind, ExchangeKind::Reflect { .. }) || e.decoder.is_none();
                if keep && e.kept.len() < KEEP {
                    let n = (KEEP - e.kept.len()).min(data.len());
                    e.kept.extend_from_slice(&data[..n]);
                }
                if let Some((p, dec)) = &mut e.decoder {
                    dec.feed(data);
                    while let Some(f) = dec.next_frame() {
                        if !e.response_ids.contains(&f.frame.request_id) {
                            e.response_ids.push(f.frame.request_id);
                        }
                        let at = frames.len();
                        if let Some(client) = &mut e.client {
                            let mut stop = None;
                            match client.push_frame(f.clone()) {
                                Err(o) => stop = Some(o.to_string()),
                                Ok(()) => {
                                    while let Some(ev) = client.poll() {
                                        match ev {
                                            Ok(ev) => decoded.push((at, ev)),
                                            Err(o) => {
                                                stop = Some(o.to_string());
                                                break;
                                            }
                                        }
                                    }
                                }
                            }
                            if let Some(message) = stop {
                                decoded.push((
                                    at,
                                    ResponseEvent::DataError {
                                        request_id: u16::MAX,
                                        error: message,
                                    },
                                ));
                                e.client = None;
                            }
                        }
                        frames.push((*p, f));
                    }
                }
            }
        }
        // Each frame, then what the client made of it.
        let mut decoded = decoded.into_iter().peekable();
        for (i, (proto, frame)) in frames.into_iter().enumerate() {
            self.emit(ProxyEvent::ResponseFrame { id, proto, frame });
            while let Some((_, ev)) = decoded.next_if(|(at, _)| *at == i) {
                match ev {
                    ResponseEvent::Frame(fe) => {
                        let interesting = match &fe.verdict {
                            Verdict::Data { .. } => false,
                            Verdict::Noop { encoding } => encoding.is_some(),
                            _ => true,
                        };
                        if interesting {
                            self.emit(ProxyEvent::ClientVerdict {
                                id,
                                verdict: fe.verdict,
                            });
                        }
                    }
                    ResponseEvent::Object {
                        request_id,
                        index,
                        value,
                    } => self.emit(ProxyEvent::Object {
                        id,
                        request_id,
                        index,
                        value,
                    }),
                    ResponseEvent::DataError { request_id, error } => {
                        let message = if request_id == u16::MAX {
                            error
                        } else {
                            format!("request {request_id}: {error}")
                        };
                        self.emit(ProxyEvent::ClientStops { id, message })
                    }
                }
            }
        }
    }

    fn ended(&self, id: u64, end: &Ended) {
        let e = self.exchanges.lock().ok().and_then(|mut x| x.remove(&id));
        if let Some(e) = e {
            if e.decoder.is_none() && !e.kept.is_empty() {
                let cbor = (e.content_type == "application/mercurial-cbor")
                    .then(|| {
                        crate::python::cbor::decode_all_limited(&e.kept, KEEP as u64 * 64).ok()
                    })
                    .flatten();
                let body = match cbor {
                    Some(values) => BodySummary::Cbor(values),
                    None => {
                        let mut lines = body_summary(&e.content_type, &e.kept);
                        if e.total as usize > e.kept.len() {
                            lines.push(format!("… ({} bytes in all)", e.total));
                        }
                        BodySummary::Lines(lines)
                    }
                };
                self.emit(ProxyEvent::ResponseBody { id, body });
            }
            if let Some(client) = &e.client {
                self.emit(ProxyEvent::ClientSummary {
                    id,
                    requests: client.summary().requests,
                });
            }
            if let Some((_, dec)) = &e.decoder {
                if let Err(err) = dec.finish() {
                    self.emit(ProxyEvent::Disagreement {
                        id,
                        message: format!("the response ends inside a frame: {err}"),
                    });
                }
            }
            for message in cross_check(&e) {
                self.emit(ProxyEvent::Disagreement { id, message });
            }
        }
        self.emit(ProxyEvent::Ended {
            id,
            response_bytes: end.response_bytes,
            elapsed: end.elapsed,
            error: end.error.clone(),
        });
    }

    fn failed(&self, id: u64, message: &str) {
        if let Ok(mut x) = self.exchanges.lock() {
            x.remove(&id);
        }
        self.emit(ProxyEvent::Failed {
            id,
            message: message.to_string(),
        });
    }
}

/// A request body through a fresh local session, as a server runs it
/// (command URLs buffer their output until the body ends).
fn run_local(proto: Proto, body: &[u8], defer: bool) -> Vec<Step> {
    let mut s = Session::new(
        proto,
        ReactorOptions {
            defer_output: defer,
            ..ReactorOptions::default()
        },
        Responder::default(),
    );
    s.push_bytes(body);
    s.finish_input();
    let mut steps = Vec::new();
    while let Some(st) = s.poll() {
        let stop = matches!(
            st,
            Step::Frame {
                outcome: Err(_),
                ..
            } | Step::Undecodable(_)
        );
        steps.push(st);
        if stop {
            break;
        }
    }
    steps
}

/// Where what the server did differs from the local prediction.
fn cross_check(e: &Exchange) -> Vec<String> {
    let mut out = Vec::new();
    match &e.prediction {
        Prediction::Reflect {
            proto,
            request,
            body: predicted,
        } => match (e.status, predicted) {
            (200, Ok(_)) if e.total as usize > KEEP => {}
            (200, Ok(body)) if *body == e.kept => {}
            (200, Ok(body)) => {
                if let Some(m) = reflect_difference(*proto, request, body, &e.kept) {
                    out.push(m);
                }
            }
            (200, Err(why)) => out.push(format!(
                "the local reactor predicts HTTP 500 ({why}); the server answered 200"
            )),
            (500, Ok(_)) => {
                out.push("the server answered HTTP 500; the local reactor predicts a body".into())
            }
            _ => {}
        },
        Prediction::Commands(predicted) => {
            let frames = e.decoder.is_some();
            match predicted {
                Ok(ids) if e.status == 200 && frames => {
                    let mut missing: Vec<u16> = ids
                        .iter()
                        .copied()
                        .filter(|i| !e.response_ids.contains(i))
                        .collect();
                    missing.sort_unstable();
                    let mut extra: Vec<u16> = e
                        .response_ids
                        .iter()
                        .copied()
                        .filter(|i| !ids.contains(i))
                        .collect();
                    extra.sort_unstable();
                    if !missing.is_empty() {
                        out.push(format!(
                            "requests {missing:?} were dispatched (local reactor) but got no response frame"
                        ));
                    }
                    if !extra.is_empty() {
                        out.push(format!(
                            "response frames for requests {extra:?}, which the local reactor did not dispatch"
                        ));
                    }
                }
                Ok(ids) if e.status == 200 && !ids.is_empty() => {
                    let text = String::from_utf8_lossy(&e.kept);
                    out.push(format!(
                        "the local reactor dispatches requests {ids:?}; the server answered {} instead of frames: {}",
                        if e.content_type.is_empty() { "no content type" } else { e.content_type.as_str() },
                        crate::remote::terminal_safe(text.trim(), 200)
                    ));
                }
                Err(msg) if e.status == 200 && frames => out.push(format!(
                    "the local reactor predicts `{msg}`; the server answered frames"
                )),
                Err(msg) if e.status == 200 && !msg.starts_with("HTTP 500") => {
                    let text = String::from_utf8_lossy(&e.kept);
                    if text.trim_end() != msg.trim_end() {
                        out.push(format!(
                            "the local reactor predicts `{msg}`; the server answered `{}`",
                            crate::remote::terminal_safe(text.trim(), 200)
                        ));
                    }
                }
                _ => {}
            }
        }
        Prediction::None => {}
    }
    out
}

/// Where a server's debugreflect body says something other than the local
/// prediction, reading sets' members in any order (a Python server lists
/// them in its hash seed's order); `None` when they agree.
fn reflect_difference(
    proto: Proto,
    request: &[u8],
    predicted: &[u8],
    got: &[u8],
) -> Option<String> {
    let frames = crate::remote::sent_frames(proto, request);
    let ours = parse_reflect_body(proto, &frames, predicted);
    let theirs = parse_reflect_body(proto, &frames, got);
    if !theirs.problems.is_empty() {
        return Some(format!(
            "the server's debugreflect body does not read as the frames sent: {}",
            theirs.problems.join("; ")
        ));
    }
    let (shapes, eof_shape) = line_values(proto, request);
    for (i, (a, b)) in ours.steps.iter().zip(&theirs.steps).enumerate() {
        let same = shapes
            .get(i)
            .is_some_and(|s| same_up_to_set_order(s, &a.raw, &b.raw));
        if !same {
            return Some(format!(
                "for the frame at offset {}: the local reactor predicts {} but the server printed {}",
                a.frame.offset,
                crate::remote::terminal_safe(&String::from_utf8_lossy(&a.raw), 300),
                crate::remote::terminal_safe(&String::from_utf8_lossy(&b.raw), 300)
            ));
        }
    }
    let eof_same =
        eof_shape.is_some_and(|s| same_up_to_set_order(&s, &ours.eof_raw, &theirs.eof_raw));
    if !eof_same {
        return Some(format!(
            "at the end of input: the local reactor predicts {} but the server printed {}",
            crate::remote::terminal_safe(&String::from_utf8_lossy(&ours.eof_raw), 300),
            crate::remote::terminal_safe(&String::from_utf8_lossy(&theirs.eof_raw), 300)
        ));
    }
    None
}

/// A replay transcript of recorded requests: each request's frames as
/// human strings (undecodable trailing bytes as `bin`), then `eof`; the
/// expected output is filled in by running it (`replay --update`), so
/// `hgframe replay --url UPSTREAM FILE` checks that the server still
/// answers as it did.
pub fn transcript_skeleton(recorded: &[Recorded]) -> Option<(Proto, String)> {
    let proto = recorded.first()?.proto;
    let mut s = format!("# recorded by hgframe proxy\nproto {proto}\n");
    for r in recorded.iter().filter(|r| r.proto == proto) {
        let mut dec = FrameDecoder::new(proto, LengthMode::Mercurial);
        dec.feed(&r.body);
        while let Some(f) = dec.next_frame() {
            s.push_str(&format!("> {}\n", to_human(proto, &f.frame)));
        }
        if !dec.pending().is_empty() {
            s.push_str(&format!("bin {}\n", hex(dec.pending())));
        }
        s.push_str("eof\n");
    }
    Some((proto, s))
}
