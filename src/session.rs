//! Running frames through a reactor the way a server endpoint does.
//!
//! [`Session`] feeds decoded frames to a reactor one at a time and reports
//! each [`Step`] (the frame, the action, frames produced) to a sink as it
//! happens, so any size of input streams through. It can also play the
//! command layer: canned responses for dispatched commands go through the
//! reactor's response path ([`Responder`]).
//!
//! Sans-IO apart from reading the files `@FILE` canned responses name
//! ([`FileAccess`]: regular files, bounded, beside a transcript unless
//! allowed): no sockets, no terminal, no printing.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

use crate::python::escape::escape_decode;
use crate::python::value::Value;
use crate::reactor::{
    new_reactor, Action, Consumed, Reactor, ReactorOptions, Response, ServerCrash, State,
};
use crate::wire::frame::{DecodeError, EncodeError, Frame, FrameDecoder, LengthMode, Located};
use crate::wire::proto::{PayloadSyntax, Proto};

/// What happened at one step.
#[derive(Debug)]
pub enum Step {
    /// A frame was received and handled.
    Frame {
        frame: Located<Frame>,
        outcome: Result<Action, ServerCrash>,
        /// Frames produced when the outcome was `sendframes` (consumed at once).
        sent: Option<Consumed>,
    },
    /// A canned response was handed to the reactor after a `runcommand`.
    Response {
        request_id: u16,
        outcome: Result<Action, ServerCrash>,
        sent: Option<Consumed>,
    },
    /// The input could not be decoded (a server raises while reading).
    Undecodable(DecodeError),
    /// End of input.
    Eof {
        outcome: Result<Action, ServerCrash>,
        sent: Option<Consumed>,
    },
}

/// Canned responses keyed by request id or command name.
#[derive(Debug, Clone, Default)]
pub struct Responder {
    pub by_request: Vec<(u16, Response)>,
    pub by_command: Vec<(Vec<u8>, Response)>,
}

/// A canned-response spec that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--respond '{spec}': {why}")]
pub struct RespondError {
    pub spec: String,
    pub why: String,
}

/// Which files a canned response may read (`@FILE`).
#[derive(Debug, Clone)]
pub struct FileAccess {
    /// Relative names resolve here (a transcript's directory); `None`: the
    /// current directory.
    pub dir: Option<PathBuf>,
    /// Only files under `dir`, by relative name (a transcript reads files
    /// beside it; it is data, not a program). Off for names the user gives
    /// on the command line and for `replay --allow-file-access`.
    pub confined: bool,
    /// The largest file read.
    pub max_bytes: u64,
}

/// The largest `@FILE` read by default.
pub const MAX_RESPONSE_FILE: u64 = 64 * 1024 * 1024;

impl Default for FileAccess {
    fn default() -> Self {
        FileAccess {
            dir: None,
            confined: false,
            max_bytes: MAX_RESPONSE_FILE,
        }
    }
}

const LIFT: &str = "replay --allow-file-access lifts this for a script you trust";

impl FileAccess {
    /// Files beside a transcript only.
    pub fn beside(dir: impl Into<PathBuf>) -> FileAccess {
        FileAccess {
            dir: Some(dir.into()),
            confined: true,
            ..FileAccess::default()
        }
    }

    /// Read `name` under these rules: a regular file of at most
    /// `max_bytes`; when confined, a relative path that stays in `dir`
    /// (symbolic links included).
    pub fn read(&self, name: &str) -> Result<Vec<u8>, String> {
        let p = Path::new(name);
        let path = match &self.dir {
            Some(dir) if p.is_relative() => dir.join(p),
            _ => p.to_path_buf(),
        };
        if self.confined {
            let dir = self.dir.as_deref().unwrap_or(Path::new("."));
            if p.is_absolute() {
                return Err(format!("{name} is an absolute path: a transcript reads only files beside it, by relative name ({LIFT})"));
            }
            if p.components()
                .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
            {
                return Err(format!("{name} leaves the transcript's directory: a transcript reads only files beside it ({LIFT})"));
            }
            match (path.canonicalize(), dir.canonicalize()) {
                (Ok(f), Ok(d)) if f.starts_with(&d) => {}
                (Ok(_), Ok(_)) => {
                    return Err(format!(
                        "{name} links out of the transcript's directory ({LIFT})"
                    ))
                }
                (Err(e), _) | (_, Err(e)) => {
                    return Err(format!("cannot read {}: {e}", path.display()))
                }
            }
        }
        let meta =
            std::fs::metadata(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        if !meta.is_file() {
            return Err(format!(
                "{name} is not a regular file (a device or pipe could be endless)"
            ));
        }
        if meta.len() > self.max_bytes {
            return Err(format!(
                "{name} has {} bytes, more than the {} a canned response reads",
                meta.len(),
                self.max_bytes
            ));
        }
        let f = std::fs::File::open(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let mut b = Vec::new();
        f.take(self.max_bytes + 1)
            .read_to_end(&mut b)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        if b.len() as u64 > self.max_bytes {
            return Err(format!(
                "{name} grew past {} bytes while it was read",
                self.max_bytes
            ));
        }
        Ok(b)
    }
}

impl Responder {
    /// Parse `KEY=RESPONSE` specs: KEY a request id or a command name;
    /// RESPONSE escaped text, `@FILE`, `cbor:<literal>` (revisions with CBOR
    /// payloads: the objects of a list literal) or `error:TEXT`. `@FILE`
    /// reads any regular file of at most [`MAX_RESPONSE_FILE`] bytes.
    pub fn parse(proto: Proto, specs: &[String]) -> Result<Responder, RespondError> {
        Responder::parse_with(proto, specs, &FileAccess::default())
    }

    /// [`Responder::parse`], reading `@FILE` under `files`' rules.
    pub fn parse_with(
        proto: Proto,
        specs: &[String],
        files: &FileAccess,
    ) -> Result<Responder, RespondError> {
        let mut r = Responder::default();
        for spec in specs {
            let bad = |why: String| RespondError {
                spec: spec.clone(),
                why,
            };
            let Some((key, val)) = spec.split_once('=') else {
                return Err(bad(
                    "expected KEY=RESPONSE (KEY a request id or a command name)".into(),
                ));
            };
            let resp = if let Some(path) = val.strip_prefix('@') {
                Response::Bytes(files.read(path).map_err(bad)?)
            } else if let Some(t) = val.strip_prefix("error:") {
                Response::Error(escape_decode(t.as_bytes()).map_err(|e| bad(e.to_string()))?)
            } else if let Some(lit) = val.strip_prefix("cbor:") {
                if proto.table().payload_syntax != PayloadSyntax::EscapedOrCbor {
                    let cbor: Vec<&str> = Proto::all()
                        .filter(|p| p.table().payload_syntax == PayloadSyntax::EscapedOrCbor)
                        .map(|p| p.name())
                        .collect();
                    return Err(bad(format!(
                        "protocol {proto} responses are raw bytes; cbor: needs {}",
                        cbor.join(" or ")
                    )));
                }
                // The literal is the server's Python's (Python 2 reads the
                // bytes, one char each).
                let text: String = match proto.py() {
                    crate::python::Py::Three => lit.to_string(),
                    crate::python::Py::Two => lit.bytes().map(|b| b as char).collect(),
                };
                let v = crate::python::literal::parse_literal_in(proto.py(), &text)
                    .map_err(|e| bad(format!("bad literal at {}: {}", e.pos, e.message)))?;
                if let Err(e) = proto.encode_cbor(&v) {
                    return Err(bad(e));
                }
                match v {
                    Value::List(items) => Response::Objects(items),
                    other => Response::Objects(vec![other]),
                }
            } else {
                Response::Bytes(escape_decode(val.as_bytes()).map_err(|e| bad(e.to_string()))?)
            };
            match key.parse::<u16>() {
                Ok(id) => r.by_request.push((id, resp)),
                Err(_) if !key.is_empty() => r.by_command.push((key.as_bytes().to_vec(), resp)),
                Err(_) => {
                    return Err(bad(
                        "empty KEY (expected a request id or a command name)".into()
                    ))
                }
            }
        }
        Ok(r)
    }

    pub fn is_empty(&self) -> bool {
        self.by_request.is_empty() && self.by_command.is_empty()
    }

    /// The canned response for a dispatched command: by request id first,
    /// then by command name.
    pub fn find(&self, request_id: Option<u16>, command: &Value) -> Option<Response> {
        if let Some(id) = request_id {
            if let Some((_, r)) = self.by_request.iter().find(|(i, _)| *i == id) {
                return Some(r.clone());
            }
        }
        let name = command.as_bytes()?;
        self.by_command
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, r)| r.clone())
    }
}

/// Where the input stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Input {
    /// More bytes may come.
    Open,
    /// No more bytes: once the buffered frames are handled, end of input.
    Finished,
    /// The end was reported (eof, or undecodable bytes): nothing follows.
    Done,
}

/// The one driver of a server reactor, sans-IO, for every use (the
/// debugreflect endpoint, `reflect`, `replay`, the REPL, `serve`): bytes
/// go in ([`push_bytes`](Session::push_bytes), read with the length
/// arithmetic of Mercurial's servers; or [`push_frame`](Session::push_frame)),
/// [`Step`]s come out of [`poll`](Session::poll) one at a time, each frame
/// handled as a server would when it arrives, `sendframes` generators
/// consumed at once. Between steps the caller may answer a dispatched
/// command ([`respond`](Session::respond)); the [`Responder`] does it with
/// canned responses.
pub struct Session {
    proto: Proto,
    reactor: Box<dyn Reactor + Send>,
    responder: Responder,
    decoder: FrameDecoder,
    input: Input,
    /// A response step owed after the frame step just returned.
    queued: Option<Step>,
}

impl Session {
    pub fn new(proto: Proto, opts: ReactorOptions, responder: Responder) -> Self {
        Session {
            proto,
            reactor: new_reactor(proto, opts),
            responder,
            decoder: FrameDecoder::new(proto, LengthMode::Mercurial),
            input: Input::Open,
            queued: None,
        }
    }

    pub fn proto(&self) -> Proto {
        self.proto
    }

    /// The reactor's current state.
    pub fn state(&self) -> State {
        self.reactor.state()
    }

    /// Replace the canned responses (for requests not yet dispatched).
    pub fn set_responder(&mut self, responder: Responder) {
        self.responder = responder;
    }

    /// More request bytes.
    pub fn push_bytes(&mut self, bytes: &[u8]) {
        if self.input == Input::Open {
            self.decoder.feed(bytes);
        }
    }

    /// [`push_bytes`](Session::push_bytes) without a copy when nothing is
    /// pending (a whole request body).
    pub fn push_owned(&mut self, bytes: Vec<u8>) {
        if self.input == Input::Open {
            self.decoder.feed_owned(bytes);
        }
    }

    /// A frame as a client sends it: its wire bytes.
    pub fn push_frame(&mut self, frame: &Frame) -> Result<(), EncodeError> {
        let mut b = Vec::with_capacity(frame.encoded_len(self.proto));
        frame.encode_into(self.proto, &mut b)?;
        self.push_bytes(&b);
        Ok(())
    }

    /// The request body is complete: after the frames already pushed,
    /// [`poll`](Session::poll) reports the end of input (or the partial
    /// frame a server cannot read).
    pub fn finish_input(&mut self) {
        if self.input == Input::Open {
            self.input = Input::Finished;
        }
    }

    /// Whether the end of input has been reported.
    pub fn is_done(&self) -> bool {
        self.input == Input::Done && self.queued.is_none()
    }

    /// The next step, or `None` until more input comes (or after the end).
    #[must_use = "a step reports what the reactor did; dropping it loses the action and the frames sent"]
    pub fn poll(&mut self) -> Option<Step> {
        // Checked before it is taken: `take` moves the whole (large, and
        // almost always empty) slot on every step.
        if self.queued.is_some() {
            return self.queued.take();
        }
        if self.input == Input::Done {
            return None;
        }
        if let Some(frame) = self.decoder.next_frame() {
            let mut outcome = self.reactor.on_frame(&frame.frame);
            let sent = self.consume(&mut outcome);
            if let Ok(Action::RunCommand(r)) = &outcome {
                if let Some(resp) = self.responder.find(r.request_id, &r.command) {
                    let request_id = r.request_id.unwrap_or(0);
                    self.queued = Some(self.respond(request_id, resp));
                }
            }
            return Some(Step::Frame {
                frame,
                outcome,
                sent,
            });
        }
        if self.input == Input::Open {
            return None;
        }
        self.input = Input::Done;
        if let Err(e) = self.decoder.finish() {
            return Some(Step::Undecodable(e));
        }
        let mut outcome = self.reactor.on_input_eof();
        let sent = self.consume(&mut outcome);
        Some(Step::Eof { outcome, sent })
    }

    /// Hand every step available now to `sink`.
    pub fn drain(&mut self, sink: &mut dyn FnMut(Step)) {
        while let Some(s) = self.poll() {
            sink(s);
        }
    }

    /// A dispatched command's response, through the reactor's response path.
    pub fn respond(&mut self, request_id: u16, response: Response) -> Step {
        let mut outcome = self.reactor.on_response(request_id, response);
        let sent = self.consume(&mut outcome);
        Step::Response {
            request_id,
            outcome,
            sent,
        }
    }

    /// `makeoutputstream()` (see [`Reactor::make_output_stream`]).
    pub fn make_output_stream(&mut self) -> Result<Option<u8>, ServerCrash> {
        self.reactor.make_output_stream()
    }

    /// Produce the frames of a `sendframes` outcome at once (as an HTTP
    /// server iterates the generator), leaving the spent action behind.
    fn consume(&mut self, outcome: &mut Result<Action, ServerCrash>) -> Option<Consumed> {
        match outcome {
            Ok(Action::SendFrames(g)) => Some(self.reactor.consume(g.take())),
            _ => None,
        }
    }
}
