//! The 0001 server reactor: the seed `000_b34c49ba43b64cdc.txt`
//! (`wireprotoframing.py` at rev 51f7ac100), state for state and message
//! for message, including its half-duplex output buffering.
//!
//! Its bugs are kept and explained rather than reproduced as crashes:
//! after a command whose arguments end without data the reactor enters a
//! state `waiting` that has no handler, so the next frame makes Mercurial
//! raise `ProgrammingError: unhandled state: waiting`; an argument frame
//! with the `continuation` flag raises `not yet implemented`; an argument
//! frame shorter than its 4-byte header makes `struct.unpack_from` raise.

use super::{
    msg, Action, Batches, Consumed, ReactorOptions, Response, RunCommand, SendFrames, ServerCrash,
};
use crate::python::value::{dict_insert, Value};
use crate::wire::frame::{Frame, DEFAULT_MAX_FRAME_SIZE};
use crate::wire::proto::Proto;

const T_COMMAND_NAME: u8 = 1;
const T_COMMAND_ARGUMENT: u8 = 2;
const T_COMMAND_DATA: u8 = 3;
const T_BYTES_RESPONSE: u8 = 4;
const T_ERROR_RESPONSE: u8 = 5;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    Idle,
    ReceivingArgs,
    ReceivingData,
    Errored,
    /// Entered after a command without data; Mercurial has no handler.
    Waiting,
}

impl State {
    fn name(self) -> &'static str {
        match self {
            State::Idle => "idle",
            State::ReceivingArgs => "command-receiving-args",
            State::ReceivingData => "command-receiving-data",
            State::Errored => "errored",
            State::Waiting => "waiting",
        }
    }
}

pub struct Reactor0001 {
    defer: bool,
    state: State,
    buffered: Vec<u32>,
    batches: Batches<Vec<Frame>>,
    command: Vec<u8>,
    args: Vec<(Value, Value)>,
    data: Option<Vec<u8>>,
    expecting_data: bool,
}

impl Reactor0001 {
    pub fn new(opts: ReactorOptions) -> Self {
        Reactor0001 {
            defer: opts.defer_output,
            state: State::Idle,
            buffered: Vec::new(),
            batches: Batches::default(),
            command: Vec::new(),
            args: Vec::new(),
            data: None,
            expecting_data: false,
        }
    }

    fn error(&mut self, m: String) -> Action {
        self.state = State::Errored;
        msg(m)
    }

    fn run(&self) -> Action {
        Action::RunCommand(RunCommand {
            request_id: None,
            command: Value::Bytes(self.command.clone()),
            args: Value::Dict(self.args.clone()),
            data: self.data.clone(),
            redirect: None,
        })
    }

    fn want(&self) -> Action {
        Action::WantFrame {
            state: self.state.name(),
        }
    }

    fn on_idle(&mut self, f: &Frame) -> Action {
        if f.type_id != T_COMMAND_NAME {
            return self.error(format!("expected command frame; got {}", f.type_id));
        }
        self.command = f.payload.clone();
        self.args.clear();
        self.data = None;
        if f.flags & 0x1 != 0 {
            return self.run();
        }
        let expecting_args = f.flags & 0x2 != 0;
        self.expecting_data = f.flags & 0x4 != 0;
        if expecting_args {
            self.state = State::ReceivingArgs;
            self.want()
        } else if self.expecting_data {
            self.data = Some(Vec::new());
            self.state = State::ReceivingData;
            self.want()
        } else {
            self.error("missing frame flags on command frame".into())
        }
    }

    fn on_args(&mut self, f: &Frame) -> Result<Action, ServerCrash> {
        if f.type_id != T_COMMAND_ARGUMENT {
            return Ok(self.error(format!(
                "expected command argument frame; got {}",
                f.type_id
            )));
        }
        let (name, value) = match parse_argument(f)? {
            Ok(nv) => nv,
            Err(m) => return Ok(self.error(m.into())),
        };
        dict_insert(&mut self.args, Value::Bytes(name), Value::Bytes(value));
        if f.flags & 0x2 != 0 {
            if self.expecting_data {
                self.state = State::ReceivingData;
                self.data = Some(Vec::new());
                Ok(self.want())
            } else {
                self.state = State::Waiting;
                Ok(self.run())
            }
        } else {
            Ok(self.want())
        }
    }

    fn on_data(&mut self, f: &Frame) -> Action {
        if f.type_id != T_COMMAND_DATA {
            return self.error(format!("expected command data frame; got {}", f.type_id));
        }
        self.data
            .get_or_insert_with(Vec::new)
            .extend_from_slice(&f.payload);
        if f.flags & 0x1 != 0 {
            self.want()
        } else if f.flags & 0x2 != 0 {
            self.state = State::Idle;
            self.run()
        } else {
            self.error("command data frame without flags".into())
        }
    }

    fn emit(&mut self, frames: Vec<Frame>) -> Action {
        let id = self.batches.add(frames);
        if self.defer {
            self.buffered.push(id);
            Action::Noop
        } else {
            Action::SendFrames(SendFrames { batches: vec![id] })
        }
    }
}

/// A parsed argument `(name, value)`, or the reactor's error message.
pub(crate) type ArgumentParse = Result<(Vec<u8>, Vec<u8>), &'static str>;

/// Parse a `command-argument` frame as revisions 0001 and 0002 do: u16 LE
/// name length, u16 LE value length, name, value. The outer error is a
/// crash (Mercurial raises); the inner one the reactor's error message.
pub(crate) fn parse_argument(f: &Frame) -> Result<ArgumentParse, ServerCrash> {
    let p = &f.payload;
    if p.len() < 4 {
        return Err(ServerCrash::new(
            format!(
                "struct.error: unpack_from requires a buffer of at least 4 bytes (got {})",
                p.len()
            ),
            "a command-argument payload starts with u16 name length and u16 value length; this one is shorter than 4 bytes",
        ));
    }
    let namesize = u16::from_le_bytes([p[0], p[1]]) as usize;
    let valuesize = u16::from_le_bytes([p[2], p[3]]) as usize;
    let name_end = (4 + namesize).min(p.len());
    let name = p[4..name_end].to_vec();
    if name.len() != namesize {
        return Ok(Err("malformed argument frame: partial argument name"));
    }
    // Checked after the name, before the value, as Mercurial does.
    if f.flags & 0x1 != 0 {
        return Err(ServerCrash::new(
            "ProgrammingError: not yet implemented",
            "argument values continued across frames (the continuation flag) were never implemented in this revision",
        ));
    }
    let value = p[name_end..].to_vec();
    if value.len() != valuesize {
        return Ok(Err("malformed argument frame: partial argument value"));
    }
    Ok(Ok((name, value)))
}

/// `createbytesresponseframesfrombytes`.
pub fn bytes_response_frames(data: &[u8]) -> Vec<Frame> {
    if data.len() <= DEFAULT_MAX_FRAME_SIZE {
        return vec![Frame::new(T_BYTES_RESPONSE, 0x2, data.to_vec())];
    }
    let chunks: Vec<&[u8]> = data.chunks(DEFAULT_MAX_FRAME_SIZE).collect();
    let n = chunks.len();
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            Frame::new(
                T_BYTES_RESPONSE,
                if i + 1 == n { 0x2 } else { 0x1 },
                c.to_vec(),
            )
        })
        .collect()
}

impl super::Reactor for Reactor0001 {
    fn proto(&self) -> Proto {
        Proto::P0001
    }

    fn on_frame(&mut self, f: &Frame) -> Result<Action, ServerCrash> {
        match self.state {
            State::Idle => Ok(self.on_idle(f)),
            State::ReceivingArgs => self.on_args(f),
            State::ReceivingData => Ok(self.on_data(f)),
            State::Errored => Ok(msg("server already errored")),
            State::Waiting => Err(ServerCrash::new(
                "ProgrammingError: unhandled state: waiting",
                "after a command whose arguments end without data this revision enters a state `waiting` that has no frame handler, so any further frame crashes it",
            )),
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

    fn on_response(&mut self, _request_id: u16, response: Response) -> Result<Action, ServerCrash> {
        match response {
            Response::Bytes(data) => Ok(self.emit(bytes_response_frames(&data))),
            Response::Error(m) => {
                if m.len() > DEFAULT_MAX_FRAME_SIZE {
                    return Err(ServerCrash::new(
                        "AssertionError",
                        "createerrorframe asserts the message fits in one frame (32768 bytes)",
                    ));
                }
                // onapplicationerror ignores deferred output.
                let id = self.batches.add(vec![Frame::new(T_ERROR_RESPONSE, 0x2, m)]);
                Ok(Action::SendFrames(SendFrames { batches: vec![id] }))
            }
            Response::Objects(_) | Response::CommandError { .. } => Err(ServerCrash::new(
                "AttributeError",
                "revision 0001 has only bytes responses and application errors",
            )),
        }
    }

    fn consume(&mut self, sent: &SendFrames) -> Consumed {
        let mut c = Consumed::default();
        for id in &sent.batches {
            if let Some(frames) = self.batches.take(*id) {
                c.frames.extend(frames);
            }
        }
        c
    }

    fn state(&self) -> &'static str {
        self.state.name()
    }
}
