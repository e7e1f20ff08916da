//! Running frames through a reactor the way a server endpoint does.
//!
//! [`Session`] feeds decoded frames to a reactor one at a time and reports
//! each [`Step`] (the frame, the action, frames produced) to a sink as it
//! happens, so any size of input streams through. It can also play the
//! command layer: canned responses for dispatched commands go through the
//! reactor's response path ([`Responder`]).
//!
//! Sans-IO apart from reading the files `@FILE` canned responses name: no
//! sockets, no terminal, no printing.

use crate::python::escape::escape_decode;
use crate::python::value::Value;
use crate::reactor::{
    new_reactor, Action, Consumed, Reactor, ReactorOptions, Response, ServerCrash,
};
use crate::wire::frame::{DecodeError, Frame, Located};
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

impl Responder {
    /// Parse `KEY=RESPONSE` specs: KEY a request id or a command name;
    /// RESPONSE escaped text, `@FILE`, `cbor:<literal>` (revisions with CBOR
    /// payloads: the objects of a list literal) or `error:TEXT`.
    pub fn parse(proto: Proto, specs: &[String]) -> Result<Responder, RespondError> {
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
                Response::Bytes(
                    std::fs::read(path).map_err(|e| bad(format!("cannot read {path}: {e}")))?,
                )
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
                let v = crate::python::literal::parse_literal(lit)
                    .map_err(|e| bad(format!("bad literal at {}: {}", e.pos, e.message)))?;
                if let Err(e) = crate::python::cbor::encode(&v) {
                    return Err(bad(e.to_string()));
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

/// Drives a reactor over a sequence of frames.
pub struct Session {
    pub reactor: Box<dyn Reactor + Send>,
    pub responder: Responder,
}

impl Session {
    pub fn new(proto: Proto, opts: ReactorOptions, responder: Responder) -> Self {
        Session {
            reactor: new_reactor(proto, opts),
            responder,
        }
    }

    /// Produce the frames of a `sendframes` outcome at once (as an HTTP
    /// server iterates the generator), leaving the spent action behind.
    fn consume(&mut self, outcome: &mut Result<Action, ServerCrash>) -> Option<Consumed> {
        match outcome {
            Ok(Action::SendFrames(g)) => Some(self.reactor.consume(g.take())),
            _ => None,
        }
    }

    /// Feed one frame; calls `sink` for the frame step and any response step.
    pub fn frame(&mut self, frame: Located<Frame>, sink: &mut dyn FnMut(Step)) {
        let mut outcome = self.reactor.on_frame(&frame.frame);
        let sent = self.consume(&mut outcome);
        let respond = match &outcome {
            Ok(Action::RunCommand(r)) => self
                .responder
                .find(r.request_id, &r.command)
                .map(|resp| (r.request_id.unwrap_or(0), resp)),
            _ => None,
        };
        sink(Step::Frame {
            frame,
            outcome,
            sent,
        });
        if let Some((request_id, resp)) = respond {
            let mut outcome = self.reactor.on_response(request_id, resp);
            let sent = self.consume(&mut outcome);
            sink(Step::Response {
                request_id,
                outcome,
                sent,
            });
        }
    }

    /// Signal end of input.
    pub fn eof(&mut self, sink: &mut dyn FnMut(Step)) {
        let mut outcome = self.reactor.on_input_eof();
        let sent = self.consume(&mut outcome);
        sink(Step::Eof { outcome, sent });
    }

    /// Run a whole input: frames (or a decode error), then EOF.
    pub fn run<I>(&mut self, frames: I, sink: &mut dyn FnMut(Step))
    where
        I: IntoIterator<Item = Result<Located<Frame>, DecodeError>>,
    {
        for f in frames {
            match f {
                Ok(f) => self.frame(f, sink),
                Err(e) => {
                    sink(Step::Undecodable(e));
                    return;
                }
            }
        }
        self.eof(sink);
    }
}
