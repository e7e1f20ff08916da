//! Sans-IO ports of Mercurial's server reactors, one per revision.
//!
//! A reactor is a state machine and nothing else: no sockets, no clock, no
//! threads, no printing. Events go in ([`Reactor::on_frame`],
//! [`Reactor::on_input_eof`], [`Reactor::on_response`]) and an [`Action`]
//! comes out, exactly as `serverreactor.onframerecv()` & co. return
//! `(action, meta)` in Mercurial. Where Mercurial itself raises (the HTTP
//! server then answers 500), the reactor returns a [`ServerCrash`] saying
//! what Mercurial would raise and why, and stays usable.
//!
//! * [`v0001`] is the seed `000` (`wireprotoframing.py` at rev 51f7ac100).
//! * [`v0002`] is the streams snapshot (rev 8862a50a8).
//! * [`v0006`] is Mercurial 6.0's `serverreactor`.
//!
//! Stream bookkeeping (odd ids, stream-begin/stream-end, `encoded`) is
//! shared by 0002 and 0006 in [`streams`].

pub mod response;
pub mod streams;
pub mod v0001;
pub mod v0002;
pub mod v0006;

use crate::python::value::Value;
use crate::wire::frame::Frame;
use crate::wire::proto::{Proto, ReactorKind};

/// What the reactor tells its caller to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Nothing to do until more frames arrive.
    WantFrame { state: &'static str },
    /// Dispatch a command.
    RunCommand(RunCommand),
    /// A protocol error; the server reports it (and stays errored).
    Error { message: Vec<u8> },
    /// Send these frames to the client.
    SendFrames(SendFrames),
    /// Nothing.
    Noop,
}

/// `runcommand` meta.
#[derive(Debug, Clone, PartialEq)]
pub struct RunCommand {
    /// `None` for 0001 (no request ids).
    pub request_id: Option<u16>,
    pub command: Value,
    pub args: Value,
    pub data: Option<Vec<u8>>,
    /// 0006 only: `Some(redirect or None)`; 0001/0002 have no such key.
    pub redirect: Option<Value>,
}

/// `sendframes`: handles on frame generators. Mercurial builds response
/// frames lazily, when the generator is consumed (stream-begin and the
/// stream-settings frame go to whichever response is consumed first, and a
/// request stops being active only once its frames are out), so the frames
/// are produced by [`Reactor::consume`], in the order the caller consumes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SendFrames {
    pub batches: Vec<u32>,
}

/// What consuming a `sendframes` produced: the frames, and the exception
/// Mercurial raises part-way (after yielding `frames`), if any.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Consumed {
    pub frames: Vec<Frame>,
    pub crash: Option<ServerCrash>,
}

/// Pending frame generators of a reactor.
pub(crate) struct Batches<T> {
    next: u32,
    items: Vec<(u32, T)>,
}

impl<T> Default for Batches<T> {
    fn default() -> Self {
        Batches {
            next: 0,
            items: Vec::new(),
        }
    }
}

impl<T> Batches<T> {
    pub fn add(&mut self, t: T) -> u32 {
        let id = self.next;
        self.next += 1;
        self.items.push((id, t));
        id
    }
    pub fn take(&mut self, id: u32) -> Option<T> {
        let pos = self.items.iter().position(|(i, _)| *i == id)?;
        Some(self.items.remove(pos).1)
    }
}

impl Action {
    /// The action's name as Mercurial spells it.
    pub fn name(&self) -> &'static str {
        match self {
            Action::WantFrame { .. } => "wantframe",
            Action::RunCommand(_) => "runcommand",
            Action::Error { .. } => "error",
            Action::SendFrames(_) => "sendframes",
            Action::Noop => "noop",
        }
    }

    /// The meta dict as Mercurial returns it (`framegen` is a generator
    /// there and a placeholder here: consume it to get the frames).
    pub fn meta(&self) -> Value {
        match self {
            Action::WantFrame { state } => Value::dict([("state", Value::bytes(*state))]),
            Action::Error { message } => Value::dict([("message", Value::bytes(message.clone()))]),
            Action::Noop => Value::Dict(Vec::new()),
            Action::SendFrames(_) => {
                Value::dict([("framegen", Value::bytes("<generator object>"))])
            }
            Action::RunCommand(r) => {
                let mut items: Vec<(&str, Value)> = vec![
                    ("command", r.command.clone()),
                    ("args", r.args.clone()),
                    (
                        "data",
                        r.data.clone().map(Value::Bytes).unwrap_or(Value::None),
                    ),
                ];
                if let Some(id) = r.request_id {
                    items.push(("requestid", Value::Int(id as i128)));
                }
                if let Some(redirect) = &r.redirect {
                    items.push(("redirect", redirect.clone()));
                }
                Value::dict(items)
            }
        }
    }

    /// `(action, meta)` as a Python tuple, as debugreflect renders it.
    pub fn as_tuple(&self) -> Value {
        Value::Tuple(vec![Value::bytes(self.name()), self.meta()])
    }
}

/// A Mercurial server raises here; over HTTP it answers 500.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a Mercurial server answers HTTP 500 here: {exception} ({why})")]
pub struct ServerCrash {
    /// `ExceptionType: message` as Python would log it.
    pub exception: String,
    /// Why, in our words.
    pub why: String,
}

impl ServerCrash {
    pub fn new(exception: impl Into<String>, why: impl Into<String>) -> Self {
        ServerCrash {
            exception: exception.into(),
            why: why.into(),
        }
    }
}

/// A response the caller (playing the server's command layer) provides.
#[derive(Debug, Clone, PartialEq)]
pub enum Response {
    /// Raw bytes: `onbytesresponseready` (0001, 0002); for 0006 one CBOR
    /// bytestring object.
    Bytes(Vec<u8>),
    /// 0006 `oncommandresponsereadyobjects`: objects CBOR-encoded in turn.
    Objects(Vec<Value>),
    /// 0001/0002 `onapplicationerror`; 0006 `onservererror`.
    Error(Vec<u8>),
    /// 0006 `oncommanderror`.
    CommandError {
        message: Vec<u8>,
        args: Option<Value>,
    },
}

/// The common interface of the three reactors.
pub trait Reactor {
    fn proto(&self) -> Proto;
    /// `onframerecv`.
    fn on_frame(&mut self, frame: &Frame) -> Result<Action, ServerCrash>;
    /// `oninputeof`.
    fn on_input_eof(&mut self) -> Result<Action, ServerCrash>;
    /// A command's response is ready (for `request_id`; ignored by 0001).
    fn on_response(&mut self, request_id: u16, response: Response) -> Result<Action, ServerCrash>;
    /// Consume the frame generators of a `sendframes` action (Mercurial:
    /// iterate `framegen`). Each generator can be consumed once.
    fn consume(&mut self, sent: &SendFrames) -> Consumed;
    /// Current state name (as in `wantframe` meta).
    fn state(&self) -> &'static str;
    /// 0006: `makeoutputstream()`; returns the new stream id.
    fn make_output_stream(&mut self) -> Option<u8> {
        None
    }
}

/// Options for building a reactor.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReactorOptions {
    /// Buffer responses until input EOF (half-duplex, as the HTTP server).
    pub defer_output: bool,
}

/// A reactor for a revision.
pub fn new_reactor(proto: Proto, opts: ReactorOptions) -> Box<dyn Reactor + Send> {
    match proto.table().reactor {
        ReactorKind::V0001 => Box::new(v0001::Reactor0001::new(opts)),
        ReactorKind::V0002 => Box::new(v0002::Reactor0002::new(opts)),
        ReactorKind::V0006 => Box::new(v0006::Reactor0006::new(opts)),
    }
}

/// Bytes of a Python `%s`-formatted message.
pub(crate) fn msg(s: impl Into<String>) -> Action {
    Action::Error {
        message: s.into().into_bytes(),
    }
}

/// A set of u16 request ids (bitmap: O(1), 8 KiB).
#[derive(Clone)]
pub(crate) struct IdSet(Box<[u64; 1024]>);

impl Default for IdSet {
    fn default() -> Self {
        IdSet(Box::new([0; 1024]))
    }
}

impl IdSet {
    pub fn contains(&self, id: u16) -> bool {
        self.0[(id >> 6) as usize] & (1 << (id & 63)) != 0
    }
    pub fn insert(&mut self, id: u16) {
        self.0[(id >> 6) as usize] |= 1 << (id & 63);
    }
    pub fn remove(&mut self, id: u16) -> bool {
        let had = self.contains(id);
        self.0[(id >> 6) as usize] &= !(1 << (id & 63));
        had
    }
}

/// Cheap hasher for u16 keys.
#[derive(Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8 | b as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_u16(&mut self, n: u16) {
        self.0 = (n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

pub(crate) type IdMap<V> =
    std::collections::HashMap<u16, V, std::hash::BuildHasherDefault<IdHasher>>;
