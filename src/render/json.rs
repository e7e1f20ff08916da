//! Reactor steps as JSON events, one per line.

use serde_json::{json, Value as J};

use super::frame::{frame_json, frame_warnings, write_frame_json};
use super::pretty::action_json;
use super::value::{write_bytes_json_vec, write_value_json};
use crate::python::value::Value;
use crate::reactor::{Action, Consumed, RunCommand, ServerCrash};
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

/// A JSON string of one of our own names (actions, states): lowercase
/// ASCII and dashes, which JSON writes as they are, so no escaping walk.
fn plain_json_string(out: &mut Vec<u8>, name: &'static str) {
    debug_assert!(name.bytes().all(|c| c.is_ascii_lowercase() || c == b'-'));
    out.push(b'"');
    out.extend_from_slice(name.as_bytes());
    out.push(b'"');
}

/// `runcommand`'s meta ([`Action::meta`]) as `write_value_json` writes
/// it, from the fields without building the dict: its keys are distinct
/// UTF-8, written in serde's (sorted) order.
pub(crate) fn runcommand_meta_json(out: &mut Vec<u8>, r: &RunCommand) {
    out.extend_from_slice(b"{\"args\":");
    let _ = write_value_json(&mut *out, &r.args);
    out.extend_from_slice(b",\"command\":");
    match &r.command {
        Value::Bytes(b) => write_bytes_json_vec(out, b),
        other => {
            let _ = write_value_json(&mut *out, other);
        }
    }
    out.extend_from_slice(b",\"data\":");
    match &r.data {
        Some(d) => write_bytes_json_vec(out, d),
        None => out.extend_from_slice(b"null"),
    }
    if let Some(redirect) = &r.redirect {
        out.extend_from_slice(b",\"redirect\":");
        let _ = write_value_json(&mut *out, redirect);
    }
    if let Some(id) = r.request_id {
        out.extend_from_slice(b",\"requestid\":");
        super::ink::num(out, id);
    }
    out.push(b'}');
}

/// [`step_json`] serialized, appended to `out`: the same bytes as
/// `serde_json::to_vec(&step_json(proto, step))`, but the frames (most of
/// the text) written straight into the buffer by [`write_frame_json`]
/// instead of through a JSON tree (`reflect --json` writes 100 MB for 200 k
/// frames). The keys are in serde_json's order (sorted).
pub fn write_step_json(out: &mut Vec<u8>, proto: Proto, step: &Step) {
    let outcome = |out: &mut Vec<u8>, o: Result<&Action, &ServerCrash>| match o {
        Ok(a) => {
            // action_json's object, written as it is walked (the meta of
            // the common wantframe without building it).
            out.extend_from_slice(b"\"action\":{\"action\":");
            plain_json_string(out, a.name());
            out.extend_from_slice(b",\"meta\":");
            match a {
                Action::WantFrame { state } => {
                    out.extend_from_slice(b"{\"state\":");
                    plain_json_string(out, state.name());
                    out.push(b'}');
                }
                Action::RunCommand(r) => runcommand_meta_json(out, r),
                _ => {
                    let _ = write_value_json(&mut *out, &a.meta());
                }
            }
            out.extend_from_slice(b"},\"crash\":null");
        }
        Err(c) => {
            out.extend_from_slice(b"\"action\":null,\"crash\":");
            let _ = serde_json::to_writer(&mut *out, &crash_json(c));
        }
    };
    let sent = |out: &mut Vec<u8>, c: Option<&Consumed>| {
        out.extend_from_slice(b",\"sent\":");
        match c {
            None => out.extend_from_slice(b"null"),
            Some(c) => {
                out.push(b'{');
                if let Some(cr) = &c.crash {
                    out.extend_from_slice(b"\"crash\":");
                    let _ = serde_json::to_writer(&mut *out, &crash_json(cr));
                    out.push(b',');
                }
                out.extend_from_slice(b"\"frames\":[");
                for (i, f) in c.frames.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_frame_json(out, proto, 0, f, &[]);
                }
                out.extend_from_slice(b"]}");
            }
        }
    };
    match step {
        Step::Frame {
            frame,
            outcome: o,
            sent: c,
        } => {
            out.push(b'{');
            outcome(out, o.as_ref());
            out.extend_from_slice(b",\"event\":\"frame\",\"frame\":");
            write_frame_json(
                out,
                proto,
                frame.offset,
                &frame.frame,
                &frame_warnings(frame),
            );
            out.extend_from_slice(b",\"offset\":");
            super::ink::num(out, frame.offset);
            sent(out, c.as_ref());
            out.push(b'}');
        }
        Step::Eof {
            outcome: o,
            sent: c,
        } => {
            out.push(b'{');
            outcome(out, o.as_ref());
            out.extend_from_slice(b",\"event\":\"eof\"");
            sent(out, c.as_ref());
            out.push(b'}');
        }
        other => {
            let _ = serde_json::to_writer(&mut *out, &step_json(proto, other));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reactor::ServerCrash;

    /// Every kind of step, through the writer and through serde: the same
    /// bytes.
    #[test]
    fn written_steps_are_the_serde_rendering() {
        let p = Proto::P0006;
        let f = |payload: &[u8]| Frame::new(1, 0x5, payload.to_vec()).with_ids(1, 1, 1);
        let located = Located {
            offset: 7,
            header: crate::wire::frame::Header {
                length: 12,
                raw_length: [12, 0, 0],
                request_id: 1,
                stream_id: 1,
                stream_flags: 1,
                type_id: 1,
                flags: 5,
            },
            frame: f(b"\xa1DnameEheads"),
        };
        let crash = ServerCrash {
            exception: "ProgrammingError".into(),
            why: "a \"why\"".into(),
            bound: true,
        };
        let consumed = Consumed {
            frames: vec![f(b"x\x00"), f(b"")],
            crash: Some(crash.clone()),
        };
        let action = || Action::WantFrame {
            state: crate::reactor::State::Idle,
        };
        let others = [
            Action::Noop,
            Action::Error {
                message: b"bad \"x\" \xff\n".to_vec(),
            },
            Action::WantFrame {
                state: crate::reactor::State::CommandReceiving,
            },
        ];
        let steps = [
            Step::Frame {
                frame: located.clone(),
                outcome: Ok(action()),
                sent: Some(consumed.clone()),
            },
            Step::Frame {
                frame: located,
                outcome: Err(crash.clone()),
                sent: None,
            },
            Step::Eof {
                outcome: Ok(action()),
                sent: Some(Consumed {
                    frames: vec![],
                    crash: None,
                }),
            },
            Step::Response {
                request_id: 3,
                outcome: Ok(action()),
                sent: None,
            },
        ];
        let more: Vec<Step> = others
            .into_iter()
            .map(|a| Step::Eof {
                outcome: Ok(a),
                sent: None,
            })
            .collect();
        for step in steps.iter().chain(&more) {
            let mut fast = Vec::new();
            write_step_json(&mut fast, p, step);
            let slow = serde_json::to_vec(&step_json(p, step)).unwrap();
            assert_eq!(
                String::from_utf8(fast).unwrap(),
                String::from_utf8(slow).unwrap()
            );
        }
    }
}
