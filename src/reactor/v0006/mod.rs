//! The 0006 server reactor: Mercurial 6.0's `wireprotoframing.serverreactor`
//! (with `wireprotov2server`'s use of it), ported line by line. This file
//! is the receive side; [`output`] the send side.
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

mod output;

use super::requests::{Received, Receiving};
use super::streams::InputStreams;
use super::{
    msg, Action, Consumed, FrameGen, IdSet, Output, ReactorOptions, Response, RunCommand,
    ServerCrash, State,
};
use crate::python::cbor::{self, BufferingDecoder};
use crate::python::value::{dict_get, Value};
use crate::wire::frame::Frame;
use crate::wire::ids::v0006::*;
use crate::wire::proto::Proto;

pub use output::{error_payload, SERVER_ENCODERS};
use output::{OutStream, Pending};

pub struct Reactor0006 {
    /// The server's revision and flavour (its Python shows in messages).
    proto: Proto,
    state: State,
    streams: InputStreams,
    receiving: Receiving,
    active: IdSet,
    settings_decoder: Option<BufferingDecoder>,
    content_encodings: Value,
    out_streams: Vec<OutStream>,
    next_out_stream: u16,
    out: Output<Pending>,
    max_value: u64,
}

impl Reactor0006 {
    pub fn new(opts: ReactorOptions) -> Self {
        Self::for_proto(Proto::P0006, opts)
    }

    /// The reactor of a server of this flavour of 0006.
    pub fn for_proto(proto: Proto, opts: ReactorOptions) -> Self {
        Reactor0006 {
            proto,
            state: State::Initial,
            streams: InputStreams::default(),
            receiving: Receiving::default(),
            active: IdSet::default(),
            settings_decoder: None,
            content_encodings: Value::List(vec![Value::bytes("identity")]),
            out_streams: Vec::new(),
            next_out_stream: 2,
            out: Output::new(opts),
            max_value: opts.max_value,
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
        Action::WantFrame { state: self.state }
    }

    fn on_initial(&mut self, f: &Frame) -> Result<Action, ServerCrash> {
        match f.type_id {
            SENDER_PROTOCOL_SETTINGS => {
                self.state = State::ProtocolSettingsReceiving;
                self.settings_decoder = Some(BufferingDecoder::with_held_limit(self.max_value));
                self.on_settings(f)
            }
            COMMAND_REQUEST => {
                self.state = State::Idle;
                let r = self.receiving.on_idle(&self.active, f);
                self.received(r)
            }
            t => Ok(self.error(format!(
                "expected sender protocol settings or command request frame; got {t}"
            ))),
        }
    }

    fn on_settings(&mut self, f: &Frame) -> Result<Action, ServerCrash> {
        if f.type_id != SENDER_PROTOCOL_SETTINGS {
            return Ok(self.error(format!(
                "expected sender protocol settings frame; got {}",
                f.type_id
            )));
        }
        let more = f.flags & FLAG_SENDER_PROTOCOL_SETTINGS_CONTINUATION != 0;
        let eos = f.flags & FLAG_SENDER_PROTOCOL_SETTINGS_EOS != 0;
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
        let limit = self.max_value;
        let dec = self
            .settings_decoder
            .get_or_insert_with(|| BufferingDecoder::with_held_limit(limit));
        if let Err(e) = dec.decode(&f.payload) {
            if e.is_over_limit() {
                return Err(super::over_limit(
                    "the sender protocol settings",
                    limit,
                    &e.0,
                ));
            }
            return Ok(self.error(format!(
                "error decoding CBOR from sender protocol settings frame: {}",
                e.python_str_in(self.proto.py())
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
    /// and dispatch it.
    fn dispatch(
        &mut self,
        id: u16,
        payload: &[u8],
        data: Option<Vec<u8>>,
    ) -> Result<Action, ServerCrash> {
        // Mercurial's own encoding of a request: only the entries read
        // are built (the same values the general path finds in the map).
        if let Some([name, args, redirect]) =
            cbor::fast_map_values(payload, self.max_value, [b"name", b"args", b"redirect"])
        {
            return Ok(self.run_command(id, name, args, redirect, data));
        }
        let values = cbor::decode_all_limited(payload, self.max_value).map_err(|e| {
            if e.is_over_limit() {
                return super::over_limit("the command request", self.max_value, &e.0);
            }
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
        Ok(self.run_command(id, name, args, redirect, data))
    }

    /// The action for a request map's `name`, `args` and `redirect`
    /// entries (each `None` when the map has no such key).
    fn run_command(
        &mut self,
        id: u16,
        name: Option<Value>,
        args: Option<Value>,
        redirect: Option<Value>,
        data: Option<Vec<u8>>,
    ) -> Action {
        let Some(command) = name else {
            return self.error("command request missing \"name\" field");
        };
        self.active.insert(id);
        Action::RunCommand(RunCommand {
            request_id: Some(id),
            command,
            args: args.unwrap_or(Value::Dict(Vec::new())),
            data,
            redirect: Some(redirect.unwrap_or(Value::None)),
        })
    }
}

impl super::Reactor for Reactor0006 {
    fn proto(&self) -> Proto {
        self.proto
    }

    fn on_frame(&mut self, f: &Frame) -> Result<Action, ServerCrash> {
        if let Some(early) = self.streams.prologue(f, &mut self.state) {
            return early;
        }
        match self.state {
            State::Initial => self.on_initial(f),
            State::ProtocolSettingsReceiving => self.on_settings(f),
            State::CommandReceiving => {
                let r = self.receiving.on_receiving(&self.active, f);
                self.received(r)
            }
            State::Errored => Ok(msg("server already errored")),
            // The other states are 0001's: a 0006 reactor never enters them.
            State::Idle
            | State::CommandReceivingArgs
            | State::CommandReceivingData
            | State::Waiting => {
                let r = self.receiving.on_idle(&self.active, f);
                self.received(r)
            }
        }
    }

    fn on_input_eof(&mut self) -> Result<Action, ServerCrash> {
        Ok(self.out.on_input_eof())
    }

    fn on_response(&mut self, request_id: u16, response: Response) -> Result<Action, ServerCrash> {
        let stream = self.current_stream()?;
        Ok(self.respond(stream, request_id, response))
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
        let i = self.new_out_stream()?;
        Ok(Some(self.out_streams[i].id))
    }
}
