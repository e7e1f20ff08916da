//! The 0005 server reactor: Mercurial 4.6/4.7's
//! `wireprotoframing.serverreactor` (the two releases' files are
//! identical), ported line by line, receive and send side.
//!
//! Receive side: stream checks (shared with 0006, [`super::streams`]),
//! then states `idle`, `command-receiving`, `errored` — no `initial` state
//! and no sender protocol settings. A command request's CBOR map may span
//! frames and interleave with other requests, as in 0006; it is decoded by
//! the bundled `cbor2` ([`crate::python::cbor2::load`]: one value, trailing
//! bytes ignored, text strings, floats and tags accepted) under Python 2's
//! rules (`b'name' in request` is a substring test on a byte string, and
//! `u'name'` is the same dict key as `b'name'`). The `runcommand` meta has
//! no `redirect`.
//!
//! Send side: responses arrive as bytes the server already CBOR-encoded
//! (`oncommandresponseready`: one `command-response` frame carrying
//! `{status: ok}` and the data when they fit in 32768 bytes), as a chunk
//! generator (`oncommandresponsereadygen`), as server errors
//! (`error-response`, `type` before `message` in canonical order) or
//! command errors; no stream-settings frame, no `encoded` flag. Frames are
//! produced when a `sendframes` is consumed, as Mercurial's generators are;
//! where Python raises, we return [`ServerCrash`].

use super::requests::{Received, Receiving};
use super::streams::InputStreams;
use super::{
    msg, Action, Consumed, FrameGen, IdSet, Output, ReactorOptions, Response, RunCommand,
    ServerCrash, State,
};
use crate::python::cbor2;
use crate::python::value::{dict_get_in, Value};
use crate::python::Py;
use crate::wire::frame::{Frame, DEFAULT_MAX_FRAME_SIZE, STREAM_BEGIN};
use crate::wire::ids::v0005::*;
use crate::wire::proto::Proto;

/// A server output stream (`wireprotoframing.stream`).
struct OutStream {
    id: u8,
    active: bool,
}

/// What a `sendframes` generator produces when consumed.
enum Pending {
    Bytes(Vec<u8>),
    Gen(Vec<Vec<u8>>),
    ServerError(Vec<u8>),
    CommandError(Vec<u8>, Option<Value>),
}

pub struct Reactor0005 {
    state: State,
    streams: InputStreams,
    receiving: Receiving,
    active: IdSet,
    out_streams: Vec<OutStream>,
    next_out_stream: u16,
    out: Output<(usize, u16, Pending)>,
}

/// `cbor.dumps({b'status': b'ok'}, canonical=True)`.
const OVERALL_OK: &[u8] = b"\xa1\x46status\x42ok";

impl Reactor0005 {
    pub fn new(opts: ReactorOptions) -> Self {
        Reactor0005 {
            state: State::Idle,
            streams: InputStreams::default(),
            receiving: Receiving::default(),
            active: IdSet::default(),
            out_streams: Vec::new(),
            next_out_stream: 2,
            out: Output::new(opts),
        }
    }

    fn error(&mut self, m: impl Into<String>) -> Action {
        self.state = State::Errored;
        msg(m)
    }

    fn want(&self) -> Action {
        Action::WantFrame { state: self.state }
    }

    /// What the request table made of a frame, as this reactor's action.
    fn received(&mut self, r: Result<Received<'_>, ServerCrash>) -> Result<Action, ServerCrash> {
        match r {
            Err(c) => {
                self.state = State::Errored;
                Err(c)
            }
            Ok(Received::Want) => {
                self.state = State::CommandReceiving;
                Ok(self.want())
            }
            Ok(Received::Error(m)) => Ok(self.error(m)),
            Ok(Received::Complete { id, payload, data }) => {
                // The state moves on before the payload is decoded.
                self.state = if self.receiving.is_empty() {
                    State::Idle
                } else {
                    State::CommandReceiving
                };
                self.dispatch(id, &payload, data)
            }
        }
    }

    /// The second half of `_makeruncommandresult`: decode the request map
    /// (with 4.6/4.7's bundled cbor2) and dispatch it.
    fn dispatch(
        &mut self,
        id: u16,
        payload: &[u8],
        data: Option<Vec<u8>>,
    ) -> Result<Action, ServerCrash> {
        let request = cbor2::load(payload).map_err(|e| {
            ServerCrash::new(
                e,
                "the command request payload is not CBOR that 4.6/4.7's bundled cbor2 decodes",
            )
        })?;
        let has_name = request
            .py_contains_bytes_in(Py::Two, b"name")
            .map_err(|e| {
                ServerCrash::new(
                    format!("TypeError: {e}"),
                    format!(
                        "the command request is a CBOR {}, not a map: `b'name' in request` raises",
                        request.type_name_in(Py::Two)
                    ),
                )
            })?;
        if !has_name {
            self.state = State::Errored;
            return Ok(msg("command request missing \"name\" field"));
        }
        let Value::Dict(pairs) = &request else {
            return Err(ServerCrash::new(
                format!(
                    "TypeError: '{}' object does not support item assignment",
                    request.type_name_in(Py::Two)
                ),
                format!(
                    "the command request is a CBOR {} containing b'name', not a map",
                    request.type_name_in(Py::Two)
                ),
            ));
        };
        let command = dict_get_in(Py::Two, pairs, &Value::bytes("name"))
            .cloned()
            .unwrap_or(Value::None);
        let args = dict_get_in(Py::Two, pairs, &Value::bytes("args"))
            .cloned()
            .unwrap_or(Value::Dict(Vec::new()));
        self.active.insert(id);
        Ok(Action::RunCommand(RunCommand {
            request_id: Some(id),
            command,
            args,
            data,
            redirect: None,
        }))
    }

    /// `makeoutputstream()`: index into `out_streams`.
    fn new_out_stream(&mut self) -> usize {
        let id = self.next_out_stream;
        self.next_out_stream += 2;
        self.out_streams.push(OutStream {
            id: id as u8,
            active: false,
        });
        self.out_streams.len() - 1
    }

    /// A response on the output stream with this id: one made by
    /// `makeoutputstream`, or a bare `stream(id)` the caller makes (Mercurial
    /// checks it is even, `ensureserverstream`).
    pub fn respond_on(
        &mut self,
        stream_id: u8,
        request_id: u16,
        response: Response,
    ) -> Result<Action, ServerCrash> {
        let idx = match self.out_streams.iter().position(|s| s.id == stream_id) {
            Some(i) => i,
            None => {
                self.out_streams.push(OutStream {
                    id: stream_id,
                    active: false,
                });
                self.out_streams.len() - 1
            }
        };
        self.respond(idx, request_id, response)
    }

    fn respond(
        &mut self,
        stream: usize,
        request_id: u16,
        response: Response,
    ) -> Result<Action, ServerCrash> {
        let sid = self.out_streams[stream].id;
        if sid % 2 == 1 {
            return Err(ServerCrash::new(
                format!("ProgrammingError: server should only write to even numbered streams; {sid} is not even"),
                "responses go on server streams, whose ids are even",
            ));
        }
        let p = match response {
            Response::Bytes(b) => Pending::Bytes(b),
            Response::Objects(objects) => {
                // The server encodes a command's value itself.
                let mut b = Vec::new();
                for o in &objects {
                    b.extend(cbor2::encode_canonical(o).map_err(|e| {
                        ServerCrash::new(e.to_string(), "a response object cannot be CBOR-encoded")
                    })?);
                }
                Pending::Bytes(b)
            }
            Response::Chunks(c) => Pending::Gen(c),
            Response::Error(m) => Pending::ServerError(m),
            Response::CommandError { message, args } => Pending::CommandError(message, args),
        };
        Ok(self.out.send((stream, request_id, p)))
    }

    fn frame(&mut self, stream: usize, request_id: u16, flags: u8, payload: Vec<u8>) -> Frame {
        self.typed_frame(stream, request_id, COMMAND_RESPONSE, flags, payload)
    }

    /// `stream.makeframe`: stream-begin on the stream's first frame.
    fn typed_frame(
        &mut self,
        stream: usize,
        request_id: u16,
        type_id: u8,
        flags: u8,
        payload: Vec<u8>,
    ) -> Frame {
        let s = &mut self.out_streams[stream];
        let sflags = if s.active { 0 } else { STREAM_BEGIN };
        s.active = true;
        Frame::new(type_id, flags, payload).with_ids(request_id, s.id, sflags)
    }

    /// Run one `sendframes()` generator.
    fn produce(
        &mut self,
        (stream, rid, p): (usize, u16, Pending),
        out: &mut Vec<Frame>,
    ) -> Result<(), ServerCrash> {
        const EOS: u8 = FLAG_COMMAND_RESPONSE_EOS;
        const CONT: u8 = FLAG_COMMAND_RESPONSE_CONTINUATION;
        match p {
            Pending::Bytes(data) => {
                // createcommandresponseframesfrombytes
                if OVERALL_OK.len() + data.len() <= DEFAULT_MAX_FRAME_SIZE {
                    let mut payload = OVERALL_OK.to_vec();
                    payload.extend_from_slice(&data);
                    out.push(self.frame(stream, rid, EOS, payload));
                } else {
                    out.push(self.frame(stream, rid, CONT, OVERALL_OK.to_vec()));
                    let n = data.chunks(DEFAULT_MAX_FRAME_SIZE).count();
                    for (i, c) in data.chunks(DEFAULT_MAX_FRAME_SIZE).enumerate() {
                        let flags = if i + 1 == n { EOS } else { CONT };
                        out.push(self.frame(stream, rid, flags, c.to_vec()));
                    }
                }
            }
            Pending::Gen(chunks) => {
                // createbytesresponseframesfromgen: util.chunkbuffer re-cuts
                // the chunks; the first data frame has no flags.
                out.push(self.frame(stream, rid, CONT, OVERALL_OK.to_vec()));
                let all: Vec<u8> = chunks.concat();
                let mut flags = 0;
                for c in all.chunks(DEFAULT_MAX_FRAME_SIZE) {
                    out.push(self.frame(stream, rid, flags, c.to_vec()));
                    flags |= CONT;
                }
                flags ^= CONT;
                flags |= EOS;
                out.push(self.frame(stream, rid, flags, Vec::new()));
            }
            Pending::ServerError(m) => {
                super::check_error_fits(&m)?;
                out.push(self.typed_frame(stream, rid, ERROR_RESPONSE, 0, error_payload(&m)));
            }
            Pending::CommandError(message, args) => {
                let mut err = vec![(Value::bytes("message"), Value::Bytes(message))];
                if let Some(a) = args.filter(truthy) {
                    err.push((Value::bytes("args"), a));
                }
                let m = Value::Dict(vec![
                    (Value::bytes("status"), Value::bytes("error")),
                    (Value::bytes("error"), Value::Dict(err)),
                ]);
                let payload = cbor2::encode_canonical(&m).map_err(|e| {
                    ServerCrash::new(
                        e.to_string(),
                        "the command error arguments cannot be CBOR-encoded",
                    )
                })?;
                out.push(self.frame(stream, rid, EOS, payload));
            }
        }
        if self.active.remove(rid) {
            Ok(())
        } else {
            Err(ServerCrash::new(
                format!("KeyError: {rid}"),
                format!("a response was sent for request {rid}, which is not active (never dispatched, or already answered)"),
            ))
        }
    }
}

/// Python truthiness for the optional command-error args.
fn truthy(v: &Value) -> bool {
    match v {
        Value::None | Value::Bool(false) | Value::Int(0) => false,
        Value::Bytes(b) | Value::Str(b) => !b.is_empty(),
        Value::List(x) | Value::Tuple(x) | Value::Set(x) => !x.is_empty(),
        Value::Dict(x) => !x.is_empty(),
        _ => true,
    }
}

/// `cbor.dumps({type: server, message: [{msg: m}]}, canonical=True)`.
pub fn error_payload(message: &[u8]) -> Vec<u8> {
    let v = Value::Dict(vec![
        (Value::bytes("type"), Value::bytes("server")),
        (
            Value::bytes("message"),
            Value::List(vec![Value::dict([("msg", Value::Bytes(message.to_vec()))])]),
        ),
    ]);
    cbor2::encode_canonical(&v).unwrap_or_default()
}

impl super::Reactor for Reactor0005 {
    fn proto(&self) -> Proto {
        Proto::P0005
    }

    fn on_frame(&mut self, f: &Frame) -> Result<Action, ServerCrash> {
        if let Some(early) = self.streams.prologue(f, &mut self.state) {
            return early;
        }
        match self.state {
            State::CommandReceiving => {
                let r = self.receiving.on_receiving(&self.active, f);
                self.received(r)
            }
            State::Errored => Ok(msg("server already errored")),
            // The other states are not 0005's: its reactor starts idle.
            _ => {
                let r = self.receiving.on_idle(&self.active, f);
                self.received(r)
            }
        }
    }

    fn on_input_eof(&mut self) -> Result<Action, ServerCrash> {
        Ok(self.out.on_input_eof())
    }

    fn on_response(&mut self, request_id: u16, response: Response) -> Result<Action, ServerCrash> {
        let stream = match self.out_streams.len() {
            0 => self.new_out_stream(),
            n => n - 1,
        };
        self.respond(stream, request_id, response)
    }

    fn consume(&mut self, frames: FrameGen) -> Consumed {
        let mut c = Consumed::default();
        for p in self.out.take(frames) {
            if let Err(e) = self.produce(p, &mut c.frames) {
                c.crash = Some(e);
                break;
            }
        }
        c
    }

    fn state(&self) -> State {
        self.state
    }

    fn make_output_stream(&mut self) -> Result<Option<u8>, ServerCrash> {
        let i = self.new_out_stream();
        Ok(Some(self.out_streams[i].id))
    }
}
