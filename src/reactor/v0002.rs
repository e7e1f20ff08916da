//! The 0002 server reactor: the streams snapshot (rev 8862a50a8).
//!
//! Its `wireprotoframing.py` is not among the seeds; this is revision
//! 0001's reactor extended with request ids and streams as PROTOCOL.md and
//! the captured vectors show it, and as its successor (6.0) still reads:
//! stream checks first, several requests receiving at once keyed by request
//! id, dispatch in completion order, `request with ID N already received`
//! / `is already active`, and responses on a fresh server stream 2 per
//! command (the seed `002`'s `_httpv2runcommand` makes `stream(2)` each
//! time). A frame type other than command-name/argument/data while
//! receiving falls through the handler and returns nothing, which crashes
//! the debugreflect endpoint (unpacking `None`).

use super::streams::{InputStreams, StreamCheck};
use super::{
    msg, Action, Batches, Consumed, IdMap, IdSet, ReactorOptions, Response, RunCommand, SendFrames,
    ServerCrash,
};
use crate::python::value::{dict_insert, Value};
use crate::wire::frame::{Frame, DEFAULT_MAX_FRAME_SIZE, STREAM_BEGIN};
use crate::wire::proto::Proto;

const T_COMMAND_NAME: u8 = 1;
const T_COMMAND_ARGUMENT: u8 = 2;
const T_COMMAND_DATA: u8 = 3;
const T_ERROR_RESPONSE: u8 = 5;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    Idle,
    Receiving,
    Errored,
}

impl State {
    fn name(self) -> &'static str {
        match self {
            State::Idle => "idle",
            State::Receiving => "command-receiving",
            State::Errored => "errored",
        }
    }
}

struct Entry {
    command: Vec<u8>,
    args: Vec<(Value, Value)>,
    data: Option<Vec<u8>>,
    expecting_args: bool,
    expecting_data: bool,
}

pub struct Reactor0002 {
    defer: bool,
    state: State,
    streams: InputStreams,
    receiving: IdMap<Entry>,
    active: IdSet,
    buffered: Vec<u32>,
    /// Frames and the request they complete (None: application errors).
    batches: Batches<(Vec<Frame>, Option<u16>)>,
}

impl Reactor0002 {
    pub fn new(opts: ReactorOptions) -> Self {
        Reactor0002 {
            defer: opts.defer_output,
            state: State::Idle,
            streams: InputStreams::default(),
            receiving: IdMap::default(),
            active: IdSet::default(),
            buffered: Vec::new(),
            batches: Batches::default(),
        }
    }

    fn error(&mut self, m: String) -> Action {
        self.state = State::Errored;
        msg(m)
    }

    fn want(&self) -> Action {
        Action::WantFrame {
            state: self.state.name(),
        }
    }

    fn run(&mut self, id: u16) -> Action {
        let Some(e) = self.receiving.remove(&id) else {
            return self.error(format!(
                "received frame for request that is not receiving: {id}"
            ));
        };
        self.state = if self.receiving.is_empty() {
            State::Idle
        } else {
            State::Receiving
        };
        self.active.insert(id);
        Action::RunCommand(RunCommand {
            request_id: Some(id),
            command: Value::Bytes(e.command),
            args: Value::Dict(e.args),
            data: e.data,
            redirect: None,
        })
    }

    fn on_idle(&mut self, f: &Frame) -> Action {
        if f.type_id != T_COMMAND_NAME {
            return self.error(format!("expected command frame; got {}", f.type_id));
        }
        if self.receiving.contains_key(&f.request_id) {
            return self.error(format!("request with ID {} already received", f.request_id));
        }
        if self.active.contains(f.request_id) {
            return self.error(format!(
                "request with ID {} is already active",
                f.request_id
            ));
        }
        let expecting_args = f.flags & 0x2 != 0;
        let expecting_data = f.flags & 0x4 != 0;
        self.receiving.insert(
            f.request_id,
            Entry {
                command: f.payload.clone(),
                args: Vec::new(),
                data: None,
                expecting_args,
                expecting_data,
            },
        );
        if f.flags & 0x1 != 0 {
            return self.run(f.request_id);
        }
        if expecting_args || expecting_data {
            self.state = State::Receiving;
            self.want()
        } else {
            self.error("missing frame flags on command frame".into())
        }
    }

    fn on_receiving(&mut self, f: &Frame) -> Result<Action, ServerCrash> {
        if f.type_id == T_COMMAND_NAME {
            return Ok(self.on_idle(f));
        }
        if self.active.contains(f.request_id) {
            return Ok(self.error(format!(
                "received frame for request that is still active: {}",
                f.request_id
            )));
        }
        let id = f.request_id;
        let Some(entry) = self.receiving.get_mut(&id) else {
            return Ok(self.error(format!(
                "received frame for request that is not receiving: {id}"
            )));
        };
        match f.type_id {
            T_COMMAND_ARGUMENT => {
                if !entry.expecting_args {
                    return Ok(self.error(format!(
                        "received command argument frame for request that is not expecting arguments: {id}"
                    )));
                }
                let (name, value) = match super::v0001::parse_argument(f)? {
                    Ok(nv) => nv,
                    Err(m) => return Ok(self.error(m.into())),
                };
                let Some(entry) = self.receiving.get_mut(&id) else {
                    return Ok(self.error(format!("received frame for request that is not receiving: {id}")));
                };
                dict_insert(&mut entry.args, Value::Bytes(name), Value::Bytes(value));
                if f.flags & 0x2 != 0 {
                    if entry.expecting_data {
                        Ok(self.want())
                    } else {
                        Ok(self.run(id))
                    }
                } else {
                    Ok(self.want())
                }
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
                if f.flags & 0x1 != 0 {
                    Ok(self.want())
                } else if f.flags & 0x2 != 0 {
                    Ok(self.run(id))
                } else {
                    Ok(self.error("command data frame without flags".into()))
                }
            }
            other => Err(ServerCrash::new(
                "TypeError: cannot unpack non-iterable NoneType object",
                format!("a frame of type {other} for a request that is receiving falls through this revision's handler, which returns nothing"),
            )),
        }
    }

    fn emit(&mut self, frames: Vec<Frame>, id: u16) -> Action {
        let b = self.batches.add((frames, Some(id)));
        if self.defer {
            self.buffered.push(b);
            Action::Noop
        } else {
            Action::SendFrames(SendFrames { batches: vec![b] })
        }
    }
}

/// Frames on a fresh server stream 2 (stream-begin on the first).
fn on_fresh_stream(mut frames: Vec<Frame>, id: u16) -> Vec<Frame> {
    for (i, f) in frames.iter_mut().enumerate() {
        f.request_id = id;
        f.stream_id = 2;
        f.stream_flags = if i == 0 { STREAM_BEGIN } else { 0 };
    }
    frames
}

impl super::Reactor for Reactor0002 {
    fn proto(&self) -> Proto {
        Proto::P0002
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
            State::Idle => Ok(self.on_idle(f)),
            State::Receiving => self.on_receiving(f),
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

    fn on_response(&mut self, id: u16, response: Response) -> Result<Action, ServerCrash> {
        match response {
            Response::Bytes(data) => {
                let frames = on_fresh_stream(super::v0001::bytes_response_frames(&data), id);
                Ok(self.emit(frames, id))
            }
            Response::Error(m) => {
                if m.len() > DEFAULT_MAX_FRAME_SIZE {
                    return Err(ServerCrash::new(
                        "AssertionError",
                        "createerrorframe asserts the message fits in one frame (32768 bytes)",
                    ));
                }
                let frames = on_fresh_stream(vec![Frame::new(T_ERROR_RESPONSE, 0x2, m)], id);
                let b = self.batches.add((frames, None));
                Ok(Action::SendFrames(SendFrames { batches: vec![b] }))
            }
            Response::Objects(_) | Response::CommandError { .. } => Err(ServerCrash::new(
                "AttributeError",
                "revision 0002 has only bytes responses and application errors",
            )),
        }
    }

    fn consume(&mut self, sent: &SendFrames) -> Consumed {
        let mut c = Consumed::default();
        for b in &sent.batches {
            if let Some((frames, done)) = self.batches.take(*b) {
                c.frames.extend(frames);
                if let Some(id) = done {
                    self.active.remove(id);
                }
            }
        }
        c
    }

    fn state(&self) -> &'static str {
        self.state.name()
    }
}
