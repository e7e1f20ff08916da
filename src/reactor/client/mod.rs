//! Sans-IO ports of Mercurial's *client* reactors, and response bodies
//! decoded with them.
//!
//! The client half of an exchange, as the server reactors in
//! [`crate::reactor`] are the server half: a state machine fed with plain
//! values that answers with values — no sockets, no clock, no printing.
//! What it owns:
//!
//! * [`ClientReactor`]: `clientreactor` of `wireprotoframing.py`, one
//!   implementation per revision that has one ([`v0006`]: Mercurial 6.0;
//!   [`v0005`]: 4.7.2, with what its `wireprotov2peer` raises on top).
//!   Commands go in ([`ClientReactor::call_command`],
//!   [`ClientReactor::flush_commands`]) and come out as frames pulled from
//!   a [`SendGen`] ([`ClientReactor::next_frame`]); received frames go in
//!   ([`ClientReactor::on_frame`]) and a [`ClientAction`] comes out, as
//!   `(action, meta)` does in Mercurial. Where Mercurial raises, the call
//!   returns [`Fault::Raises`] with what it raises; the reactor stays
//!   usable, in whatever state Mercurial's would be left in.
//! * [`decoders`]: the stream decoders (`identity`, `zlib`, `zstd-8mb`
//!   with its 8 MiB window).
//! * [`response`]: a whole response body decoded as a client does: frames
//!   through the reactor, each request's data made into CBOR objects as
//!   the revision's peer does (the table's `response_objects`), objects out
//!   one at a time.
//!
//! **Memory is bounded** where Mercurial's is not, because bodies come
//! from servers that may be hostile: [`Limits::max_value`] (default
//! [`Limits::DEFAULT_MAX_VALUE`], 64 MiB) bounds each of (a) the decoded
//! payload of one frame (a zstd or zlib bomb stops there), (b) the data a
//! request's CBOR decoder holds for values not yet handed out (a string
//! declaring 2^63 bytes is refused when its header arrives; a map with
//! endless entries when its items pass the bound), and (c) a stream
//! settings decoder; for 0005 also (d) a request's data kept until its
//! `eos` and the cbor2 value read from it, shareable values included, and
//! (e) an error-response payload. Going over is [`Fault::OverLimit`] (or
//! [`OverLimit`] from the response decoder), never an
//! allocation past the bound. Decoding one response needs at most about
//! four times the bound (the decoded frame, the value being built, the
//! copy handed out, growth) plus one raw frame (at most 16 MiB) and the
//! zstd window (8 MiB); `scripts/measure-hostile.sh` measures it and
//! `tests/bounded_memory.rs` holds it.
//!
//! Must not: do I/O, print, or know the command line. Revisions are
//! chosen by [`ReactorKind`]: a new revision's client is a new file and
//! one arm in [`new_client_reactor`].

pub mod decoders;
mod outbox;
pub mod response;
pub mod v0005;
pub mod v0006;

use crate::python::value::Value;
use crate::wire::frame::Frame;
use crate::wire::proto::{Proto, ReactorKind};

/// A command request's state, as `commandrequest.state` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestState {
    /// Issued, its frames not produced yet.
    Pending,
    /// Its frames are being produced.
    Sending,
    /// All its frames were produced.
    Sent,
    /// A response frame arrived.
    Receiving,
    /// The response's end-of-stream frame arrived.
    Received,
    /// An error-response frame arrived.
    Errored,
}

impl RequestState {
    /// The name Mercurial gives it.
    pub fn name(self) -> &'static str {
        match self {
            RequestState::Pending => "pending",
            RequestState::Sending => "sending",
            RequestState::Sent => "sent",
            RequestState::Receiving => "receiving",
            RequestState::Received => "received",
            RequestState::Errored => "errored",
        }
    }
}

impl std::fmt::Display for RequestState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Memory bounds for decoding responses (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes: the most one frame may decode to, and the most one
    /// request's (or stream settings') CBOR decoder may hold.
    pub max_value: u64,
}

impl Limits {
    /// 64 MiB: far above anything a Mercurial server sends for an
    /// ordinary repository (it splits file data into values per revision),
    /// low enough that a bomb cannot take a machine down.
    pub const DEFAULT_MAX_VALUE: u64 = 64 << 20;
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_value: Limits::DEFAULT_MAX_VALUE,
        }
    }
}

/// How the client reactor is built (`clientreactor.__init__`).
#[derive(Debug, Clone, PartialEq)]
pub struct ClientOptions {
    /// `hasmultiplesend`: the transport can send more than once.
    pub has_multiple_send: bool,
    /// `buffersends`: commands wait for `flush_commands`.
    pub buffer_sends: bool,
    /// `clientcontentencoders`: announced in a `sender-protocol-settings`
    /// frame before the first command when non-empty; `None` announces
    /// nothing. 4.6/4.7's reactor has no such parameter and ignores it.
    pub content_encoders: Option<Vec<Vec<u8>>>,
    pub limits: Limits,
}

impl Default for ClientOptions {
    /// Mercurial's defaults: one send, buffered, no encoders announced.
    fn default() -> Self {
        ClientOptions {
            has_multiple_send: false,
            buffer_sends: true,
            content_encoders: None,
            limits: Limits::default(),
        }
    }
}

/// A command to issue (`callcommand(name, args, datafh, redirect)`).
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    pub name: Vec<u8>,
    /// The arguments dict (an empty dict sends no `args` key, as in Python).
    pub args: Value,
    /// Command data (`datafh`), sent in `command-data` frames.
    pub data: Option<Vec<u8>>,
    /// The redirect dict, sent when truthy.
    pub redirect: Option<Value>,
}

impl Command {
    pub fn new(name: impl Into<Vec<u8>>) -> Self {
        Command {
            name: name.into(),
            args: Value::Dict(Vec::new()),
            data: None,
            redirect: None,
        }
    }
}

/// What the client reactor tells its caller to do.
#[derive(Debug, PartialEq)]
pub enum ClientAction {
    /// Nothing.
    Noop,
    /// Send frames: pull them with [`ClientReactor::next_frame`].
    SendFrames(SendGen),
    /// The reactor refuses the frame (`error` with only a `message`).
    Error { message: Vec<u8> },
    /// An `error-response` frame: the server reports a failure of the
    /// request (`error` with `request`, `type` and `message`).
    ServerError {
        request_id: u16,
        kind: Value,
        message: Value,
    },
    /// Data of a command response (`responsedata`). `expect_more` and
    /// `eos` are the flag tests Mercurial returns (0 or 1; 0 or 2), not
    /// booleans.
    ResponseData {
        request_id: u16,
        expect_more: u8,
        eos: u8,
        data: Vec<u8>,
    },
}

impl ClientAction {
    /// The action's name as Mercurial spells it.
    pub fn name(&self) -> &'static str {
        match self {
            ClientAction::Noop => "noop",
            ClientAction::SendFrames(_) => "sendframes",
            ClientAction::Error { .. } | ClientAction::ServerError { .. } => "error",
            ClientAction::ResponseData { .. } => "responsedata",
        }
    }
}

/// A frame generator (`meta['framegen']`): frames are produced when pulled
/// ([`ClientReactor::next_frame`]), and request states change as they
/// are, exactly as Mercurial's lazy generators do. It cannot be copied.
#[derive(Debug, PartialEq)]
#[must_use = "a sendframes generator produces nothing until its frames are pulled (ClientReactor::next_frame)"]
pub struct SendGen {
    pub(crate) source: GenSource,
    pub(crate) current: Option<Emitting>,
    pub(crate) done: bool,
}

/// Where a generator's requests come from.
#[derive(Debug, PartialEq)]
pub(crate) enum GenSource {
    /// `callcommand` without buffering: this one request.
    One(Option<u32>),
    /// `flushcommands`: the pending queue, read as the frames are pulled
    /// (a command issued before the generator is drained joins it).
    Pending,
}

/// The request whose frames are being produced.
#[derive(Debug, PartialEq)]
pub(crate) struct Emitting {
    pub request_id: u32,
    /// (type, flags, payload) of the frames still to produce.
    pub parts: std::collections::VecDeque<(u8, u8, Vec<u8>)>,
}

impl SendGen {
    pub(crate) fn new(source: GenSource) -> Self {
        SendGen {
            source,
            current: None,
            done: false,
        }
    }
}

/// Mercurial raises here. `exception` is `Type: message` as Python
/// reports it (`ProgrammingError: unhandled frame type: 6`,
/// `zlib.error: Error -3 while decompressing data: incorrect header check`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a Mercurial client raises here: {exception} ({why})")]
pub struct ClientCrash {
    pub exception: String,
    /// Why, in our words.
    pub why: String,
}

impl ClientCrash {
    pub fn new(exception: impl Into<String>, why: impl Into<String>) -> Self {
        ClientCrash {
            exception: exception.into(),
            why: why.into(),
        }
    }
}

/// hgframe's memory bound refused something (Mercurial has no bound).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}: {detail}")]
pub struct OverLimit {
    /// What was being decoded.
    pub what: String,
    /// How much it needed and the bound.
    pub detail: String,
    /// The bound, in bytes.
    pub limit: u64,
}

/// Why a reactor call produced no action.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Fault {
    /// Mercurial raises here.
    #[error(transparent)]
    Raises(#[from] ClientCrash),
    /// Over hgframe's memory bound.
    #[error(transparent)]
    OverLimit(#[from] OverLimit),
}

/// The common interface of the client reactors.
pub trait ClientReactor {
    fn proto(&self) -> Proto;
    /// `callcommand`: the new request's id and the action.
    fn call_command(&mut self, cmd: Command) -> Result<(u16, ClientAction), Fault>;
    /// `flushcommands`.
    fn flush_commands(&mut self) -> Result<ClientAction, Fault>;
    /// Pull the next frame of a `sendframes` generator (`None` when it is
    /// exhausted); what Mercurial raises while producing it is an error.
    fn next_frame(&mut self, gen: &mut SendGen) -> Option<Result<Frame, Fault>>;
    /// `onframerecv`.
    fn on_frame(&mut self, frame: &Frame) -> Result<ClientAction, Fault>;
    /// Every request issued so far and its state, by id.
    fn requests(&self) -> Vec<(u16, RequestState)>;
    /// The content encoding a stream's frames are decoded with now (the
    /// stream-settings name; `None` before any, which means identity).
    fn stream_encoding(&self, stream_id: u8) -> Option<&[u8]>;
    /// What the revision's peer (`wireprotov2peer.clienthandler`) raises
    /// on top of the action the reactor returned for a frame of
    /// `request_id` (a Mercurial client stops reading there); `None` when
    /// it goes on. Called right after [`ClientReactor::on_frame`].
    fn peer_raises(&self, request_id: u16, action: &ClientAction) -> Option<ClientCrash> {
        let _ = (request_id, action);
        None
    }
}

/// Why there is no client reactor for a revision.
#[derive(Debug, Clone, thiserror::Error)]
#[error("hgframe has no client reactor for protocol {0}: only the released revisions' clients ({released}) are ported", released = released())]
pub struct NoClientReactor(pub Proto);

fn released() -> String {
    Proto::all()
        .filter(|p| client_kind(*p).is_some())
        .map(|p| p.name().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn client_kind(proto: Proto) -> Option<ReactorKind> {
    match proto.table().reactor {
        ReactorKind::V0005 => Some(ReactorKind::V0005),
        ReactorKind::V0006 => Some(ReactorKind::V0006),
        ReactorKind::V0001 | ReactorKind::V0002 => None,
    }
}

/// Whether hgframe has a client reactor for the revision.
pub fn has_client_reactor(proto: Proto) -> bool {
    client_kind(proto).is_some()
}

/// The client reactor of a revision.
pub fn new_client_reactor(
    proto: Proto,
    opts: ClientOptions,
) -> Result<Box<dyn ClientReactor + Send>, NoClientReactor> {
    match client_kind(proto) {
        Some(ReactorKind::V0005) => Ok(Box::new(v0005::ClientReactor0005::new(opts))),
        Some(ReactorKind::V0006) => Ok(Box::new(v0006::ClientReactor0006::new(opts))),
        _ => Err(NoClientReactor(proto)),
    }
}
