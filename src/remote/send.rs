//! Running real commands on a server as Mercurial's HTTP peer does, with
//! the revision's client reactor on both sides: it writes the request (a
//! `sender-protocol-settings` frame announcing content encodings, then
//! each command's frames; several commands go to `multirequest`) and
//! judges the response as it streams in (streams decoded, objects
//! reassembled per request, every frame the client would refuse noted).
//!
//! What is kept for the caller (frames, objects) is bounded by
//! [`Limits::max_value`]: past it the response is refused with
//! [`RemoteError::OverLimit`] rather than held in memory
//! (`hgframe decode --side response` streams any size). The body itself
//! streams, capped at the client's `--max-response` like every answer.

use std::collections::BTreeMap;

use crate::client::{Client, Exchange};
use crate::human::args::CommandCall;
use crate::python::cbor::{decode_all_limited, ITEM_COST};
use crate::python::value::Value;
use crate::reactor::client::response::{
    read_request_body, FrameEvent, ResponseDecoder, ResponseEvent, Summary, Verdict,
};
use crate::reactor::client::{
    new_client_reactor, ClientAction, ClientOptions, Command, Limits, OverLimit,
};
use crate::wire::frame::{Frame, FrameDecoder, LengthMode, Located, STREAM_ENCODED};
use crate::wire::ids::v0006::TEXT_OUTPUT;
use crate::wire::proto::{Proto, RequestLayout};

use super::{HttpError, RemoteError};

/// The encodings Mercurial's servers know.
pub const KNOWN_ENCODINGS: [&str; 3] = ["identity", "zlib", "zstd-8mb"];

/// A request body and the URL command it goes to.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The command in the URL: the command, or `multirequest`.
    pub url_command: String,
    pub body: Vec<u8>,
}

/// Why a request cannot be built.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PrepareError {
    /// The revision has no CBOR command requests.
    #[error(
        "send speaks protocol {}; --proto {proto} servers have no real commands over frames",
        cbor_revisions()
    )]
    NoCommands { proto: Proto },
    #[error("{0}")]
    Encode(String),
    /// Content encodings asked of a revision without sender settings.
    #[error("protocol {proto} ({}) has no content encodings: its clients send no sender-protocol-settings frame, and its server answers identity frames only\n  = drop --encodings", proto.table().releases.unwrap_or("unreleased"))]
    NoEncodings { proto: Proto },
}

fn cbor_revisions() -> String {
    Proto::all()
        .filter(|p| p.table().requests == RequestLayout::CborMap)
        .map(|p| match p.table().releases {
            Some(r) => format!("{p} ({r})"),
            None => p.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether the revision carries real commands over frames.
pub fn supports(proto: Proto) -> Result<(), PrepareError> {
    if proto.table().requests == RequestLayout::CborMap {
        Ok(())
    } else {
        Err(PrepareError::NoCommands { proto })
    }
}

/// Build the body as Mercurial's HTTP peer does (`httppeer.sendv2request`):
/// a client reactor with one send, buffered, announcing `encodings`,
/// issues the commands (request ids 1, 3, 5 …; `data` goes with the
/// first) and the frames it produces are the body.
pub fn prepare(
    proto: Proto,
    cmds: &[CommandCall],
    encodings: &[String],
    data: Option<&[u8]>,
) -> Result<Prepared, PrepareError> {
    supports(proto)?;
    let mut reactor = new_client_reactor(
        proto,
        ClientOptions {
            has_multiple_send: false,
            buffer_sends: true,
            content_encoders: Some(encodings.iter().map(|e| e.as_bytes().to_vec()).collect()),
            limits: Limits::default(),
        },
    )
    .map_err(|_| PrepareError::NoCommands { proto })?;
    for (i, c) in cmds.iter().enumerate() {
        let cmd = Command {
            name: c.name.as_bytes().to_vec(),
            args: Value::Dict(c.args.clone()),
            data: if i == 0 {
                data.map(|d| d.to_vec())
            } else {
                None
            },
            redirect: None,
        };
        reactor
            .call_command(cmd)
            .map_err(|e| PrepareError::Encode(e.to_string()))?;
    }
    let mut body = Vec::new();
    if let Ok(ClientAction::SendFrames(mut g)) = reactor.flush_commands() {
        while let Some(f) = reactor.next_frame(&mut g) {
            let f = f.map_err(|e| PrepareError::Encode(e.to_string()))?;
            f.encode_into(proto, &mut body)
                .map_err(|e| PrepareError::Encode(e.to_string()))?;
        }
    }
    let url_command = if cmds.len() > 1 {
        "multirequest".to_string()
    } else {
        cmds.first().map(|c| c.name.clone()).unwrap_or_default()
    };
    Ok(Prepared { url_command, body })
}

/// The URL a prepared request goes to.
pub fn url(client: &Client, proto: Proto, rw: bool, p: &Prepared) -> String {
    client.target.command_url(proto, rw, &p.url_command)
}

/// What one request got back.
#[derive(Debug, Clone, Default)]
pub struct RequestResult {
    pub request_id: u16,
    pub command: Option<String>,
    /// The CBOR values of its response data (the status map first).
    pub values: Vec<Value>,
    /// Error-response frames: `{type, message}` maps.
    pub errors: Vec<Value>,
    /// Text-output frames' atoms (decoded for display; a 6.0 client
    /// refuses these frames).
    pub text: Vec<Value>,
    pub complete: bool,
    pub problems: Vec<String>,
}

impl RequestResult {
    /// `ok`, `error`, `redirect`, `error-response` or `?`.
    pub fn status(&self) -> String {
        match self.values.first() {
            Some(Value::Dict(d)) => crate::python::value::dict_get(d, &Value::bytes("status"))
                .and_then(|s| s.as_bytes())
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_else(|| "?".into()),
            _ if !self.errors.is_empty() => "error-response".into(),
            _ => "?".into(),
        }
    }

    /// The command's objects (after the status map).
    pub fn objects(&self) -> &[Value] {
        self.values.get(1..).unwrap_or(&[])
    }
}

/// A decoded response, as `send` reports it.
#[derive(Debug, Clone, Default)]
pub struct SendResult {
    /// Every frame and the client reactor's verdict on it.
    pub frames: Vec<FrameEvent>,
    pub requests: Vec<RequestResult>,
    /// Stream id → encoding name.
    pub encodings: Vec<(u8, String)>,
    /// Problems with the response as a whole: undecodable bytes, frames a
    /// client refuses that belong to no request.
    pub problems: Vec<String>,
    pub summary: Summary,
}

/// Counts what is kept, against the bound.
struct Budget {
    used: u64,
    limit: u64,
}

impl Budget {
    fn charge(&mut self, bytes: u64, what: &str) -> Result<(), OverLimit> {
        self.used = self.used.saturating_add(bytes);
        if self.used > self.limit {
            return Err(OverLimit {
                what: format!("the response kept for send's report ({what})"),
                detail: format!(
                    "more than {} bytes of frames and objects; `hgframe decode --side response` streams a body of any size",
                    self.limit
                ),
                limit: self.limit,
            });
        }
        Ok(())
    }
}

/// A rough size of a value in memory, for the budget.
fn value_cost(v: &Value) -> u64 {
    ITEM_COST
        + match v {
            Value::Bytes(b) | Value::Chunk { data: b, .. } => b.len() as u64,
            Value::List(x) | Value::Tuple(x) | Value::Set(x) => x.iter().map(value_cost).sum(),
            Value::Dict(d) => d.iter().map(|(k, v)| value_cost(k) + value_cost(v)).sum(),
            _ => 0,
        }
}

/// POST a prepared request and decode the response as it arrives.
pub fn execute(
    client: &Client,
    proto: Proto,
    rw: bool,
    p: Prepared,
    limits: Limits,
) -> Result<SendResult, RemoteError> {
    execute_watched(client, proto, rw, p, limits, &mut |_| {})
}

/// [`execute`], handing `on_head` the request and the answer's head as
/// they went over the wire as soon as the head arrives (before the body
/// is read; an HTTP error too).
pub fn execute_watched(
    client: &Client,
    proto: Proto,
    rw: bool,
    p: Prepared,
    limits: Limits,
    on_head: &mut dyn FnMut(&Exchange),
) -> Result<SendResult, RemoteError> {
    let url = url(client, proto, rw, &p);
    // The reactor that judges the answer is the one that wrote the request.
    let request = read_request_body(proto, &p.body);
    let (mut dec, _) = ResponseDecoder::for_request(proto, &request, limits)?;
    let mut reply = client.post_frames_streaming(&url, proto, p.body)?;
    on_head(&reply.exchange);
    let ct = reply.header("content-type").unwrap_or("").to_string();
    // Error bodies are only summed up: the first MiB says what they are.
    const SHOWN: usize = 1 << 20;
    if reply.status != 200 {
        let body = reply.read_at_most(SHOWN)?;
        return Err(HttpError {
            what: format!("POST {}", crate::client::redact(&url)),
            status: reply.status,
            reason: reply.reason.clone(),
            content_type: ct,
            body,
        }
        .into());
    }
    if ct != proto.table().media_type {
        let body = reply.read_at_most(SHOWN)?;
        return Err(RemoteError::NotFrames {
            content_type: ct,
            body,
        });
    }
    let mut out = SendResult::default();
    let mut by_id: BTreeMap<u16, RequestResult> = BTreeMap::new();
    for c in &request.commands {
        by_id.insert(
            c.request_id,
            RequestResult {
                request_id: c.request_id,
                command: Some(String::from_utf8_lossy(&c.command.name).into_owned()),
                ..Default::default()
            },
        );
    }
    let mut budget = Budget {
        used: 0,
        limit: limits.max_value,
    };
    let mut frames = FrameDecoder::new(proto, LengthMode::Correct);
    let mut buf = vec![0u8; 64 * 1024];
    // The body streams, so its length costs no memory; --max-response
    // still caps it, as it does every answer hgframe reads.
    let mut total = 0u64;
    loop {
        let n = reply.read_body(&mut buf)?;
        total += n as u64;
        if total > client.max_response() {
            return Err(crate::client::ClientError::TooLarge {
                url: crate::client::redact(&url),
                max: client.max_response(),
            }
            .into());
        }
        if n == 0 {
            if let Err(e) = frames.finish() {
                out.problems.push(e.to_string());
            }
            break;
        }
        frames.feed(&buf[..n]);
        while let Some(l) = frames.next_frame() {
            budget.charge(l.frame.payload.len() as u64 + 64, "frames")?;
            dec.push_frame(l)?;
            while let Some(ev) = dec.poll() {
                take_event(ev?, &mut out, &mut by_id, &mut budget)?;
            }
        }
    }
    out.summary = dec.summary();
    out.encodings = out.summary.encodings.clone();
    for r in &out.summary.requests {
        let e = by_id.entry(r.request_id).or_insert_with(|| RequestResult {
            request_id: r.request_id,
            ..Default::default()
        });
        e.complete = r.complete;
        if !r.complete {
            e.problems
                .push("the response ended before its end-of-stream frame".into());
        }
    }
    if let Some((i, e)) = &out.summary.stopped {
        out.problems.push(format!(
            "a Mercurial client stops reading at frame {i}: {e}"
        ));
    }
    out.requests = by_id.into_values().collect();
    Ok(out)
}

fn request(by_id: &mut BTreeMap<u16, RequestResult>, id: u16) -> &mut RequestResult {
    by_id.entry(id).or_insert_with(|| RequestResult {
        request_id: id,
        ..Default::default()
    })
}

fn take_event(
    ev: ResponseEvent,
    out: &mut SendResult,
    by_id: &mut BTreeMap<u16, RequestResult>,
    budget: &mut Budget,
) -> Result<(), OverLimit> {
    match ev {
        ResponseEvent::Frame(fe) => {
            let f: &Located<Frame> = &fe.frame;
            let rid = f.frame.request_id;
            let refusal = match &fe.verdict {
                Verdict::ServerError { kind, message, .. } => {
                    request(by_id, rid).errors.push(Value::dict([
                        ("type", kind.clone()),
                        ("message", message.clone()),
                    ]));
                    None
                }
                Verdict::Rejected { message } => Some(format!(
                    "frame {} (offset {}): a Mercurial client refuses it: {}",
                    fe.index,
                    f.offset,
                    String::from_utf8_lossy(message)
                )),
                Verdict::Raises(c) => Some(format!(
                    "frame {} (offset {}): a Mercurial client raises {} ({})",
                    fe.index, f.offset, c.exception, c.why
                )),
                _ => None,
            };
            if let Some(m) = refusal {
                match by_id.get_mut(&rid) {
                    Some(r) => r.problems.push(m),
                    None => out.problems.push(m),
                }
            }
            if f.frame.type_id == TEXT_OUTPUT && f.frame.stream_flags & STREAM_ENCODED == 0 {
                if let Ok(v) = decode_all_limited(&f.frame.payload, budget.limit) {
                    if let Some(r) = by_id.get_mut(&rid) {
                        r.text.extend(v);
                    }
                }
            }
            out.frames.push(fe);
        }
        ResponseEvent::Object {
            request_id, value, ..
        } => {
            budget.charge(value_cost(&value), "objects")?;
            request(by_id, request_id).values.push(value);
        }
        ResponseEvent::DataError { request_id, error } => {
            request(by_id, request_id).problems.push(format!(
                "its data is not valid CBOR: {error} (a Mercurial client fails the request)"
            ));
        }
    }
    Ok(())
}

/// Whether the response reports a failure: a status other than `ok`, a
/// frame a client refuses, or problems decoding it.
pub fn failed(d: &SendResult) -> bool {
    d.requests
        .iter()
        .any(|r| r.status() != "ok" || !r.problems.is_empty())
        || !d.problems.is_empty()
}
