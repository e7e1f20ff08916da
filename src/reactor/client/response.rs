//! A response body decoded as a Mercurial client decodes it: frames through
//! the revision's [`ClientReactor`], each request's `responsedata` through
//! its own `cborutil.bufferingdecoder` (what `wireprotov2peer` does), and
//! the CBOR objects that complete handed out one at a time.
//!
//! Sans-IO and streaming: frames go in with [`ResponseDecoder::push_frame`],
//! events come out of [`ResponseDecoder::poll`] until it returns `None`;
//! nothing is kept per frame, and per request only counters, so a body of
//! any length decodes in bounded memory (see the bounds in
//! [`super`]). A frame's decoded data is fed to the CBOR decoder in slices
//! of [`FEED_SLICE`] bytes, so a frame of many small values never holds
//! more than one slice's values at once.
//!
//! A body decoded without its request does not say which requests the
//! client sent; [`ResponseDecoder::assuming_requests`] then issues requests
//! 1, 3, 5, … (as a client numbers them) up to the highest odd id a frame
//! names, so that only frames a real client could not match are refused.

use std::collections::{BTreeMap, VecDeque};

use super::{
    new_client_reactor, ClientAction, ClientCrash, ClientOptions, ClientReactor, Command, Fault,
    Limits, NoClientReactor, OverLimit, RequestState,
};
use crate::python::cbor::BufferingDecoder;
use crate::python::value::{dict_get, Value};
use crate::wire::frame::{Frame, Located};
use crate::wire::ids::v0006::STREAM_SETTINGS;
use crate::wire::proto::Proto;

/// Decoded data is fed to a request's CBOR decoder this much at a time.
pub const FEED_SLICE: usize = 64 * 1024;

/// How many decoded bytes of a frame an event carries for display.
pub const DATA_HEAD: usize = 256;

/// What the client reactor did with a frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Accepted, nothing to do (stream settings; `encoding` is the
    /// stream's encoding when this frame set it).
    Noop { encoding: Option<String> },
    /// Command response data for a request.
    Data {
        request_id: u16,
        /// `expectmore` and `eos` as Mercurial returns them (0/1, 0/2).
        expect_more: u8,
        eos: u8,
        /// Decoded length, and its first [`DATA_HEAD`] bytes.
        len: usize,
        head: Vec<u8>,
        /// Whether the payload went through a stream decoder.
        decoded: bool,
    },
    /// An `error-response` frame: the server reports the request failed.
    ServerError {
        request_id: u16,
        kind: Value,
        message: Value,
    },
    /// The reactor refuses the frame (its `error` action).
    Rejected { message: Vec<u8> },
    /// The reactor raises: a Mercurial client stops reading here.
    Raises(ClientCrash),
}

impl Verdict {
    /// Whether a Mercurial client refuses the frame (an error of its own
    /// checks, or an exception).
    pub fn refused(&self) -> bool {
        matches!(self, Verdict::Rejected { .. } | Verdict::Raises(_))
    }
}

/// A frame and the verdict on it.
#[derive(Debug, Clone)]
pub struct FrameEvent {
    /// 0-based position in the body.
    pub index: u64,
    pub frame: Located<Frame>,
    pub verdict: Verdict,
}

/// What decoding a response yields, in order.
#[derive(Debug, Clone)]
pub enum ResponseEvent {
    /// A frame went through the client reactor.
    Frame(FrameEvent),
    /// A complete CBOR value of a request's response data; index 0 is the
    /// status map (`{status: ok|error|redirect, …}`).
    Object {
        request_id: u16,
        index: u64,
        value: Value,
    },
    /// The request's data is not valid CBOR: `bufferingdecoder.decode`
    /// raises this (`Type: message`); its later data is not decoded.
    DataError { request_id: u16, error: String },
}

/// What one request got, in counters (kept for the whole body).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestSummary {
    pub request_id: u16,
    /// The command, when the request is known (not assumed).
    pub command: Option<String>,
    /// The reactor's state for it (`None` if no request has this id).
    pub state: Option<String>,
    /// `status` of the first object when it is a map with one.
    pub status: Option<Vec<u8>>,
    pub objects: u64,
    pub data_bytes: u64,
    /// An end-of-stream frame or an error-response ended it.
    pub complete: bool,
    pub server_errors: u64,
    /// Frames of this request the reactor refused.
    pub refused: u64,
    pub data_error: Option<String>,
}

/// The whole body, in counters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    pub frames: u64,
    pub requests: Vec<RequestSummary>,
    /// (stream id, encoding) as stream settings set them, in order.
    pub encodings: Vec<(u8, String)>,
    /// Frames the reactor refused (errors and exceptions).
    pub refused: u64,
    /// The first exception: (frame index, what Mercurial raises). A
    /// Mercurial client stops reading there.
    pub stopped: Option<(u64, String)>,
    /// Whether requests were assumed (no request body).
    pub assumed_requests: bool,
}

struct RequestInfo {
    command: Option<String>,
    decoder: Option<BufferingDecoder>,
    summary: RequestSummary,
}

struct Feeding {
    request_id: u16,
    /// The frame the data came from: index and offset.
    frame: (u64, u64),
    data: Vec<u8>,
    pos: usize,
}

/// Decodes one response body (see the module docs).
pub struct ResponseDecoder {
    reactor: Box<dyn ClientReactor + Send>,
    limits: Limits,
    assume: bool,
    highest_issued: u32,
    requests: BTreeMap<u16, RequestInfo>,
    queue: VecDeque<ResponseEvent>,
    feeding: Option<Feeding>,
    summary: Summary,
}

impl ResponseDecoder {
    /// Decode the answer to the requests `reactor` sent (`commands`: their
    /// ids and names, e.g. from [`ClientReactor::call_command`]).
    pub fn new(
        reactor: Box<dyn ClientReactor + Send>,
        commands: &[(u16, String)],
        limits: Limits,
    ) -> Self {
        let mut d = ResponseDecoder {
            reactor,
            limits,
            assume: false,
            highest_issued: 0,
            requests: BTreeMap::new(),
            queue: VecDeque::new(),
            feeding: None,
            summary: Summary::default(),
        };
        for (id, name) in commands {
            d.info(*id).command = Some(name.clone());
        }
        d
    }

    /// Decode a body whose request is unknown: requests are assumed as
    /// frames name them (see the module docs).
    pub fn assuming_requests(proto: Proto, limits: Limits) -> Result<Self, NoClientReactor> {
        let reactor = new_client_reactor(
            proto,
            ClientOptions {
                has_multiple_send: true,
                buffer_sends: true,
                content_encoders: None,
                limits,
            },
        )?;
        let mut d = Self::new(reactor, &[], limits);
        d.assume = true;
        d.summary.assumed_requests = true;
        Ok(d)
    }

    fn info(&mut self, id: u16) -> &mut RequestInfo {
        let limit = self.limits.max_value;
        self.requests.entry(id).or_insert_with(|| RequestInfo {
            command: None,
            decoder: Some(BufferingDecoder::with_limit(limit)),
            summary: RequestSummary {
                request_id: id,
                ..Default::default()
            },
        })
    }

    /// Issue the requests a client would have sent before `id`.
    fn assume_up_to(&mut self, id: u16) {
        if !self.assume || id.is_multiple_of(2) || id as u32 <= self.highest_issued {
            return;
        }
        while self.highest_issued < id as u32 {
            match self.reactor.call_command(Command::new(Vec::new())) {
                Ok((rid, _)) => self.highest_issued = rid as u32,
                Err(_) => return,
            }
        }
        if let Ok(ClientAction::SendFrames(mut g)) = self.reactor.flush_commands() {
            while let Some(Ok(_)) = self.reactor.next_frame(&mut g) {}
        }
    }

    /// Run one frame through the reactor. Over the memory bound the body
    /// cannot be decoded further.
    pub fn push_frame(&mut self, l: Located<Frame>) -> Result<(), OverLimit> {
        let index = self.summary.frames;
        self.summary.frames += 1;
        if l.frame.type_id != STREAM_SETTINGS {
            self.assume_up_to(l.frame.request_id);
        }
        let f = &l.frame;
        let verdict = match self.reactor.on_frame(f) {
            Ok(ClientAction::Noop) => {
                let encoding = (f.type_id == STREAM_SETTINGS)
                    .then(|| self.reactor.stream_encoding(f.stream_id))
                    .flatten()
                    .filter(|_| f.flags & crate::wire::ids::v0006::FLAG_STREAM_SETTINGS_EOS != 0)
                    .map(|e| String::from_utf8_lossy(e).into_owned());
                if let Some(e) = &encoding {
                    self.summary.encodings.push((f.stream_id, e.clone()));
                }
                Verdict::Noop { encoding }
            }
            Ok(ClientAction::SendFrames(_)) => Verdict::Noop { encoding: None },
            Ok(ClientAction::Error { message }) => {
                self.summary.refused += 1;
                if let Some(i) = self.requests.get_mut(&f.request_id) {
                    i.summary.refused += 1;
                }
                Verdict::Rejected { message }
            }
            Ok(ClientAction::ServerError {
                request_id,
                kind,
                message,
            }) => {
                let s = &mut self.info(request_id).summary;
                s.server_errors += 1;
                s.complete = true;
                Verdict::ServerError {
                    request_id,
                    kind,
                    message,
                }
            }
            Ok(ClientAction::ResponseData {
                request_id,
                expect_more,
                eos,
                data,
            }) => {
                let decoded = f.stream_flags & crate::wire::ids::STREAM_ENCODED != 0;
                let info = self.info(request_id);
                info.summary.data_bytes += data.len() as u64;
                if eos != 0 {
                    info.summary.complete = true;
                }
                let v = Verdict::Data {
                    request_id,
                    expect_more,
                    eos,
                    len: data.len(),
                    head: data[..data.len().min(DATA_HEAD)].to_vec(),
                    decoded,
                };
                if !data.is_empty() {
                    self.feeding = Some(Feeding {
                        request_id,
                        frame: (index, l.offset),
                        data,
                        pos: 0,
                    });
                }
                v
            }
            Err(Fault::Raises(c)) => {
                self.summary.refused += 1;
                if let Some(i) = self.requests.get_mut(&f.request_id) {
                    i.summary.refused += 1;
                }
                if self.summary.stopped.is_none() {
                    self.summary.stopped = Some((index, c.exception.clone()));
                }
                Verdict::Raises(c)
            }
            Err(Fault::OverLimit(mut o)) => {
                o.what = format!("frame {index} at offset {}: {}", l.offset, o.what);
                return Err(o);
            }
        };
        self.queue.push_back(ResponseEvent::Frame(FrameEvent {
            index,
            frame: l,
            verdict,
        }));
        Ok(())
    }

    /// The next event, `None` when everything pushed so far is out.
    pub fn poll(&mut self) -> Option<Result<ResponseEvent, OverLimit>> {
        loop {
            if let Some(e) = self.queue.pop_front() {
                return Some(Ok(e));
            }
            let feed = self.feeding.as_mut()?;
            let rid = feed.request_id;
            let (findex, foffset) = feed.frame;
            let end = (feed.pos + FEED_SLICE).min(feed.data.len());
            let slice = feed.data[feed.pos..end].to_vec();
            feed.pos = end;
            if end == feed.data.len() {
                self.feeding = None;
            }
            let limit = self.limits.max_value;
            self.info(rid);
            let Some(info) = self.requests.get_mut(&rid) else {
                continue;
            };
            let Some(dec) = info.decoder.as_mut() else {
                continue;
            };
            match dec.decode(&slice) {
                Ok(_) => {
                    for value in dec.get_available() {
                        let index = info.summary.objects;
                        info.summary.objects += 1;
                        if index == 0 {
                            if let Value::Dict(d) = &value {
                                info.summary.status = dict_get(d, &Value::bytes("status"))
                                    .and_then(|s| s.as_bytes())
                                    .map(|s| s.to_vec());
                            }
                        }
                        self.queue.push_back(ResponseEvent::Object {
                            request_id: rid,
                            index,
                            value,
                        });
                    }
                }
                Err(e) if e.is_over_limit() => {
                    self.feeding = None;
                    return Some(Err(OverLimit {
                        what: format!(
                            "frame {findex} at offset {foffset}: the response data of request {rid}"
                        ),
                        detail: e.0,
                        limit,
                    }));
                }
                Err(e) => {
                    let error = e.python_exception();
                    info.decoder = None;
                    info.summary.data_error = Some(error.clone());
                    self.feeding = None;
                    self.queue.push_back(ResponseEvent::DataError {
                        request_id: rid,
                        error,
                    });
                }
            }
        }
    }

    /// Every request's state now, and the body's counters.
    pub fn summary(&self) -> Summary {
        let mut s = self.summary.clone();
        let states: BTreeMap<u16, RequestState> = self.reactor.requests().into_iter().collect();
        s.requests = self
            .requests
            .iter()
            .map(|(id, i)| {
                let mut r = i.summary.clone();
                r.command = i.command.clone();
                r.state = states.get(id).map(|st| st.name().to_string());
                r
            })
            .collect();
        s
    }
}

/// A command found in a request body.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestedCommand {
    pub request_id: u16,
    pub command: Command,
}

/// What a request body asks, as a server reads it: its commands (from the
/// revision's server reactor) and the content encodings its
/// `sender-protocol-settings` frame announces.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestBody {
    pub commands: Vec<RequestedCommand>,
    /// `None` when the body announces none.
    pub encoders: Option<Vec<Vec<u8>>>,
    /// Why reading stopped early (a server error or exception, bad bytes).
    pub problems: Vec<String>,
}

/// Read a request body's commands with the revision's server reactor.
pub fn read_request_body(proto: Proto, body: &[u8]) -> RequestBody {
    use crate::python::cbor::decode_all_limited;
    use crate::reactor::{new_reactor, Action, ReactorOptions};
    use crate::wire::frame::{LengthMode, SliceDecoder};
    use crate::wire::ids::v0006::SENDER_PROTOCOL_SETTINGS;

    let mut out = RequestBody::default();
    let mut server = new_reactor(proto, ReactorOptions::default());
    let mut settings = Vec::new();
    for item in SliceDecoder::new(proto, LengthMode::Mercurial, body) {
        let l = match item {
            Ok(l) => l,
            Err(e) => {
                out.problems.push(e.to_string());
                break;
            }
        };
        if l.frame.type_id == SENDER_PROTOCOL_SETTINGS {
            settings.extend_from_slice(l.frame.payload);
        }
        match server.on_frame(&l.frame.to_owned()) {
            Ok(Action::RunCommand(r)) => {
                let name = r.command.as_bytes().map(|b| b.to_vec()).unwrap_or_default();
                out.commands.push(RequestedCommand {
                    request_id: r.request_id.unwrap_or(0),
                    command: Command {
                        name,
                        args: r.args,
                        data: r.data,
                        redirect: r.redirect.filter(|v| !matches!(v, Value::None)),
                    },
                });
            }
            Ok(Action::Error { message }) => {
                out.problems.push(format!(
                    "the server reactor refuses frame {} at offset {}: {}",
                    out.commands.len(),
                    l.offset,
                    String::from_utf8_lossy(&message)
                ));
                break;
            }
            Ok(_) => {}
            Err(c) => {
                out.problems.push(c.to_string());
                break;
            }
        }
    }
    if let Ok(vals) = decode_all_limited(&settings, Limits::DEFAULT_MAX_VALUE) {
        if let Some(Value::Dict(d)) = vals.first() {
            if let Some(Value::List(l)) = dict_get(d, &Value::bytes("contentencodings")) {
                out.encoders = Some(
                    l.iter()
                        .filter_map(|v| v.as_bytes().map(|b| b.to_vec()))
                        .collect(),
                );
            }
        }
    }
    out.commands.sort_by_key(|c| c.request_id);
    out
}

impl ResponseDecoder {
    /// Decode the answer to a request body as the client that sent it
    /// would: a client reactor set up as Mercurial's HTTP peer sets it up
    /// (one send, buffered, the body's content encoders) issues the body's
    /// commands in request-id order. Also returns the bytes that reactor
    /// sends, which equal the body when a Mercurial client wrote it.
    pub fn for_request(
        proto: Proto,
        body: &RequestBody,
        limits: Limits,
    ) -> Result<(Self, Vec<u8>), NoClientReactor> {
        let mut reactor = new_client_reactor(
            proto,
            ClientOptions {
                has_multiple_send: false,
                buffer_sends: true,
                content_encoders: body.encoders.clone(),
                limits,
            },
        )?;
        let mut commands = Vec::new();
        for c in &body.commands {
            if let Ok((id, _)) = reactor.call_command(c.command.clone()) {
                commands.push((id, String::from_utf8_lossy(&c.command.name).into_owned()));
            }
        }
        let mut sent = Vec::new();
        if let Ok(ClientAction::SendFrames(mut g)) = reactor.flush_commands() {
            while let Some(Ok(f)) = reactor.next_frame(&mut g) {
                let _ = f.encode_into(proto, &mut sent);
            }
        }
        Ok((Self::new(reactor, &commands, limits), sent))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::human::parse_human;

    fn located(s: &str) -> Located<Frame> {
        let frame = parse_human(Proto::P0006, s).unwrap().frame;
        let header = crate::wire::frame::parse_header(
            Proto::P0006,
            crate::wire::frame::LengthMode::Correct,
            &frame.encode(Proto::P0006).unwrap(),
        )
        .unwrap();
        Located {
            offset: 0,
            header,
            frame,
        }
    }

    fn run(d: &mut ResponseDecoder, frames: &[&str]) -> Vec<ResponseEvent> {
        let mut out = Vec::new();
        for s in frames {
            d.push_frame(located(s)).unwrap();
            while let Some(e) = d.poll() {
                out.push(e.unwrap());
            }
        }
        out
    }

    #[test]
    fn assumed_requests_accept_odd_ids_only_once_each() {
        let mut d = ResponseDecoder::assuming_requests(Proto::P0006, Limits::default()).unwrap();
        let evs = run(
            &mut d,
            &[
                "5 2 stream-begin command-response eos cbor:{b'status': b'ok'}",
                "1 2 0 command-response eos cbor:{b'status': b'ok'}",
                "1 2 0 command-response eos ",
                "2 2 0 command-response eos ",
            ],
        );
        let verdicts: Vec<&Verdict> = evs
            .iter()
            .filter_map(|e| match e {
                ResponseEvent::Frame(f) => Some(&f.verdict),
                _ => None,
            })
            .collect();
        assert!(matches!(verdicts[0], Verdict::Data { request_id: 5, .. }));
        assert!(matches!(verdicts[1], Verdict::Data { request_id: 1, .. }));
        assert!(
            matches!(verdicts[2], Verdict::Rejected { .. }),
            "1 already ended"
        );
        assert!(
            matches!(verdicts[3], Verdict::Rejected { .. }),
            "clients use odd ids"
        );
        let s = d.summary();
        assert_eq!(s.refused, 2);
        assert_eq!(
            s.requests.iter().map(|r| r.request_id).collect::<Vec<_>>(),
            [1, 5],
            "only requests that got frames are listed"
        );
        assert_eq!(s.requests[0].status.as_deref(), Some(&b"ok"[..]));
    }

    #[test]
    fn objects_come_out_as_they_complete_and_bad_data_is_reported() {
        let mut d = ResponseDecoder::assuming_requests(Proto::P0006, Limits::default()).unwrap();
        let evs = run(
            &mut d,
            &[
                r"1 2 stream-begin command-response continuation \xa1FstatusBok\x5f",
                "1 2 0 command-response continuation Cabc",
                r"1 2 0 command-response eos @\xff\x7f",
            ],
        );
        let objs: Vec<(u64, &Value)> = evs
            .iter()
            .filter_map(|e| match e {
                ResponseEvent::Object { index, value, .. } => Some((*index, value)),
                _ => None,
            })
            .collect();
        // The last frame's values are lost with its error, as in Python:
        // `decode` raises before `getavailable` hands them out.
        assert_eq!(objs.len(), 2, "the status map and chunk abc");
        assert!(matches!(objs[1].1, Value::Chunk { first: true, .. }));
        assert!(evs.iter().any(|e| matches!(
            e,
            ResponseEvent::DataError { request_id: 1, error } if error.starts_with("CBORDecodeError")
        )));
        assert!(d.summary().requests[0].data_error.is_some());
    }

    #[test]
    fn a_request_body_sets_the_reactor_up_as_its_client() {
        let body = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/hg60/clone-sample/013.req.bin"
        ))
        .unwrap();
        let req = read_request_body(Proto::P0006, &body);
        let names: Vec<&[u8]> = req.commands.iter().map(|c| &c.command.name[..]).collect();
        assert_eq!(names, [&b"listkeys"[..], b"lookup", b"lookup"]);
        assert_eq!(
            req.encoders,
            Some(vec![
                b"zstd-8mb".to_vec(),
                b"zlib".to_vec(),
                b"identity".to_vec()
            ])
        );
        let (_, sent) =
            ResponseDecoder::for_request(Proto::P0006, &req, Limits::default()).unwrap();
        assert_eq!(sent, body, "the client reactor writes the same body");
    }
}
