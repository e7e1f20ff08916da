//! Command URLs, sans-IO: `_processhttpv2request` and `_httpv2runcommand`
//! on the one driver ([`Session`]) in half-duplex mode, canned responses
//! chosen after Mercurial's URL and permission checks.

use super::http::StatusCode;

use super::reply::Reply;
use crate::python::value::Value;
use crate::reactor::{Action, Consumed, ReactorOptions, Response, RunCommand, ServerCrash};
use crate::session::{Responder, Session, Step};
use crate::wire::proto::{Permission, Proto};

// ---------------------------------------------------------------------------
// Commands: `_processhttpv2request` and `_httpv2runcommand`

/// What `_httpv2runcommand` decided.
pub(super) enum Ran {
    /// The response is complete (`return True`).
    Done(Reply),
    /// Output buffered; keep reading frames (`return False`).
    Continue,
}

pub(super) fn process_command(
    proto: Proto,
    responder: &Responder,
    permission: Permission,
    url_command: &[u8],
    body: Vec<u8>,
    max_value: u64,
    gone: &dyn Fn() -> bool,
) -> Reply {
    // Canned responses are chosen here (after the URL checks), not by the
    // session's own responder.
    let mut session = Session::new(
        proto,
        ReactorOptions {
            defer_output: true,
            max_value,
        },
        Responder::default(),
    );
    session.push_owned(body);
    session.finish_input();
    let mut seen_command = false;
    let mut stream_made = false;
    let mut status_set = false;
    while let Some(step) = session.poll() {
        if gone() {
            return Reply::internal_error(super::reply::GONE);
        }
        let action = match step {
            Step::Undecodable(e) => {
                return Reply::internal_error(format!(
                    "Mercurial cannot read the request body: {e}"
                ))
            }
            Step::Frame { outcome, .. } => match outcome {
                Ok(a) => a,
                Err(c) => return Reply::internal_error(crash_note(&c)),
            },
            Step::Eof { outcome, sent } => return end_of_body(proto, outcome, sent, status_set),
            Step::Response { .. } => continue,
        };
        match action {
            Action::WantFrame { .. } => continue,
            Action::RunCommand(rc) => {
                // Called once, before the first command runs.
                if !stream_made {
                    if let Err(c) = session.make_output_stream() {
                        return Reply::internal_error(crash_note(&c));
                    }
                    stream_made = true;
                }
                match run_command(
                    proto,
                    responder,
                    &mut session,
                    permission,
                    url_command,
                    &rc,
                    seen_command,
                ) {
                    Ran::Done(r) => return r,
                    Ran::Continue => {
                        seen_command = true;
                        status_set = true;
                    }
                }
            }
            Action::Error { message } => {
                let mut b = message;
                b.push(b'\n');
                return Reply::text(StatusCode::OK, b).with_note("reactor error");
            }
            other => {
                return Reply::internal_error(format!(
                    "ProgrammingError: unhandled action from frame processor: {}",
                    other.name()
                ))
            }
        }
    }
    Reply::internal_error("hgframe bug: the session ended without reporting the end of input")
}

/// The end of the request body: the deferred responses go out.
pub(super) fn end_of_body(
    proto: Proto,
    outcome: Result<Action, ServerCrash>,
    sent: Option<Consumed>,
    status_set: bool,
) -> Reply {
    match (outcome, sent) {
        (Err(c), _) => Reply::internal_error(crash_note(&c)),
        (Ok(Action::SendFrames(_)), Some(consumed)) => {
            let mut out = Vec::new();
            for f in &consumed.frames {
                if let Err(e) = f.encode_into(proto, &mut out) {
                    return Reply::internal_error(format!(
                        "hgframe bug: cannot encode a response frame: {e}"
                    ));
                }
            }
            match consumed.crash {
                None => Reply::frames(proto, out),
                // The generator raised before yielding: no status line yet.
                Some(c) if consumed.frames.is_empty() => Reply::internal_error(crash_note(&c)),
                // Status line and frames already out: http.server writes
                // its error text into the chunked body.
                Some(c) => {
                    out.extend_from_slice(b"Internal Server Error");
                    Reply::frames(proto, out).with_note(format!(
                        "the response generator raised after {} frame(s): {}",
                        consumed.frames.len(),
                        crash_note(&c)
                    ))
                }
            }
        }
        (Ok(Action::Noop), _) => Reply::internal_error(if status_set {
            "ProgrammingError: response body not defined"
        } else {
            "ProgrammingError: status line not defined (no command was dispatched before the end of the body)"
        }),
        (Ok(other), _) => Reply::internal_error(format!(
            "ProgrammingError: unhandled action from frame processor: {}",
            other.name()
        )),
    }
}

/// For the log: what Mercurial raises and why.
pub(super) fn crash_note(c: &ServerCrash) -> String {
    format!("Mercurial raises {} ({})", c.exception, c.why)
}

pub(super) fn command_display(v: &Value) -> String {
    match v.as_bytes() {
        Some(b) => String::from_utf8_lossy(b).into_owned(),
        None => format!("<{}>", v.type_name()),
    }
}

pub(super) fn run_command(
    proto: Proto,
    responder: &Responder,
    session: &mut Session,
    permission: Permission,
    url_command: &[u8],
    rc: &RunCommand,
    subsequent: bool,
) -> Ran {
    let name = &rc.command;
    if url_command == b"multirequest" {
        // COMMANDS.commandavailable(name): a dict lookup.
        if let Err(e) = name.check_hashable() {
            return Ran::Done(Reply::internal_error(format!(
                "TypeError: {e} (the command name in the frame is not hashable)"
            )));
        }
        let def = name.as_bytes().and_then(|b| proto.command(b));
        let Some(def) = def else {
            let Some(b) = name.as_bytes() else {
                return Ran::Done(Reply::internal_error(format!(
                    "TypeError: %b requires a bytes-like object, or an object that implements __bytes__, not '{}' (formatting the command-not-available message)",
                    name.type_name()
                )));
            };
            let mut body = b"wire protocol command not available: ".to_vec();
            body.extend_from_slice(b);
            return Ran::Done(Reply::text(StatusCode::OK, body));
        };
        if permission == Permission::Pull && def.permission != Permission::Pull {
            let mut body = b"insufficient permissions to execute command: ".to_vec();
            body.extend_from_slice(def.name.as_bytes());
            return Ran::Done(Reply::text(StatusCode::FORBIDDEN, body));
        }
    } else {
        if subsequent {
            return Ran::Done(Reply::text(
                StatusCode::OK,
                "multiple commands cannot be issued to this URL",
            ));
        }
        if name.as_bytes() != Some(url_command) {
            return Ran::Done(Reply::text(
                StatusCode::OK,
                "command in frame must match command in URL",
            ));
        }
    }
    // `capabilities` answers what the handshake describes unless a canned
    // response says otherwise.
    let default = (name.as_bytes() == Some(b"capabilities"))
        .then(|| super::handshake::descriptor(proto))
        .flatten()
        .map(|d| Response::Objects(vec![d]));
    let response = responder.find(rc.request_id, &rc.command).or(default).unwrap_or_else(|| {
        let cmd = command_display(name);
        let msg = format!(
            "hgframe serve has no response for command {cmd}; start it with --respond {cmd}=RESPONSE"
        )
        .into_bytes();
        Response::command_error(proto, msg)
    });
    let Step::Response { outcome, sent, .. } =
        session.respond(rc.request_id.unwrap_or(0), response)
    else {
        return Ran::Done(Reply::internal_error(
            "hgframe bug: a response did not give a response step",
        ));
    };
    match outcome {
        Err(c) => Ran::Done(Reply::internal_error(crash_note(&c))),
        Ok(Action::Noop) => Ran::Continue,
        Ok(Action::SendFrames(_)) => {
            let consumed = sent.unwrap_or_default();
            let mut out = Vec::new();
            for f in &consumed.frames {
                if f.encode_into(proto, &mut out).is_err() {
                    return Ran::Done(Reply::internal_error(
                        "hgframe bug: cannot encode a response frame",
                    ));
                }
            }
            Ran::Done(Reply::frames(proto, out))
        }
        Ok(other) => Ran::Done(Reply::internal_error(format!(
            "ProgrammingError: unhandled event from reactor: {}",
            other.name()
        ))),
    }
}
