//! Checking a request's steps: expected lines (with ` (glob)` and
//! ` (re)`) and `expect` assertions.

use super::exec::StepRec;
use super::script::{line_matches, Assertion};
use crate::python::value::Value;
use crate::reactor::Action;
use crate::wire::proto::Proto;

pub(super) fn check_assert(
    proto: Proto,
    a: &Assertion,
    st: &StepRec,
    status: u16,
) -> Option<String> {
    match a {
        Assertion::Status(want) => {
            (status != *want).then(|| format!("expected status {want}, got {status}"))
        }
        Assertion::Action(name) => {
            let got: Vec<&str> = st.actions.iter().map(|a| a.name()).collect();
            if got.last() == Some(&name.as_str()) {
                None
            } else if status != 200 {
                Some(format!(
                    "expected action {name}, but the request got HTTP {status}"
                ))
            } else {
                Some(format!(
                    "expected action {name}, got {}",
                    if got.is_empty() {
                        "none".into()
                    } else {
                        got.join(", ")
                    }
                ))
            }
        }
        Assertion::Error(text) => {
            let msgs: Vec<String> = st
                .actions
                .iter()
                .filter_map(|a| match a {
                    Action::Error { message } => {
                        Some(String::from_utf8_lossy(message).into_owned())
                    }
                    _ => None,
                })
                .collect();
            if msgs.iter().any(|m| m.contains(text.as_str())) {
                None
            } else if msgs.is_empty() {
                Some(format!(
                    "expected an error containing {text:?}, got no error action"
                ))
            } else {
                Some(format!(
                    "expected an error containing {text:?}, got {msgs:?}"
                ))
            }
        }
        Assertion::Frame(conds) => {
            let ok = st.sent.iter().any(|f| {
                conds.iter().all(|(k, v)| {
                    let p = proto;
                    match k.as_str() {
                        "type" => p.type_name(f.type_id) == *v || f.type_id.to_string() == *v,
                        "flags" => {
                            p.flags_to_string(f.type_id, f.flags) == *v || f.flags.to_string() == *v
                        }
                        "stream-flags" => {
                            p.stream_flags_to_string(f.stream_flags) == *v
                                || f.stream_flags.to_string() == *v
                        }
                        "request" => f.request_id.to_string() == *v,
                        "stream" => f.stream_id.to_string() == *v,
                        "payload" => crate::python::escape::escape_bytes(&f.payload) == *v,
                        _ => false,
                    }
                })
            });
            (!ok).then(|| {
                format!(
                    "no sent frame matches {}; sent: {}",
                    conds
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(" "),
                    if st.sent.is_empty() {
                        "none".to_string()
                    } else {
                        st.sent
                            .iter()
                            .map(|f| crate::human::to_human(proto, f))
                            .collect::<Vec<_>>()
                            .join(" / ")
                    }
                )
            })
        }
    }
}

/// Lines match (exactly, or by their ` (glob)` / ` (re)` patterns), or
/// are the same values with the
/// members of sets in another order (`shapes`: the value behind each
/// actual line; see [`crate::reflect::same_up_to_set_order`]).
pub(super) fn lines_match_shaped(expected: &[String], actual: &[String], shapes: &[Value]) -> bool {
    expected.len() == actual.len()
        && expected.iter().zip(actual).enumerate().all(|(i, (e, a))| {
            line_matches(e, a)
                || shapes.get(i).is_some_and(|s| {
                    !matches!(s, Value::None)
                        && crate::reflect::same_up_to_set_order(s, e.as_bytes(), a.as_bytes())
                })
        })
}

pub(super) fn assert_text(a: &Assertion) -> String {
    match a {
        Assertion::Action(n) => format!("expect action {n}"),
        // Quoted with `\"` and `\\` escaped, so it reads back as the same
        // text (found by the `transcript` fuzz target).
        Assertion::Error(t) => format!(
            "expect error \"{}\"",
            t.replace('\\', "\\\\").replace('"', "\\\"")
        ),
        Assertion::Status(s) => format!("expect status {s}"),
        Assertion::Frame(kv) => format!(
            "expect frame {}",
            kv.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    }
}
