//! A response body decoded as a Mercurial client decodes it: frames through
//! the revision's [`ClientReactor`], each request's `responsedata` made
//! into CBOR objects as the revision's `wireprotov2peer` does (the table's
//! [`ResponseObjects`]: 4.8+ feed it to the request's own
//! `cborutil.bufferingdecoder`; 4.6/4.7 buffer it until the request's
//! `eos` and read it then as a sequence of `cbor2` values), and the
//! objects handed out one at a time.
//!
//! Sans-IO and streaming: frames go in with [`ResponseDecoder::push_frame`],
//! events come out of [`ResponseDecoder::poll`] until it returns `None`;
//! nothing is kept per frame, and per request only counters, so a body of
//! any length decodes in bounded memory (see the bounds in
//! [`super`]; a 4.6/4.7 request's data held until its `eos` counts
//! against [`Limits::max_value`] too). A frame's decoded data is fed to
//! the CBOR decoder in slices of [`FEED_SLICE`] bytes, so a frame of many
//! small values never holds more than one slice's values at once; a
//! buffered sequence is read one value per step.
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
use crate::python::cbor2::{ReadError, SequenceReader};
use crate::python::value::{dict_get, dict_get_in, Value};
use crate::wire::frame::{Frame, Located};
use crate::wire::proto::{Proto, ResponseObjects, StreamSettings};

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
    /// What the revision's peer raises on top of the reactor's verdict
    /// ([`ClientReactor::peer_raises`]; 4.6/4.7 raise after every `error`
    /// action): a Mercurial client stops reading there. Boxed: events
    /// queue up by the thousand while a frame's values come out.
    pub peer_raises: Option<Box<ClientCrash>>,
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
    /// The first exception: (frame index, what Mercurial raises), in the
    /// reactor or in the peer on top of it
    /// ([`ClientReactor::peer_raises`]). A Mercurial client stops reading
    /// there.
    pub stopped: Option<(u64, String)>,
    /// Whether requests were assumed (no request body).
    pub assumed_requests: bool,
}

struct RequestInfo {
    command: Option<String>,
    /// `None` once its data failed to decode.
    data: Option<DataDecoder>,
    summary: RequestSummary,
}

/// Where a request's response data goes ([`ResponseObjects`]).
enum DataDecoder {
    /// `cborutil.bufferingdecoder`, fed as the data arrives.
    Streaming(BufferingDecoder),
    /// 4.6/4.7's `commandresponse.b`: the data until `eos`.
    AtEos(Vec<u8>),
}

impl DataDecoder {
    fn new(kind: ResponseObjects, limit: u64) -> Option<Self> {
        match kind {
            ResponseObjects::CborutilStreaming => {
                Some(DataDecoder::Streaming(BufferingDecoder::with_limit(limit)))
            }
            ResponseObjects::Cbor2AtEos => Some(DataDecoder::AtEos(Vec::new())),
            ResponseObjects::None => None,
        }
    }
}

/// Data being made into objects, a step per poll.
struct Feeding {
    request_id: u16,
    /// The frame the data came from: index and offset.
    frame: (u64, u64),
    input: FeedInput,
}

enum FeedInput {
    /// A frame's decoded data, for a streaming decoder.
    Slices { data: Vec<u8>, pos: usize },
    /// A request's whole data, read value by value (4.6/4.7 at `eos`).
    Sequence(SequenceReader<'static>),
}

/// `overall.get(b'status')` of a request's first object, when it is a
/// string: on Python 2 (4.6/4.7's cbor2 decodes text) `b'status'` finds a
/// text key too, and a text status counts by its UTF-8 bytes.
pub fn status_of(py: crate::python::Py, first: &Value) -> Option<Vec<u8>> {
    let Value::Dict(d) = first else { return None };
    match dict_get_in(py, d, &Value::bytes("status"))? {
        Value::Bytes(b) | Value::Chunk { data: b, .. } => Some(b.clone()),
        Value::Str(s) | Value::ByteArray(s) if py == crate::python::Py::Two => Some(s.clone()),
        _ => None,
    }
}

/// Decodes one response body (see the module docs).
pub struct ResponseDecoder {
    reactor: Box<dyn ClientReactor + Send>,
    limits: Limits,
    objects: ResponseObjects,
    stream_settings: Option<StreamSettings>,
    assume: bool,
    highest_issued: u32,
    requests: BTreeMap<u16, RequestInfo>,
    queue: VecDeque<ResponseEvent>,
    feeding: Option<Feeding>,
    /// The bound stopped a step after it completed values: reported once
    /// they are out.
    over: Option<OverLimit>,
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
        let table = reactor.proto().table();
        let mut d = ResponseDecoder {
            reactor,
            limits,
            objects: table.response_objects,
            stream_settings: table.client_stream_settings,
            assume: false,
            highest_issued: 0,
            requests: BTreeMap::new(),
            queue: VecDeque::new(),
            feeding: None,
            over: None,
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
        let (limit, kind) = (self.limits.max_value, self.objects);
        self.requests.entry(id).or_insert_with(|| RequestInfo {
            command: None,
            data: DataDecoder::new(kind, limit),
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
        // Stream settings belong to no request.
        let settings = self
            .stream_settings
            .filter(|s| s.type_id == l.frame.type_id);
        if settings.is_none() {
            self.assume_up_to(l.frame.request_id);
        }
        let f = &l.frame;
        let action = self.reactor.on_frame(f);
        let peer_raises = match &action {
            Ok(a) => self.reactor.peer_raises(f.request_id, a),
            Err(_) => None,
        };
        if let Some(c) = &peer_raises {
            if self.summary.stopped.is_none() {
                self.summary.stopped = Some((index, c.exception.clone()));
            }
        }
        let verdict = match action {
            Ok(ClientAction::Noop) => {
                let encoding = settings
                    .filter(|s| f.flags & s.eos != 0)
                    .and_then(|_| self.reactor.stream_encoding(f.stream_id))
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
                let limit = self.limits.max_value;
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
                let frame = (index, l.offset);
                let input = match &mut info.data {
                    Some(DataDecoder::Streaming(_)) if !data.is_empty() => {
                        Some(FeedInput::Slices { data, pos: 0 })
                    }
                    Some(DataDecoder::AtEos(buf)) => {
                        let held = buf.len() as u64 + data.len() as u64;
                        if held > limit {
                            return Err(OverLimit {
                                what: format!(
                                    "frame {index} at offset {}: the response data of request {request_id}, held until its end-of-stream frame",
                                    l.offset
                                ),
                                detail: format!("{held} bytes"),
                                limit,
                            });
                        }
                        buf.extend_from_slice(&data);
                        (eos != 0).then(|| {
                            FeedInput::Sequence(SequenceReader::new(std::mem::take(buf), limit))
                        })
                    }
                    _ => None,
                };
                if let Some(input) = input {
                    self.feeding = Some(Feeding {
                        request_id,
                        frame,
                        input,
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
            peer_raises: peer_raises.map(Box::new),
        }));
        Ok(())
    }

    /// The next event, `None` when everything pushed so far is out.
    pub fn poll(&mut self) -> Option<Result<ResponseEvent, OverLimit>> {
        loop {
            if let Some(e) = self.queue.pop_front() {
                return Some(Ok(e));
            }
            if let Some(o) = self.over.take() {
                return Some(Err(o));
            }
            let feed = self.feeding.as_mut()?;
            let rid = feed.request_id;
            let (findex, foffset) = feed.frame;
            let limit = self.limits.max_value;
            let over = |detail: String| OverLimit {
                what: format!(
                    "frame {findex} at offset {foffset}: the response data of request {rid}"
                ),
                detail,
                limit,
            };
            // The values a step completes, then what stopped it: a data
            // error (Python's exception) or the bound.
            let mut values = Vec::new();
            let mut failed: Option<Result<String, OverLimit>> = None;
            let mut done = false;
            match &mut feed.input {
                FeedInput::Slices { data, pos } => {
                    let end = (*pos + FEED_SLICE).min(data.len());
                    let slice = &data[*pos..end];
                    *pos = end;
                    done = end == data.len();
                    if let Some(DataDecoder::Streaming(dec)) =
                        self.requests.get_mut(&rid).and_then(|i| i.data.as_mut())
                    {
                        match dec.decode(slice) {
                            Ok(_) => values = dec.get_available(),
                            Err(e) if e.is_over_limit() => failed = Some(Err(over(e.0))),
                            // `decode` raises before `getavailable` hands
                            // out what this slice completed.
                            Err(e) => failed = Some(Ok(e.python_exception())),
                        }
                    }
                }
                // Values up to a slice's worth of data per step.
                FeedInput::Sequence(reader) => {
                    let start = reader.position();
                    while reader.position() - start < FEED_SLICE {
                        match reader.next_value() {
                            None => {
                                done = true;
                                break;
                            }
                            Some(Ok(v)) => values.push(v),
                            Some(Err(ReadError::OverLimit { needed, .. })) => {
                                failed = Some(Err(over(format!(
                                    "the CBOR value decoded so far would hold {needed} bytes in memory"
                                ))));
                                break;
                            }
                            Some(Err(ReadError::Raises(e))) => {
                                failed = Some(Ok(e));
                                break;
                            }
                        }
                    }
                }
            }
            if done || failed.is_some() {
                self.feeding = None;
            }
            self.info(rid);
            let py = self.reactor.proto().flavor().python;
            let Some(info) = self.requests.get_mut(&rid) else {
                continue;
            };
            for value in values {
                let index = info.summary.objects;
                info.summary.objects += 1;
                if index == 0 {
                    info.summary.status = status_of(py, &value);
                }
                self.queue.push_back(ResponseEvent::Object {
                    request_id: rid,
                    index,
                    value,
                });
            }
            match failed {
                None => {}
                Some(Err(o)) => self.over = Some(o),
                Some(Ok(error)) => {
                    info.data = None;
                    info.summary.data_error = Some(error.clone());
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
    let sender_settings = proto.table().sender_settings;
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
        if Some(l.frame.type_id) == sender_settings {
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

    #[test]
    fn a_status_is_read_as_the_revisions_python_reads_it() {
        use crate::python::Py;
        let text = Value::Dict(vec![(
            Value::Str(b"status".to_vec()),
            Value::Str(b"ok".to_vec()),
        )]);
        // 4.6/4.7 (Python 2): b'status' finds u'status'; a text or
        // bytearray status counts by its bytes
        assert_eq!(status_of(Py::Two, &text), Some(b"ok".to_vec()));
        let ba = Value::dict([("status", Value::ByteArray(b"ok".to_vec()))]);
        assert_eq!(status_of(Py::Two, &ba), Some(b"ok".to_vec()));
        // Python 3 tells them apart
        assert_eq!(status_of(Py::Three, &text), None);
        assert_eq!(
            status_of(Py::Two, &Value::dict([("status", Value::Int(1))])),
            None
        );
        assert_eq!(status_of(Py::Two, &Value::List(vec![])), None);
    }
}
