//! The 0006 server reactor: Mercurial 6.0's `wireprotoframing.serverreactor`
//! (with `wireprotov2server`'s use of it), ported line by line.
//!
//! Receive side: sender protocol settings (CBOR, may span frames, decoded
//! by `cborutil.bufferingdecoder`), command requests whose CBOR map may be
//! split over frames and interleaved with other requests, command data.
//! Send side: output streams (`makeoutputstream`, encoder chosen by the
//! server's preference among what the client announced), the
//! stream-settings frame, `{status: ok}` and CBOR-encoded objects coalesced
//! by `bufferingcommandresponseemitter`, the empty end-of-stream frame,
//! error-response and command-error frames, deferred output.
//!
//! Frames are produced when a `sendframes` is consumed, as Mercurial's
//! generators are. Where Python raises, we return [`ServerCrash`].
//! Responses on a zlib stream are produced with the C zlib (as Python's
//! `zlib` module); on a zstd-8mb stream they are not (the bytes depend on
//! the libzstd version bundled with the server's Mercurial).

use super::streams::{InputStreams, StreamCheck};
use super::{
    msg, Action, Batches, Consumed, IdMap, IdSet, ReactorOptions, Response, RunCommand, SendFrames,
    ServerCrash,
};
use crate::python::cbor::{self, BufferingDecoder};
use crate::python::value::{dict_get, Value};
use crate::wire::frame::{Frame, DEFAULT_MAX_FRAME_SIZE, STREAM_BEGIN, STREAM_ENCODED};
use crate::wire::proto::Proto;

pub const T_COMMAND_REQUEST: u8 = 1;
pub const T_COMMAND_DATA: u8 = 2;
pub const T_COMMAND_RESPONSE: u8 = 3;
pub const T_ERROR_RESPONSE: u8 = 5;
pub const T_SENDER_PROTOCOL_SETTINGS: u8 = 8;
pub const T_STREAM_SETTINGS: u8 = 9;

const F_NEW: u8 = 0x1;
const F_CONTINUATION: u8 = 0x2;
const F_MORE: u8 = 0x4;
const F_HAVE_DATA: u8 = 0x8;
const F_CONT: u8 = 0x1;
const F_EOS: u8 = 0x2;

/// Encoders in the server's order of preference (`STREAM_ENCODERS_ORDER`
/// of a Mercurial built with its zstd extension).
pub const SERVER_ENCODERS: [&str; 3] = ["zstd-8mb", "zlib", "identity"];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    Initial,
    ProtocolSettingsReceiving,
    Idle,
    CommandReceiving,
    Errored,
}

impl State {
    fn name(self) -> &'static str {
        match self {
            State::Initial => "initial",
            State::ProtocolSettingsReceiving => "protocol-settings-receiving",
            State::Idle => "idle",
            State::CommandReceiving => "command-receiving",
            State::Errored => "errored",
        }
    }
}

struct Entry {
    payload: Vec<u8>,
    data: Option<Vec<u8>>,
    request_done: bool,
    expecting_data: bool,
}

enum Encoder {
    Identity,
    /// `zlibencoder`: `zlib.compressobj()` (level 6, zlib header), fed
    /// chunk by chunk, `Z_SYNC_FLUSH` at the end of each response. Built on
    /// the same C zlib a Python server links, so the bytes match.
    Zlib(Box<flate2::Compress>),
    /// An encoder whose bytes hgframe cannot reproduce (zstd-8mb).
    Other(&'static str),
}

impl Encoder {
    fn name(&self) -> &'static str {
        match self {
            Encoder::Identity => "identity",
            Encoder::Zlib(_) => "zlib",
            Encoder::Other(n) => n,
        }
    }
}

/// Run zlib over `data` like Python's `compressobj.compress`/`flush`:
/// everything deflate produces for this call.
fn zlib_run(
    z: &mut flate2::Compress,
    data: &[u8],
    flush: flate2::FlushCompress,
) -> Result<Vec<u8>, ServerCrash> {
    let mut out = Vec::with_capacity(data.len() / 2 + 64);
    let mut input = data;
    loop {
        if out.capacity() - out.len() < 1024 {
            out.reserve(out.capacity().max(4096));
        }
        let before_in = z.total_in();
        let before_out = z.total_out();
        z.compress_vec(input, &mut out, flush)
            .map_err(|e| ServerCrash::new(format!("zlib.error: {e}"), "zlib failed"))?;
        input = &input[(z.total_in() - before_in) as usize..];
        let produced = z.total_out() - before_out;
        // Done when the input is consumed and deflate did not fill the
        // buffer (so it has nothing more to give for this call).
        if input.is_empty() && out.len() < out.capacity() {
            return Ok(out);
        }
        if produced == 0 && input.is_empty() {
            return Ok(out);
        }
    }
}

struct OutStream {
    id: u8,
    active: bool,
    settings_sent: bool,
    encoder: Option<Encoder>,
}

impl OutStream {
    /// `outputstream.makeframe`.
    fn make_frame(
        &mut self,
        request_id: u16,
        type_id: u8,
        flags: u8,
        payload: Vec<u8>,
        encoded: bool,
    ) -> Result<Frame, ServerCrash> {
        let mut sflags = 0;
        if !self.active {
            sflags |= STREAM_BEGIN;
            self.active = true;
        }
        if encoded {
            if !self.settings_sent {
                return Err(ServerCrash::new(
                    "ProgrammingError: attempting to send encoded frame without sending stream settings",
                    "no content encoding the client announced is one the server knows, so the output stream has no encoder and no stream-settings frame, yet command-response data frames are always marked encoded",
                ));
            }
            sflags |= STREAM_ENCODED;
        }
        if type_id == T_STREAM_SETTINGS && flags & F_EOS != 0 {
            self.settings_sent = true;
        }
        Ok(Frame {
            request_id,
            stream_id: self.id,
            stream_flags: sflags,
            type_id,
            flags,
            payload,
        })
    }

    fn encode(&mut self, data: Vec<u8>) -> Result<Vec<u8>, ServerCrash> {
        match &mut self.encoder {
            None | Some(Encoder::Identity) => Ok(data),
            Some(Encoder::Zlib(z)) => zlib_run(z, &data, flate2::FlushCompress::None),
            Some(Encoder::Other(name)) => Err(limitation(name)),
        }
    }

    fn flush(&mut self) -> Result<Vec<u8>, ServerCrash> {
        match &mut self.encoder {
            None | Some(Encoder::Identity) => Ok(Vec::new()),
            Some(Encoder::Zlib(z)) => zlib_run(z, &[], flate2::FlushCompress::Sync),
            Some(Encoder::Other(name)) => Err(limitation(name)),
        }
    }

    fn settings_frame(&mut self, request_id: u16) -> Result<Option<Frame>, ServerCrash> {
        let name = match &self.encoder {
            None => return Ok(None),
            _ if self.settings_sent => return Ok(None),
            Some(e) => e.name(),
        };
        let mut payload = Vec::new();
        cbor::encode_bytes(name.as_bytes(), &mut payload);
        self.make_frame(request_id, T_STREAM_SETTINGS, F_EOS, payload, false)
            .map(Some)
    }
}

fn limitation(name: &str) -> ServerCrash {
    ServerCrash::new(
        format!("hgframe limitation: {name} stream encoding"),
        format!("the client announced {name}, so a Mercurial server would compress this response with {name}; hgframe's local reactor only produces identity streams (announce contentencodings [b'identity'] to get exact frames)"),
    )
}

enum Pending {
    Objects {
        stream: usize,
        request_id: u16,
        objects: Vec<Value>,
    },
    ServerError {
        stream: usize,
        request_id: u16,
        message: Vec<u8>,
    },
    CommandError {
        stream: usize,
        request_id: u16,
        message: Vec<u8>,
        args: Option<Value>,
    },
}

pub struct Reactor0006 {
    defer: bool,
    state: State,
    streams: InputStreams,
    receiving: IdMap<Entry>,
    active: IdSet,
    settings_decoder: Option<BufferingDecoder>,
    content_encodings: Value,
    out_streams: Vec<OutStream>,
    next_out_stream: u16,
    buffered: Vec<u32>,
    batches: Batches<Pending>,
}

impl Reactor0006 {
    pub fn new(opts: ReactorOptions) -> Self {
        Reactor0006 {
            defer: opts.defer_output,
            state: State::Initial,
            streams: InputStreams::default(),
            receiving: IdMap::default(),
            active: IdSet::default(),
            settings_decoder: None,
            content_encodings: Value::List(vec![Value::bytes("identity")]),
            out_streams: Vec::new(),
            next_out_stream: 2,
            buffered: Vec::new(),
            batches: Batches::default(),
        }
    }

    /// The `contentencodings` the client announced (default `[b'identity']`).
    pub fn content_encodings(&self) -> &Value {
        &self.content_encodings
    }

    fn error(&mut self, m: impl Into<String>) -> Action {
        self.state = State::Errored;
        msg(m)
    }

    fn want(&self) -> Action {
        Action::WantFrame {
            state: self.state.name(),
        }
    }

    fn validate_request(&mut self, f: &Frame) -> Option<Action> {
        let new = f.flags & F_NEW != 0;
        let cont = f.flags & F_CONTINUATION != 0;
        if new && cont {
            return Some(
                self.error(
                    "received command request frame with both new and continuation flags set",
                ),
            );
        }
        if !new && !cont {
            return Some(self.error(
                "received command request frame with neither new nor continuation flags set",
            ));
        }
        None
    }

    fn on_initial(&mut self, f: &Frame) -> Result<Action, ServerCrash> {
        match f.type_id {
            T_SENDER_PROTOCOL_SETTINGS => {
                self.state = State::ProtocolSettingsReceiving;
                self.settings_decoder = Some(BufferingDecoder::new());
                self.on_settings(f)
            }
            T_COMMAND_REQUEST => {
                self.state = State::Idle;
                self.on_idle(f)
            }
            t => Ok(self.error(format!(
                "expected sender protocol settings or command request frame; got {t}"
            ))),
        }
    }

    fn on_settings(&mut self, f: &Frame) -> Result<Action, ServerCrash> {
        if f.type_id != T_SENDER_PROTOCOL_SETTINGS {
            return Ok(self.error(format!(
                "expected sender protocol settings frame; got {}",
                f.type_id
            )));
        }
        let more = f.flags & F_CONT != 0;
        let eos = f.flags & F_EOS != 0;
        if more && eos {
            return Ok(self.error(
                "sender protocol settings frame cannot have both continuation and end of stream flags set",
            ));
        }
        if !more && !eos {
            return Ok(self.error(
                "sender protocol settings frame must have continuation or end of stream flag set",
            ));
        }
        let dec = self
            .settings_decoder
            .get_or_insert_with(BufferingDecoder::new);
        if let Err(e) = dec.decode(&f.payload) {
            return Ok(self.error(format!(
                "error decoding CBOR from sender protocol settings frame: {}",
                e.python_str()
            )));
        }
        if more {
            return Ok(self.want());
        }
        let decoded = dec.get_available();
        self.settings_decoder = None;
        if decoded.is_empty() {
            return Ok(self.error("sender protocol settings frame did not contain CBOR data"));
        }
        if decoded.len() > 1 {
            return Ok(self.error("sender protocol settings frame contained multiple CBOR values"));
        }
        let d = &decoded[0];
        let has = d.py_contains_bytes(b"contentencodings").map_err(|e| {
            ServerCrash::new(
                format!("TypeError: {e}"),
                "the sender protocol settings value is not a map; `b'contentencodings' in value` raises",
            )
        })?;
        if has {
            match d {
                Value::Dict(pairs) => {
                    if let Some(v) = dict_get(pairs, &Value::bytes("contentencodings")) {
                        self.content_encodings = v.clone();
                    }
                }
                other => {
                    return Err(ServerCrash::new(
                        format!("TypeError: {} indices must be integers or slices, not bytes", other.type_name()),
                        "the sender protocol settings value is not a map but contains b'contentencodings', so indexing it raises",
                    ))
                }
            }
        }
        self.state = State::Idle;
        Ok(self.want())
    }

    fn on_idle(&mut self, f: &Frame) -> Result<Action, ServerCrash> {
        if f.type_id != T_COMMAND_REQUEST {
            return Ok(self.error(format!("expected command request frame; got {}", f.type_id)));
        }
        if let Some(a) = self.validate_request(f) {
            return Ok(a);
        }
        let id = f.request_id;
        if self.receiving.contains_key(&id) {
            return Ok(self.error(format!("request with ID {id} already received")));
        }
        if self.active.contains(id) {
            return Ok(self.error(format!("request with ID {id} is already active")));
        }
        let more = f.flags & F_MORE != 0;
        let expecting_data = f.flags & F_HAVE_DATA != 0;
        if f.flags & F_NEW == 0 {
            return Ok(self.error("received command request frame without new flag set"));
        }
        if !more && !expecting_data {
            // A complete single-frame request: dispatch straight from the
            // frame (what inserting and removing the entry amounts to).
            self.state = if self.receiving.is_empty() {
                State::Idle
            } else {
                State::CommandReceiving
            };
            return self.dispatch(id, &f.payload, None);
        }
        self.receiving.insert(
            id,
            Entry {
                payload: f.payload.clone(),
                data: None,
                request_done: !more,
                expecting_data,
            },
        );
        self.state = State::CommandReceiving;
        Ok(self.want())
    }

    fn on_receiving(&mut self, f: &Frame) -> Result<Action, ServerCrash> {
        if f.type_id == T_COMMAND_REQUEST {
            if f.flags & F_NEW != 0 {
                return self.on_idle(f);
            }
            if let Some(a) = self.validate_request(f) {
                return Ok(a);
            }
        }
        let id = f.request_id;
        if self.active.contains(id) {
            return Ok(self.error(format!(
                "received frame for request that is still active: {id}"
            )));
        }
        let Some(entry) = self.receiving.get_mut(&id) else {
            return Ok(self.error(format!(
                "received frame for request that is not receiving: {id}"
            )));
        };
        match f.type_id {
            T_COMMAND_REQUEST => {
                let more = f.flags & F_MORE != 0;
                let expecting_data = f.flags & F_HAVE_DATA != 0;
                if entry.request_done {
                    return Ok(self.error(
                        "received command request frame when request frames were supposedly done",
                    ));
                }
                if expecting_data != entry.expecting_data {
                    return Ok(self.error("mismatch between expect data flag and previous frame"));
                }
                entry.payload.extend_from_slice(&f.payload);
                if !more {
                    entry.request_done = true;
                }
                if !more && !expecting_data {
                    return self.run(id);
                }
                Ok(self.want())
            }
            T_COMMAND_DATA => {
                if !entry.expecting_data {
                    return Ok(self.error(format!(
                        "received command data frame for request that is not expecting data: {id}"
                    )));
                }
                entry
                    .data
                    .get_or_insert_with(Vec::new)
                    .extend_from_slice(&f.payload);
                if f.flags & F_CONT != 0 {
                    Ok(self.want())
                } else if f.flags & F_EOS != 0 {
                    self.run(id)
                } else {
                    Ok(self.error("command data frame without flags"))
                }
            }
            t => Ok(self.error(format!("received unexpected frame type: {t}"))),
        }
    }

    /// `_makeruncommandresult`.
    fn run(&mut self, id: u16) -> Result<Action, ServerCrash> {
        let done = self.receiving.get(&id).is_some_and(|e| e.request_done);
        if !done {
            self.state = State::Errored;
            return Err(ServerCrash::new(
                "ProgrammingError: should not be called without requestdone set",
                format!("request {id}'s data ended (command-data eos) while its command-request frames had announced more (the `more` flag); Mercurial asserts this never happens"),
            ));
        }
        let Some(entry) = self.receiving.remove(&id) else {
            return Ok(self.error(format!(
                "received frame for request that is not receiving: {id}"
            )));
        };
        self.state = if self.receiving.is_empty() {
            State::Idle
        } else {
            State::CommandReceiving
        };
        self.dispatch(id, &entry.payload, entry.data)
    }

    /// The second half of `_makeruncommandresult`: decode the request map
    /// and dispatch it.
    fn dispatch(
        &mut self,
        id: u16,
        payload: &[u8],
        data: Option<Vec<u8>>,
    ) -> Result<Action, ServerCrash> {
        let values = cbor::decode_all(payload).map_err(|e| {
            ServerCrash::new(
                format!("CBORDecodeError: {}", e.0),
                "the command request payload is not valid CBOR for Mercurial's decoder",
            )
        })?;
        let Some(request) = values.into_iter().next() else {
            return Err(ServerCrash::new(
                "IndexError: list index out of range",
                "the command request payload is empty: there is no CBOR value to read",
            ));
        };
        let Value::Dict(pairs) = request else {
            let has_name = request.py_contains_bytes(b"name").map_err(|e| {
                ServerCrash::new(
                    format!("TypeError: {e}"),
                    format!(
                        "the command request is a CBOR {}, not a map",
                        request.type_name()
                    ),
                )
            })?;
            if !has_name {
                return Ok(self.error("command request missing \"name\" field"));
            }
            return Err(ServerCrash::new(
                match request {
                    Value::List(_) => {
                        "TypeError: list indices must be integers or slices, not bytes".to_string()
                    }
                    _ => format!(
                        "TypeError: '{}' object does not support item assignment",
                        request.type_name()
                    ),
                },
                format!(
                    "the command request is a CBOR {} containing b'name', not a map",
                    request.type_name()
                ),
            ));
        };
        // Keys are unique (Python dict semantics already applied) and only a
        // bytes key can equal b'name', b'args' or b'redirect'.
        let (mut name, mut args, mut redirect) = (None, None, None);
        for (k, v) in pairs {
            match k.as_bytes() {
                Some(b"name") => name = Some(v),
                Some(b"args") => args = Some(v),
                Some(b"redirect") => redirect = Some(v),
                _ => {}
            }
        }
        let Some(command) = name else {
            return Ok(self.error("command request missing \"name\" field"));
        };
        self.active.insert(id);
        Ok(Action::RunCommand(RunCommand {
            request_id: Some(id),
            command,
            args: args.unwrap_or(Value::Dict(Vec::new())),
            data,
            redirect: Some(redirect.unwrap_or(Value::None)),
        }))
    }

    /// `makeoutputstream()`: index into `out_streams`.
    fn new_out_stream(&mut self) -> Result<usize, ServerCrash> {
        let id = self.next_out_stream;
        self.next_out_stream += 2;
        let mut encoder = None;
        for name in SERVER_ENCODERS {
            let has = self
                .content_encodings
                .py_contains_bytes(name.as_bytes())
                .map_err(|e| {
                    ServerCrash::new(
                        format!("TypeError: {e}"),
                        "the client's contentencodings setting is not a list",
                    )
                })?;
            if has {
                encoder = Some(match name {
                    "identity" => Encoder::Identity,
                    "zlib" => Encoder::Zlib(Box::new(flate2::Compress::new(
                        flate2::Compression::default(),
                        true,
                    ))),
                    other => Encoder::Other(other),
                });
                break;
            }
        }
        self.out_streams.push(OutStream {
            id: id as u8,
            active: false,
            settings_sent: false,
            encoder,
        });
        Ok(self.out_streams.len() - 1)
    }

    fn current_stream(&mut self) -> Result<usize, ServerCrash> {
        match self.out_streams.len() {
            0 => self.new_out_stream(),
            n => Ok(n - 1),
        }
    }

    /// Register a response on a given output stream (by stream id, as
    /// returned by `make_output_stream`).
    pub fn respond_on(
        &mut self,
        stream_id: u8,
        request_id: u16,
        response: Response,
    ) -> Option<Action> {
        let idx = self.out_streams.iter().position(|s| s.id == stream_id)?;
        Some(self.respond(idx, request_id, response))
    }

    fn respond(&mut self, stream: usize, request_id: u16, response: Response) -> Action {
        let p = match response {
            Response::Bytes(b) => Pending::Objects {
                stream,
                request_id,
                objects: vec![Value::Bytes(b)],
            },
            Response::Objects(objects) => Pending::Objects {
                stream,
                request_id,
                objects,
            },
            Response::Error(message) => Pending::ServerError {
                stream,
                request_id,
                message,
            },
            Response::CommandError { message, args } => Pending::CommandError {
                stream,
                request_id,
                message,
                args,
            },
        };
        self.handle_send(p)
    }

    fn handle_send(&mut self, p: Pending) -> Action {
        let b = self.batches.add(p);
        if self.defer {
            self.buffered.push(b);
            Action::Noop
        } else {
            Action::SendFrames(SendFrames { batches: vec![b] })
        }
    }

    fn produce(&mut self, p: Pending, out: &mut Vec<Frame>) -> Result<(), ServerCrash> {
        match p {
            Pending::Objects {
                stream,
                request_id,
                objects,
            } => {
                self.produce_objects(stream, request_id, objects, out)?;
                self.complete(request_id)
            }
            Pending::ServerError {
                stream,
                request_id,
                message,
            } => {
                if message.len() > DEFAULT_MAX_FRAME_SIZE {
                    return Err(ServerCrash::new(
                        "AssertionError",
                        "createerrorframe asserts the message fits in one frame (32768 bytes)",
                    ));
                }
                let payload = error_payload(&message);
                let s = &mut self.out_streams[stream];
                out.push(s.make_frame(request_id, T_ERROR_RESPONSE, 0, payload, false)?);
                self.complete(request_id)
            }
            Pending::CommandError {
                stream,
                request_id,
                message,
                args,
            } => {
                let mut err = vec![(Value::bytes("message"), Value::Bytes(message))];
                if let Some(a) = args.filter(truthy) {
                    err.push((Value::bytes("args"), a));
                }
                let m = Value::Dict(vec![
                    (Value::bytes("status"), Value::bytes("error")),
                    (Value::bytes("error"), Value::Dict(err)),
                ]);
                let payload = cbor::encode(&m).map_err(|e| {
                    ServerCrash::new(
                        format!("TypeError: {e}"),
                        "the command error arguments cannot be CBOR-encoded",
                    )
                })?;
                let s = &mut self.out_streams[stream];
                out.push(s.make_frame(request_id, T_COMMAND_RESPONSE, F_EOS, payload, false)?);
                self.complete(request_id)
            }
        }
    }

    fn complete(&mut self, request_id: u16) -> Result<(), ServerCrash> {
        if self.active.remove(request_id) {
            Ok(())
        } else {
            Err(ServerCrash::new(
                format!("KeyError: {request_id}"),
                format!("a response was sent for request {request_id}, which is not active (never dispatched, or already answered)"),
            ))
        }
    }

    /// The `sendframes()` generator of `oncommandresponsereadyobjects`.
    fn produce_objects(
        &mut self,
        stream: usize,
        request_id: u16,
        objects: Vec<Value>,
        out: &mut Vec<Frame>,
    ) -> Result<(), ServerCrash> {
        let mut emitted = false;
        let mut em = Emitter::default();
        for o in objects {
            let s = &mut self.out_streams[stream];
            if !emitted {
                if let Some(f) = s.settings_frame(request_id)? {
                    out.push(f);
                }
                let mut ok = Vec::new();
                cbor::encode_into(&Value::dict([("status", Value::bytes("ok"))]), &mut ok)
                    .map_err(|e| ServerCrash::new(e.to_string(), "unreachable"))?;
                if s.settings_sent {
                    let ok = s.encode(ok)?;
                    if !ok.is_empty() {
                        out.push(s.make_frame(request_id, T_COMMAND_RESPONSE, F_CONT, ok, true)?);
                    }
                } else {
                    out.push(s.make_frame(request_id, T_COMMAND_RESPONSE, F_CONT, ok, false)?);
                }
                emitted = true;
            }
            let mut chunks = Vec::new();
            cbor::encode_chunks(&o, &mut chunks).map_err(|e| {
                ServerCrash::new(
                    format!("TypeError: %b requires a bytes-like object ... ({e})"),
                    "a response object cannot be CBOR-encoded, and formatting that error raises again",
                )
            })?;
            for c in chunks {
                em.send(s, request_id, c, out)?;
            }
        }
        let s = &mut self.out_streams[stream];
        em.flush(s, request_id, out)?;
        if emitted {
            let payload = s.flush()?;
            let encoded = !payload.is_empty();
            let mut chunks: Vec<Vec<u8>> = payload
                .chunks(DEFAULT_MAX_FRAME_SIZE)
                .map(|c| c.to_vec())
                .collect();
            if chunks.is_empty() {
                chunks.push(Vec::new());
            }
            let n = chunks.len();
            for (i, c) in chunks.into_iter().enumerate() {
                let flags = if i + 1 == n { F_EOS } else { F_CONT };
                out.push(s.make_frame(request_id, T_COMMAND_RESPONSE, flags, c, encoded)?);
            }
        }
        Ok(())
    }
}

/// Python truthiness for the optional command-error args.
fn truthy(v: &Value) -> bool {
    match v {
        Value::None | Value::Bool(false) | Value::Int(0) => false,
        Value::Bytes(b) => !b.is_empty(),
        Value::List(x) | Value::Tuple(x) | Value::Set(x) => !x.is_empty(),
        Value::Dict(x) => !x.is_empty(),
        _ => true,
    }
}

/// CBOR `{type: server, message: [{msg: m}]}`.
pub fn error_payload(message: &[u8]) -> Vec<u8> {
    let v = Value::Dict(vec![
        (Value::bytes("type"), Value::bytes("server")),
        (
            Value::bytes("message"),
            Value::List(vec![Value::dict([("msg", Value::Bytes(message.to_vec()))])]),
        ),
    ]);
    cbor::encode(&v).unwrap_or_default()
}

/// `bufferingcommandresponseemitter`.
#[derive(Default)]
struct Emitter {
    chunks: Vec<u8>,
}

impl Emitter {
    fn send(
        &mut self,
        s: &mut OutStream,
        request_id: u16,
        data: Vec<u8>,
        out: &mut Vec<Frame>,
    ) -> Result<(), ServerCrash> {
        let data = s.encode(data)?;
        if data.is_empty() {
            return Ok(());
        }
        if data.len() > DEFAULT_MAX_FRAME_SIZE {
            self.flush(s, request_id, out)?;
            for c in data.chunks(DEFAULT_MAX_FRAME_SIZE) {
                out.push(s.make_frame(request_id, T_COMMAND_RESPONSE, F_CONT, c.to_vec(), true)?);
            }
            return Ok(());
        }
        if data.len() + self.chunks.len() < DEFAULT_MAX_FRAME_SIZE {
            self.chunks.extend_from_slice(&data);
            return Ok(());
        }
        self.flush(s, request_id, out)?;
        self.chunks = data;
        Ok(())
    }

    fn flush(
        &mut self,
        s: &mut OutStream,
        request_id: u16,
        out: &mut Vec<Frame>,
    ) -> Result<(), ServerCrash> {
        let payload = std::mem::take(&mut self.chunks);
        if payload.is_empty() {
            return Ok(());
        }
        out.push(s.make_frame(request_id, T_COMMAND_RESPONSE, F_CONT, payload, true)?);
        Ok(())
    }
}

impl super::Reactor for Reactor0006 {
    fn proto(&self) -> Proto {
        Proto::P0006
    }

    fn on_frame(&mut self, f: &Frame) -> Result<Action, ServerCrash> {
        match self.streams.check(f) {
            Ok(StreamCheck::Ok) => {}
            Ok(StreamCheck::Error(a)) => {
                self.state = State::Errored;
                return Ok(a);
            }
            Err(c) => {
                self.state = State::Errored;
                return Err(c);
            }
        }
        match self.state {
            State::Initial => self.on_initial(f),
            State::ProtocolSettingsReceiving => self.on_settings(f),
            State::Idle => self.on_idle(f),
            State::CommandReceiving => self.on_receiving(f),
            State::Errored => Ok(msg("server already errored")),
        }
    }

    fn on_input_eof(&mut self) -> Result<Action, ServerCrash> {
        if !self.defer || self.buffered.is_empty() {
            return Ok(Action::Noop);
        }
        Ok(Action::SendFrames(SendFrames {
            batches: std::mem::take(&mut self.buffered),
        }))
    }

    fn on_response(&mut self, request_id: u16, response: Response) -> Result<Action, ServerCrash> {
        let stream = self.current_stream()?;
        Ok(self.respond(stream, request_id, response))
    }

    fn consume(&mut self, sent: &SendFrames) -> Consumed {
        let mut c = Consumed::default();
        for b in &sent.batches {
            let Some(p) = self.batches.take(*b) else {
                continue;
            };
            if let Err(e) = self.produce(p, &mut c.frames) {
                c.crash = Some(e);
                break;
            }
        }
        c
    }

    fn state(&self) -> &'static str {
        self.state.name()
    }

    fn make_output_stream(&mut self) -> Option<u8> {
        let i = self.new_out_stream().ok()?;
        Some(self.out_streams[i].id)
    }
}
