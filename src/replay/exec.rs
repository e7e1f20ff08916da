//! Running one request's steps on a target: a fresh local session (as a
//! server's debugreflect endpoint makes one per HTTP request), or a POST
//! to a server whose body is parsed back step by step.

use super::script::Assertion;
use super::{Exec, Fatal};
use crate::python::value::Value;
use crate::reactor::{Action, ReactorOptions};
use crate::reflect::parse_reflect_body;
use crate::remote::HttpError;
use crate::session::{Responder, Session, Step};
use crate::wire::frame::Frame;
use crate::wire::proto::Proto;

/// A step within the current request.
pub(super) struct StepRec {
    pub(super) line: usize,
    pub(super) text: String,
    /// Encoded bytes this step adds to the body (empty for eof).
    pub(super) bytes: Vec<u8>,
    pub(super) is_eof: bool,
    pub(super) expected: Vec<String>,
    pub(super) asserts: Vec<(usize, Assertion)>,
    pub(super) actual: Vec<String>,
    /// For each line of `actual`, the Python value it renders (what the
    /// local reactor returns; `None` for lines that are not JSON): where it
    /// holds a set, the line's members may come in any order.
    pub(super) shapes: Vec<Value>,
    pub(super) actions: Vec<Action>,
    pub(super) sent: Vec<Frame>,
}

fn json_line(proto: Proto, v: &Value) -> Result<String, String> {
    crate::python::json::to_json_within(proto.json(), proto.flavor().json_depth, v)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .map_err(|e| e.to_string())
}

/// Run one request's steps (the last is `eof`); fills `actual`.
pub(super) fn run_request(
    exec: &Exec<'_>,
    proto: Proto,
    steps: &mut [StepRec],
    defer: bool,
    responder: &Responder,
) -> Result<(), Fatal> {
    match exec {
        Exec::Local => {
            let mut session = Session::new(
                proto,
                ReactorOptions {
                    defer_output: defer,
                    ..ReactorOptions::default()
                },
                responder.clone(),
            );
            let mut failed = false;
            let n = steps.len();
            for st in steps.iter_mut() {
                if st.is_eof {
                    session.finish_input();
                } else {
                    session.push_bytes(&std::mem::take(&mut st.bytes));
                }
                session.drain(&mut |s: Step| collect(proto, s, st, &mut failed));
            }
            if failed {
                for st in steps.iter_mut() {
                    st.actual.clear();
                    st.shapes.clear();
                }
                steps[n - 1].actual = vec!["status 500".into()];
                steps[n - 1].shapes = vec![Value::None];
            }
            Ok(())
        }
        Exec::Remote(client) => {
            let mut body = Vec::new();
            let mut ranges = Vec::new();
            for st in steps.iter() {
                let start = body.len();
                body.extend_from_slice(&st.bytes);
                ranges.push(start..body.len());
            }
            let url = client.target.command_url(proto, false, "debugreflect");
            let reply = client
                .post_frames(&url, proto, body.clone())
                .map_err(Fatal::Transport)?;
            let n = steps.len();
            match reply.status {
                200 => {
                    let frames = crate::remote::sent_frames(proto, &body);
                    let parsed = parse_reflect_body(proto, &frames, &reply.body);
                    let (mut shapes, eof_shape) = crate::reflect::line_values(proto, &body);
                    shapes.reverse();
                    for rs in parsed.steps {
                        let i = ranges
                            .iter()
                            .position(|r| r.contains(&(rs.frame.offset as usize)))
                            .unwrap_or(n - 1);
                        steps[i]
                            .actual
                            .push(String::from_utf8_lossy(&rs.raw).into_owned());
                        steps[i].shapes.push(shapes.pop().unwrap_or(Value::None));
                        if let Ok(a) = rs.action {
                            steps[i].actions.push(a);
                        }
                    }
                    steps[n - 1]
                        .actual
                        .push(String::from_utf8_lossy(&parsed.eof_raw).into_owned());
                    steps[n - 1].shapes.push(eof_shape.unwrap_or(Value::None));
                    if let Some(Ok(a)) = parsed.eof {
                        steps[n - 1].actions.push(a);
                    }
                    Ok(())
                }
                500 => {
                    steps[n - 1].actual = vec!["status 500".into()];
                    steps[n - 1].shapes = vec![Value::None];
                    Ok(())
                }
                _ => Err(Fatal::Http(Box::new(HttpError::new(
                    &reply,
                    format!("POST {}", crate::client::redact(&url)),
                )))),
            }
        }
    }
}

fn collect(proto: Proto, s: Step, st: &mut StepRec, failed: &mut bool) {
    let (outcome, sent, json) = match s {
        Step::Undecodable(_) => {
            *failed = true;
            return;
        }
        // A frame's line is its (action, meta) as debugreflect prints it.
        Step::Frame { outcome, sent, .. } => {
            let json = match &outcome {
                Ok(a) if !matches!(a, Action::SendFrames(_)) => {
                    let v = a.as_tuple();
                    Some((json_line(proto, &v), v))
                }
                _ => None,
            };
            (outcome, sent, json)
        }
        // Canned responses are not part of debugreflect: only their frames show.
        Step::Response { outcome, sent, .. } => (outcome, sent, None),
        // End of input: the final meta with its action.
        Step::Eof { outcome, sent } => {
            let json = outcome.as_ref().ok().map(|a| {
                let meta = crate::reflect::eof_meta(a);
                (json_line(proto, &meta), meta)
            });
            (outcome, sent, json)
        }
    };
    match outcome {
        Ok(a) => st.actions.push(a),
        Err(_) => *failed = true,
    }
    match json {
        Some((Ok(l), shape)) => {
            st.actual.push(l);
            st.shapes.push(shape);
        }
        Some((Err(_), _)) => *failed = true,
        None => {}
    }
    if let Some(c) = sent {
        for f in &c.frames {
            st.actual
                .push(format!("sent: {}", crate::human::to_human(proto, f)));
            st.shapes.push(Value::None);
            st.sent.push(f.clone());
        }
        if c.crash.is_some() {
            *failed = true;
        }
    }
}
