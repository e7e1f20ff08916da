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
    check_error_fits, msg, Action, Consumed, FrameGen, Output, ReactorOptions, Response,
    RunCommand, ServerCrash, State,
};
use crate::python::value::{DictBuilder, Value};
use crate::python::Py;
use crate::wire::frame::{Frame, DEFAULT_MAX_FRAME_SIZE};
use crate::wire::ids::v0001::*;
use crate::wire::proto::Proto;

pub struct Reactor0001 {
    state: State,
    out: Output<Vec<Frame>>,
    command: Vec<u8>,
    args: DictBuilder,
    data: Option<Vec<u8>>,
    expecting_data: bool,
}

impl Reactor0001 {
    pub fn new(opts: ReactorOptions) -> Self {
        Reactor0001 {
            state: State::Idle,
            out: Output::new(opts),
            command: Vec::new(),
            args: DictBuilder::new(Py::Three),
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
            args: Value::Dict(self.args.pairs().to_vec()),
            data: self.data.clone(),
            redirect: None,
        })
    }

    fn want(&self) -> Action {
        Action::WantFrame { state: self.state }
    }

    fn on_idle(&mut self, f: &Frame) -> Action {
        if f.type_id != COMMAND_NAME {
            return self.error(format!("expected command frame; got {}", f.type_id));
        }
        self.command = f.payload.clone();
        self.args = DictBuilder::new(Py::Three);
        self.data = None;
        if f.flags & FLAG_COMMAND_NAME_EOS != 0 {
            return self.run();
        }
        let expecting_args = f.flags & FLAG_COMMAND_NAME_HAVE_ARGS != 0;
        self.expecting_data = f.flags & FLAG_COMMAND_NAME_HAVE_DATA != 0;
        if expecting_args {
            self.state = State::CommandReceivingArgs;
            self.want()
        } else if self.expecting_data {
            self.data = Some(Vec::new());
            self.state = State::CommandReceivingData;
            self.want()
        } else {
            self.error("missing frame flags on command frame".into())
        }
    }

    fn on_args(&mut self, f: &Frame) -> Result<Action, ServerCrash> {
        if f.type_id != COMMAND_ARGUMENT {
            return Ok(self.error(format!(
                "expected command argument frame; got {}",
                f.type_id
            )));
        }
        let (name, value) = match parse_argument(f)? {
            Ok(nv) => nv,
            Err(m) => return Ok(self.error(m.into())),
        };
        self.args.insert(Value::Bytes(name), Value::Bytes(value));
        if f.flags & FLAG_COMMAND_ARGUMENT_EOA != 0 {
            if self.expecting_data {
                self.state = State::CommandReceivingData;
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
        if f.type_id != COMMAND_DATA {
            return self.error(format!("expected command data frame; got {}", f.type_id));
        }
        self.data
            .get_or_insert_with(Vec::new)
            .extend_from_slice(&f.payload);
        if f.flags & FLAG_COMMAND_DATA_CONTINUATION != 0 {
            self.want()
        } else if f.flags & FLAG_COMMAND_DATA_EOS != 0 {
            self.state = State::Idle;
            self.run()
        } else {
            self.error("command data frame without flags".into())
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
    if f.flags & FLAG_COMMAND_ARGUMENT_CONTINUATION != 0 {
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
        return vec![Frame::new(
            BYTES_RESPONSE,
            FLAG_BYTES_RESPONSE_EOS,
            data.to_vec(),
        )];
    }
    let chunks: Vec<&[u8]> = data.chunks(DEFAULT_MAX_FRAME_SIZE).collect();
    let n = chunks.len();
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            Frame::new(
                BYTES_RESPONSE,
                if i + 1 == n {
                    FLAG_BYTES_RESPONSE_EOS
                } else {
                    FLAG_BYTES_RESPONSE_CONTINUATION
                },
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
            State::CommandReceivingArgs => self.on_args(f),
            State::CommandReceivingData => Ok(self.on_data(f)),
            State::Errored => Ok(msg("server already errored")),
            // The other states are not 0001's: its reactor starts idle.
            State::Idle | State::Initial | State::ProtocolSettingsReceiving | State::CommandReceiving => Ok(self.on_idle(f)),
            State::Waiting => Err(ServerCrash::new(
                "ProgrammingError: unhandled state: waiting",
                "after a command whose arguments end without data this revision enters a state `waiting` that has no frame handler, so any further frame crashes it",
            )),
        }
    }

    fn on_input_eof(&mut self) -> Result<Action, ServerCrash> {
        Ok(self.out.on_input_eof())
    }

    fn on_response(&mut self, _request_id: u16, response: Response) -> Result<Action, ServerCrash> {
        match response {
            Response::Bytes(data) => Ok(self.out.send(bytes_response_frames(&data))),
            Response::Chunks(c) => Ok(self.out.send(bytes_response_frames(&c.concat()))),
            Response::Error(m) => {
                check_error_fits(&m)?;
                // onapplicationerror ignores deferred output.
                Ok(self.out.send_now(vec![Frame::new(
                    ERROR_RESPONSE,
                    FLAG_ERROR_RESPONSE_APPLICATION,
                    m,
                )]))
            }
            Response::Objects(_) | Response::CommandError { .. } => Err(ServerCrash::new(
                "AttributeError",
                "revision 0001 has only bytes responses and application errors",
            )),
        }
    }

    fn consume(&mut self, frames: FrameGen) -> Consumed {
        Consumed {
            frames: self.out.take(frames).into_iter().flatten().collect(),
            crash: None,
        }
    }

    fn state(&self) -> State {
        self.state
    }

    fn make_output_stream(&mut self) -> Result<Option<u8>, ServerCrash> {
        Ok(None)
    }
}
