//! Reactor steps as JSON events, one per line.

use serde_json::{json, Value as J};

use super::frame::{frame_json, frame_warnings};
use super::pretty::action_json;
use crate::reactor::{Action, Consumed, ServerCrash};
use crate::session::Step;
use crate::wire::frame::{Frame, Located};
use crate::wire::proto::Proto;

fn outcome_json(o: Result<&Action, &ServerCrash>) -> (J, J) {
    match o {
        Ok(a) => (action_json(a), J::Null),
        Err(c) => (J::Null, crash_json(c)),
    }
}

fn sent_json(proto: Proto, c: Option<&Consumed>) -> J {
    match c {
        None => J::Null,
        Some(c) => {
            let mut v = json!({
                "frames": c.frames.iter().map(|f| frame_json(proto, 0, f, &[])).collect::<Vec<_>>()
            });
            if let Some(cr) = &c.crash {
                v["crash"] = crash_json(cr);
            }
            v
        }
    }
}

/// The JSON event of a received frame (schema at [`step_json`]).
pub fn frame_step_json(
    proto: Proto,
    frame: &Located<Frame>,
    outcome: Result<&Action, &ServerCrash>,
    sent: Option<&Consumed>,
) -> J {
    let (a, c) = outcome_json(outcome);
    json!({"event": "frame", "offset": frame.offset,
           "frame": frame_json(proto, frame.offset, &frame.frame, &frame_warnings(frame)),
           "action": a, "crash": c, "sent": sent_json(proto, sent)})
}

/// The JSON event of the end of input (schema at [`step_json`]).
pub fn eof_step_json(
    proto: Proto,
    outcome: Result<&Action, &ServerCrash>,
    sent: Option<&Consumed>,
) -> J {
    let (a, c) = outcome_json(outcome);
    json!({"event": "eof", "action": a, "crash": c, "sent": sent_json(proto, sent)})
}

/// JSON events, one per line. Schema (version 1):
/// `{"event":"frame","offset","frame":<frame>,"action":<action>|null,"crash":<crash>|null,"sent":[<frame>]|null}`,
/// `{"event":"response","request_id",…same action/crash/sent…}`,
/// `{"event":"undecodable","error"}`, `{"event":"eof",…action/crash/sent…}`,
/// where `<action>` is `{"action": name, "meta": <value>}` and `<crash>` is
/// `{"exception", "why"}`.
pub fn step_json(proto: Proto, step: &Step) -> J {
    match step {
        Step::Frame {
            frame,
            outcome,
            sent,
        } => frame_step_json(proto, frame, outcome.as_ref(), sent.as_ref()),
        Step::Response {
            request_id,
            outcome,
            sent,
        } => {
            let (a, c) = outcome_json(outcome.as_ref());
            json!({"event": "response", "request_id": request_id, "action": a, "crash": c, "sent": sent_json(proto, sent.as_ref())})
        }
        Step::Undecodable(e) => json!({"event": "undecodable", "error": e.to_string()}),
        Step::Eof { outcome, sent } => eof_step_json(proto, outcome.as_ref(), sent.as_ref()),
    }
}

/// A crash as JSON; `"bound": true` when it is hgframe's memory bound, not
/// Mercurial raising.
fn crash_json(c: &ServerCrash) -> J {
    let mut v = json!({"exception": c.exception, "why": c.why});
    if c.bound {
        v["bound"] = J::Bool(true);
    }
    v
}
