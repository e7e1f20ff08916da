//! Sans-IO ports of Mercurial's server reactors, one per revision, and
//! (in [`client`]) of its client reactor with the response side.
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
//! * [`v0005`] is Mercurial 4.6/4.7's `serverreactor`.
//! * [`v0006`] is Mercurial 6.0's `serverreactor` (4.8 to 6.0; the
//!   server's Python, from the revision's flavour, decides exception text).
//!
//! Stream bookkeeping (odd ids, stream-begin/stream-end, `encoded`) is
//! shared by 0002, 0005 and 0006 in [`streams`].

pub mod client;
mod requests;
pub mod streams;
pub mod v0001;
pub mod v0002;
pub mod v0005;
pub mod v0006;

use crate::python::value::Value;
use crate::wire::frame::Frame;
use crate::wire::proto::{Proto, ReactorKind};

/// A server reactor's state, as `wantframe` meta names it. Each revision
/// uses some of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// 0006: before the first frame (sender settings may come).
    Initial,
    /// 0006: sender protocol settings span frames.
    ProtocolSettingsReceiving,
    Idle,
    /// 0002, 0006: one or more requests are being received.
    CommandReceiving,
    /// 0001: argument frames of the current command.
    CommandReceivingArgs,
    /// 0001: data frames of the current command.
    CommandReceivingData,
    /// 0001: after a command without data; Mercurial has no handler.
    Waiting,
    Errored,
}

impl State {
    const ALL: [State; 8] = [
        State::Initial,
        State::ProtocolSettingsReceiving,
        State::Idle,
        State::CommandReceiving,
        State::CommandReceivingArgs,
        State::CommandReceivingData,
        State::Waiting,
        State::Errored,
    ];

    /// The name Mercurial gives it.
    pub fn name(self) -> &'static str {
        match self {
            State::Initial => "initial",
            State::ProtocolSettingsReceiving => "protocol-settings-receiving",
            State::Idle => "idle",
            State::CommandReceiving => "command-receiving",
            State::CommandReceivingArgs => "command-receiving-args",
            State::CommandReceivingData => "command-receiving-data",
            State::Waiting => "waiting",
            State::Errored => "errored",
        }
    }

    /// The state with this name.
    pub fn from_name(name: &[u8]) -> Option<State> {
        State::ALL.into_iter().find(|s| s.name().as_bytes() == name)
    }
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What the reactor tells its caller to do.
#[derive(Debug, PartialEq)]
pub enum Action {
    /// Nothing to do until more frames arrive.
    WantFrame { state: State },
    /// Dispatch a command.
    RunCommand(RunCommand),
    /// A protocol error; the server reports it (and stays errored).
    Error { message: Vec<u8> },
    /// Send frames to the client: hand the generator back to
    /// [`Reactor::consume`] to produce them.
    SendFrames(FrameGen),
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

/// The frame generator of a `sendframes` action. Mercurial builds response
/// frames lazily, when the generator is consumed (stream-begin and the
/// stream-settings frame go to whichever response is consumed first, and a
/// request stops being active only once its frames are out), so the frames
/// are produced by [`Reactor::consume`], in the order the caller consumes.
/// It cannot be copied, so it is consumed at most once.
#[derive(Debug, PartialEq)]
#[must_use = "a sendframes generator produces nothing until it is consumed (Reactor::consume)"]
pub struct FrameGen {
    batches: Vec<u32>,
}

impl FrameGen {
    /// Move the generator out to consume it, leaving a spent one in the
    /// action (kept for the record: it still reads `sendframes`).
    pub fn take(&mut self) -> FrameGen {
        FrameGen {
            batches: std::mem::take(&mut self.batches),
        }
    }
}

/// What consuming a `sendframes` produced: the frames, and the exception
/// Mercurial raises part-way (after yielding `frames`), if any.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Consumed {
    pub frames: Vec<Frame>,
    pub crash: Option<ServerCrash>,
}

/// A reactor's pending output: generators not yet consumed, and (in
/// half-duplex mode) those held back until input ends. Shared by every
/// revision's reactor; `T` is what a generator produces from.
pub(crate) struct Output<T> {
    defer: bool,
    next: u32,
    pending: Vec<(u32, T)>,
    buffered: Vec<u32>,
}

impl<T> Output<T> {
    pub fn new(opts: ReactorOptions) -> Self {
        Output {
            defer: opts.defer_output,
            next: 0,
            pending: Vec::new(),
            buffered: Vec::new(),
        }
    }

    /// A response is ready: `sendframes` now, or `noop` and held back
    /// until input ends (deferred output).
    pub fn send(&mut self, t: T) -> Action {
        let id = self.next;
        self.next += 1;
        self.pending.push((id, t));
        if self.defer {
            self.buffered.push(id);
            Action::Noop
        } else {
            Action::SendFrames(FrameGen { batches: vec![id] })
        }
    }

    /// A response that goes out at once even in half-duplex mode (the 2018
    /// snapshots' `onapplicationerror`).
    pub fn send_now(&mut self, t: T) -> Action {
        let id = self.next;
        self.next += 1;
        self.pending.push((id, t));
        Action::SendFrames(FrameGen { batches: vec![id] })
    }

    /// `oninputeof`: everything held back, as one generator.
    pub fn on_input_eof(&mut self) -> Action {
        if !self.defer || self.buffered.is_empty() {
            return Action::Noop;
        }
        Action::SendFrames(FrameGen {
            batches: std::mem::take(&mut self.buffered),
        })
    }

    /// The responses behind a generator, in order.
    pub fn take(&mut self, gen: FrameGen) -> Vec<T> {
        let mut out = Vec::with_capacity(gen.batches.len());
        for id in gen.batches {
            if let Some(pos) = self.pending.iter().position(|(i, _)| *i == id) {
                out.push(self.pending.remove(pos).1);
            }
        }
        out
    }
}

/// `createerrorframe` asserts the message fits in one frame.
pub(crate) fn check_error_fits(message: &[u8]) -> Result<(), ServerCrash> {
    if message.len() > crate::wire::frame::DEFAULT_MAX_FRAME_SIZE {
        return Err(ServerCrash::new(
            "AssertionError",
            "createerrorframe asserts the message fits in one frame (32768 bytes)",
        ));
    }
    Ok(())
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
            Action::WantFrame { state } => Value::dict([("state", Value::bytes(state.name()))]),
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

/// A Mercurial server raises here; over HTTP it answers 500. Or, when
/// `bound`, hgframe stops where Mercurial would go on building a value
/// past [`ReactorOptions::max_value`] (hgframe's `serve` answers 500).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {exception} ({why})", if *.bound { "hgframe stops at its memory bound here" } else { "a Mercurial server answers HTTP 500 here" })]
pub struct ServerCrash {
    /// `ExceptionType: message` as Python would log it (for a bound, what
    /// was bounded).
    pub exception: String,
    /// Why, in our words.
    pub why: String,
    /// Not Mercurial's behaviour: hgframe's memory bound ([`over_limit`]).
    pub bound: bool,
}

impl ServerCrash {
    pub fn new(exception: impl Into<String>, why: impl Into<String>) -> Self {
        ServerCrash {
            exception: exception.into(),
            why: why.into(),
            bound: false,
        }
    }
}

/// A response the caller (playing the server's command layer) provides.
#[derive(Debug, Clone, PartialEq)]
pub enum Response {
    /// Raw bytes: `onbytesresponseready` (0001, 0002); for 0005 bytes the
    /// server already CBOR-encoded (`oncommandresponseready`); for 0006 one
    /// CBOR bytestring object.
    Bytes(Vec<u8>),
    /// 0005 `oncommandresponsereadygen`: the chunks a response generator
    /// yields.
    Chunks(Vec<Vec<u8>>),
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

impl Response {
    /// A command failure the way the revision's server reports one: a
    /// command error where it has them (0006), else an application error.
    pub fn command_error(proto: Proto, message: Vec<u8>) -> Response {
        match proto.table().reactor {
            ReactorKind::V0005 | ReactorKind::V0006 => Response::CommandError {
                message,
                args: None,
            },
            ReactorKind::V0001 | ReactorKind::V0002 => Response::Error(message),
        }
    }
}

/// The common interface of the reactors.
pub trait Reactor {
    fn proto(&self) -> Proto;
    /// `onframerecv`.
    fn on_frame(&mut self, frame: &Frame) -> Result<Action, ServerCrash>;
    /// `oninputeof`.
    fn on_input_eof(&mut self) -> Result<Action, ServerCrash>;
    /// A command's response is ready (for `request_id`; ignored by 0001).
    fn on_response(&mut self, request_id: u16, response: Response) -> Result<Action, ServerCrash>;
    /// Consume the frame generator of a `sendframes` action (Mercurial:
    /// iterate `framegen`).
    fn consume(&mut self, frames: FrameGen) -> Consumed;
    /// Current state (as in `wantframe` meta).
    fn state(&self) -> State;
    /// `makeoutputstream()` before a command runs, as the HTTP server calls
    /// it: the id of the new output stream, `None` for revisions whose
    /// responses have no output streams, or what Mercurial raises there (a
    /// `contentencodings` that is not a container).
    fn make_output_stream(&mut self) -> Result<Option<u8>, ServerCrash>;
}

/// Options for building a reactor.
#[derive(Debug, Clone, Copy)]
pub struct ReactorOptions {
    /// Buffer responses until input EOF (half-duplex, as the HTTP server).
    pub defer_output: bool,
    /// The most memory a decoded request value (a command request, the
    /// protocol settings) may take, estimated as the CBOR decoder counts it
    /// ([`crate::python::cbor::ITEM_COST`] per item plus its bytes).
    /// Mercurial has no bound: past it, where Mercurial would build the
    /// value (an integer chunk `n` of an indefinite byte string is its
    /// `bytes(n)`, `n` zero bytes), hgframe reports [`over_limit`] instead.
    pub max_value: u64,
}

/// The default [`ReactorOptions::max_value`].
pub const DEFAULT_MAX_VALUE: u64 = 64 * 1024 * 1024;

impl Default for ReactorOptions {
    fn default() -> Self {
        ReactorOptions {
            defer_output: false,
            max_value: DEFAULT_MAX_VALUE,
        }
    }
}

/// What hgframe reports where Mercurial would build a value larger than
/// [`ReactorOptions::max_value`].
pub fn over_limit(what: &str, limit: u64, detail: &str) -> ServerCrash {
    ServerCrash {
        exception: format!("{what} would decode to more than {limit} bytes"),
        why: format!(
            "Mercurial has no bound and would build it in memory ({detail}; an integer chunk n of an indefinite byte string is bytes(n), n zero bytes); hgframe stops at --max-value, which raises it"
        ),
        bound: true,
    }
}

/// A reactor for a revision.
pub fn new_reactor(proto: Proto, opts: ReactorOptions) -> Box<dyn Reactor + Send> {
    match proto.table().reactor {
        ReactorKind::V0001 => Box::new(v0001::Reactor0001::new(opts)),
        ReactorKind::V0002 => Box::new(v0002::Reactor0002::new(opts)),
        ReactorKind::V0005 => Box::new(v0005::Reactor0005::new(opts)),
        ReactorKind::V0006 => Box::new(v0006::Reactor0006::for_proto(proto, opts)),
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
