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

use super::streams::InputStreams;
use super::{
    check_error_fits, msg, Action, Consumed, FrameGen, IdMap, IdSet, Output, ReactorOptions,
    Response, RunCommand, ServerCrash, State,
};
use crate::python::value::{DictBuilder, Value};
use crate::python::Py;
use crate::wire::frame::{Frame, STREAM_BEGIN};
use crate::wire::ids::v0002::*;
use crate::wire::proto::Proto;

struct Entry {
    command: Vec<u8>,
    args: DictBuilder,
    data: Option<Vec<u8>>,
    expecting_args: bool,
    expecting_data: bool,
}

pub struct Reactor0002 {
    state: State,
    streams: InputStreams,
    receiving: IdMap<Entry>,
    active: IdSet,
    /// Frames and the request they complete (None: application errors).
    out: Output<(Vec<Frame>, Option<u16>)>,
}

impl Reactor0002 {
    pub fn new(opts: ReactorOptions) -> Self {
        Reactor0002 {
            state: State::Idle,
            streams: InputStreams::default(),
            receiving: IdMap::default(),
            active: IdSet::default(),
            out: Output::new(opts),
        }
    }

    fn error(&mut self, m: String) -> Action {
        self.state = State::Errored;
        msg(m)
    }

    fn want(&self) -> Action {
        Action::WantFrame { state: self.state }
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
            State::CommandReceiving
        };
        self.active.insert(id);
        Action::RunCommand(RunCommand {
            request_id: Some(id),
            command: Value::Bytes(e.command),
            args: Value::Dict(e.args.into_pairs()),
            data: e.data,
            redirect: None,
        })
    }

    fn on_idle(&mut self, f: &Frame) -> Action {
        if f.type_id != COMMAND_NAME {
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
        let expecting_args = f.flags & FLAG_COMMAND_NAME_HAVE_ARGS != 0;
        let expecting_data = f.flags & FLAG_COMMAND_NAME_HAVE_DATA != 0;
        self.receiving.insert(
            f.request_id,
            Entry {
                command: f.payload.clone(),
                args: DictBuilder::new(Py::Three),
                data: None,
                expecting_args,
                expecting_data,
            },
        );
        if f.flags & FLAG_COMMAND_NAME_EOS != 0 {
            return self.run(f.request_id);
        }
        if expecting_args || expecting_data {
            self.state = State::CommandReceiving;
            self.want()
        } else {
            self.error("missing frame flags on command frame".into())
        }
    }

    fn on_receiving(&mut self, f: &Frame) -> Result<Action, ServerCrash> {
        if f.type_id == COMMAND_NAME {
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
            COMMAND_ARGUMENT => {
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
                entry.args.insert(Value::Bytes(name), Value::Bytes(value));
                if f.flags & FLAG_COMMAND_ARGUMENT_EOA != 0 {
                    if entry.expecting_data {
                        Ok(self.want())
                    } else {
                        Ok(self.run(id))
                    }
                } else {
                    Ok(self.want())
                }
            }
            COMMAND_DATA => {
                if !entry.expecting_data {
                    return Ok(self.error(format!(
                        "received command data frame for request that is not expecting data: {id}"
                    )));
                }
                entry
                    .data
                    .get_or_insert_with(Vec::new)
                    .extend_from_slice(&f.payload);
                if f.flags & FLAG_COMMAND_DATA_CONTINUATION != 0 {
                    Ok(self.want())
                } else if f.flags & FLAG_COMMAND_DATA_EOS != 0 {
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
        if let Some(early) = self.streams.prologue(f, &mut self.state) {
            return early;
        }
        match self.state {
            State::CommandReceiving => self.on_receiving(f),
            State::Errored => Ok(msg("server already errored")),
            // The other states are not 0002's: its reactor starts idle.
            _ => Ok(self.on_idle(f)),
        }
    }

    fn on_input_eof(&mut self) -> Result<Action, ServerCrash> {
        Ok(self.out.on_input_eof())
    }

    fn on_response(&mut self, id: u16, response: Response) -> Result<Action, ServerCrash> {
        match response {
            Response::Chunks(c) => self.on_response(id, Response::Bytes(c.concat())),
            Response::Bytes(data) => {
                let frames = on_fresh_stream(super::v0001::bytes_response_frames(&data), id);
                Ok(self.out.send((frames, Some(id))))
            }
            Response::Error(m) => {
                check_error_fits(&m)?;
                let frames = on_fresh_stream(
                    vec![Frame::new(
                        ERROR_RESPONSE,
                        FLAG_ERROR_RESPONSE_APPLICATION,
                        m,
                    )],
                    id,
                );
                // onapplicationerror ignores deferred output.
                Ok(self.out.send_now((frames, None)))
            }
            Response::Objects(_) | Response::CommandError { .. } => Err(ServerCrash::new(
                "AttributeError",
                "revision 0002 has only bytes responses and application errors",
            )),
        }
    }

    fn consume(&mut self, frames: FrameGen) -> Consumed {
        let mut c = Consumed::default();
        for (frames, done) in self.out.take(frames) {
            c.frames.extend(frames);
            if let Some(id) = done {
                self.active.remove(id);
            }
        }
        c
    }

    fn state(&self) -> State {
        self.state
    }

    fn make_output_stream(&mut self) -> Result<Option<u8>, ServerCrash> {
        Ok(None)
    }
}
