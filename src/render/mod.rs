//! Renderers: frames, values and reactor steps as readable text and as
//! JSON with a stable schema. They write to any `Write`; colour is decided
//! by the caller (through `colored`'s global switch) and never by probing a
//! terminal here.
//!
//! JSON schema of a frame (`decode --json`, one object per line), version 1:
//! `{"offset", "length", "header_length"?, "request_id", "stream_id",
//! "stream_flags", "stream_flag_names", "type", "type_name", "flags",
//! "flag_names", "payload_hex", "payload", "cbor"?, "warnings"}` — ids and
//! stream fields are present for every revision (0 for 0001); `type_name`
//! is null for types the revision lacks; `payload` is the escaped text;
//! `cbor` (0006 only, when the payload decodes) is the list of decoded
//! values in the value schema of [`value_json`].

pub mod diff;
pub mod remote;
pub mod replay;
pub mod request;

use std::io::{self, Write};

use colored::Colorize;
use serde_json::{json, Map, Value as J};

use crate::human::{bytes_literal, to_literal};
use crate::python::cbor;
use crate::python::escape::{escape_bytes, hex};
use crate::python::value::Value;
use crate::reactor::{Action, Consumed, ServerCrash};
use crate::session::Step;
use crate::wire::frame::{Frame, Located};
use crate::wire::proto::{FlagName, PayloadSyntax, Proto};

/// JSON for a value: bytes → string when UTF-8 else `{"hex": …}`; ints →
/// numbers (strings beyond 64 bits); None → null; lists/tuples → arrays;
/// sets → `{"set": […]}`; dicts with UTF-8 bytes keys → objects, other
/// dicts → `{"map": [[k, v], …]}`; indefinite-bytestring chunks →
/// `{"chunk": …, "first": b, "last": b}`.
pub fn value_json(v: &Value) -> J {
    fn bytes_json(b: &[u8]) -> J {
        match std::str::from_utf8(b) {
            Ok(s) => J::String(s.to_string()),
            Err(_) => json!({ "hex": hex(b) }),
        }
    }
    match v {
        Value::None => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => {
            if let Ok(x) = i64::try_from(*i) {
                json!(x)
            } else if let Ok(x) = u64::try_from(*i) {
                json!(x)
            } else {
                J::String(i.to_string())
            }
        }
        Value::Bytes(b) => bytes_json(b),
        Value::Chunk { data, first, last } => {
            json!({"chunk": bytes_json(data), "first": first, "last": last})
        }
        Value::List(items) | Value::Tuple(items) => {
            J::Array(items.iter().map(value_json).collect())
        }
        Value::Set(items) => json!({ "set": items.iter().map(value_json).collect::<Vec<_>>() }),
        Value::Dict(pairs) => {
            let all_str = pairs
                .iter()
                .all(|(k, _)| k.as_bytes().is_some_and(|b| std::str::from_utf8(b).is_ok()));
            if all_str {
                let mut m = Map::new();
                for (k, v) in pairs {
                    let k = String::from_utf8_lossy(k.as_bytes().unwrap_or_default()).into_owned();
                    m.insert(k, value_json(v));
                }
                J::Object(m)
            } else {
                json!({ "map": pairs.iter().map(|(k, v)| json!([value_json(k), value_json(v)])).collect::<Vec<_>>() })
            }
        }
        Value::Str(s) => J::String(s.clone()),
        Value::Float(f) => json!(f),
    }
}

/// A readable one-line form of a value (Python literal syntax).
pub fn value_text(v: &Value) -> String {
    match v {
        Value::Chunk { data, first, last } => {
            format!("chunk({}, first={first}, last={last})", bytes_literal(data))
        }
        other => to_literal(other).unwrap_or_else(|| format!("{other:?}")),
    }
}

fn flag_list(names: &[FlagName], value: u8) -> Vec<String> {
    let mut out = Vec::new();
    for bit in 0..8 {
        let v = 1u8 << bit;
        if value & v != 0 {
            match names.iter().find(|n| n.value == v) {
                Some(n) => out.push(n.name.to_string()),
                None => out.push(format!("{v:#x}")),
            }
        }
    }
    out
}

/// Decoded CBOR values of a 0006 payload, if it decodes.
pub fn payload_cbor(proto: Proto, payload: &[u8]) -> Option<Vec<Value>> {
    if proto.table().payload_syntax != PayloadSyntax::EscapedOrCbor || payload.is_empty() {
        return None;
    }
    cbor::decode_all(payload).ok()
}

/// Warnings about a frame as located in an input.
pub fn frame_warnings(l: &Located<Frame>) -> Vec<String> {
    let mut w = Vec::new();
    if let Some(m) = l.mercurial_misread() {
        let real = crate::wire::frame::LengthMode::Correct.read(l.header.raw_length);
        w.push(format!(
            "the header says {real} payload bytes; Mercurial servers read its length as {m} (b0 + 256*b1 + 16384*b2) and lose sync",
        ));
    }
    w
}

/// Append one frame's JSON object (the same bytes `frame_json` gives when
/// serialized) without building a `serde_json::Value`: `decode --json`
/// streams gigabytes through this.
pub fn write_frame_json(
    out: &mut Vec<u8>,
    proto: Proto,
    offset: u64,
    f: &Frame,
    warnings: &[String],
) {
    use std::io::Write as _;
    let t = proto.table();
    let names = |out: &mut Vec<u8>, list: &[FlagName], v: u8| {
        out.push(b'[');
        let mut first = true;
        for bit in 0..8 {
            let b = 1u8 << bit;
            if v & b == 0 {
                continue;
            }
            if !first {
                out.push(b',');
            }
            first = false;
            match list.iter().find(|n| n.value == b) {
                Some(n) => {
                    out.push(b'"');
                    out.extend_from_slice(n.name.as_bytes());
                    out.push(b'"');
                }
                None => {
                    let _ = write!(out, "\"{b:#x}\"");
                }
            }
        }
        out.push(b']');
    };
    out.push(b'{');
    if let Some(vals) = payload_cbor(proto, &f.payload) {
        out.extend_from_slice(b"\"cbor\":");
        let j = J::Array(vals.iter().map(value_json).collect());
        let _ = serde_json::to_writer(&mut *out, &j);
        out.push(b',');
    }
    out.extend_from_slice(b"\"flag_names\":");
    names(out, proto.flag_names(f.type_id), f.flags);
    let _ = write!(
        out,
        ",\"flags\":{},\"length\":{},\"offset\":{offset},\"payload\":\"",
        f.flags,
        f.payload.len()
    );
    // escape_bytes gives printable ASCII; JSON needs \\ and \" on top.
    for &c in &f.payload {
        match c {
            b'\\' => out.extend_from_slice(b"\\\\\\\\"),
            b'\n' => out.extend_from_slice(b"\\\\n"),
            b'\r' => out.extend_from_slice(b"\\\\r"),
            b'\t' => out.extend_from_slice(b"\\\\t"),
            b'"' => out.extend_from_slice(b"\\\""),
            0x20..=0x7e => out.push(c),
            _ => {
                const H: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\\\x");
                out.push(H[(c >> 4) as usize]);
                out.push(H[(c & 15) as usize]);
            }
        }
    }
    out.extend_from_slice(b"\",\"payload_hex\":\"");
    const H: &[u8; 16] = b"0123456789abcdef";
    for &c in &f.payload {
        out.push(H[(c >> 4) as usize]);
        out.push(H[(c & 15) as usize]);
    }
    let _ = write!(
        out,
        "\",\"request_id\":{},\"stream_flag_names\":",
        f.request_id
    );
    names(out, t.stream_flags, f.stream_flags);
    let _ = write!(
        out,
        ",\"stream_flags\":{},\"stream_id\":{},\"type\":{},\"type_name\":",
        f.stream_flags, f.stream_id, f.type_id
    );
    match proto.type_def(f.type_id) {
        Some(d) => {
            out.push(b'"');
            out.extend_from_slice(d.name.as_bytes());
            out.push(b'"');
        }
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"warnings\":");
    let _ = serde_json::to_writer(&mut *out, warnings);
    out.push(b'}');
}

/// The JSON object for one frame (schema in the module docs).
pub fn frame_json(proto: Proto, offset: u64, f: &Frame, warnings: &[String]) -> J {
    let t = proto.table();
    let mut m = Map::new();
    m.insert("offset".into(), json!(offset));
    m.insert("length".into(), json!(f.payload.len()));
    m.insert("request_id".into(), json!(f.request_id));
    m.insert("stream_id".into(), json!(f.stream_id));
    m.insert("stream_flags".into(), json!(f.stream_flags));
    m.insert(
        "stream_flag_names".into(),
        json!(flag_list(t.stream_flags, f.stream_flags)),
    );
    m.insert("type".into(), json!(f.type_id));
    m.insert(
        "type_name".into(),
        proto.type_def(f.type_id).map_or(J::Null, |t| json!(t.name)),
    );
    m.insert("flags".into(), json!(f.flags));
    m.insert(
        "flag_names".into(),
        json!(flag_list(proto.flag_names(f.type_id), f.flags)),
    );
    m.insert("payload_hex".into(), json!(hex(&f.payload)));
    m.insert("payload".into(), json!(escape_bytes(&f.payload)));
    if let Some(vals) = payload_cbor(proto, &f.payload) {
        m.insert(
            "cbor".into(),
            J::Array(vals.iter().map(value_json).collect()),
        );
    }
    m.insert("warnings".into(), json!(warnings));
    J::Object(m)
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max).collect();
    format!("{cut}… ({} chars)", s.chars().count())
}

/// A frame in one line: `#1 req 1 stream 1 [stream-begin] command-request new  \xa1Dname… = {b'name': …}`.
pub fn frame_line(proto: Proto, f: &Frame, verbose: bool) -> String {
    let t = proto.table();
    let mut s = String::new();
    if t.has_streams {
        s.push_str(&format!("req {} stream {} ", f.request_id, f.stream_id));
        if f.stream_flags != 0 {
            s.push_str(
                &format!("[{}] ", proto.stream_flags_to_string(f.stream_flags))
                    .yellow()
                    .to_string(),
            );
        }
    }
    s.push_str(&proto.type_name(f.type_id).cyan().bold().to_string());
    s.push(' ');
    s.push_str(&proto.flags_to_string(f.type_id, f.flags).cyan().to_string());
    s.push_str(
        &format!("  ({} bytes)", f.payload.len())
            .dimmed()
            .to_string(),
    );
    if !f.payload.is_empty() {
        let max = if verbose { usize::MAX } else { 120 };
        match payload_cbor(proto, &f.payload) {
            Some(vals) => {
                let text: Vec<String> = vals.iter().map(value_text).collect();
                s.push_str(&format!("  cbor {}", shorten(&text.join(" ; "), max)));
            }
            None => s.push_str(&format!("  {}", shorten(&escape_bytes(&f.payload), max))),
        }
    }
    s
}

/// Write one decoded frame as a block (`decode` default output).
pub fn write_frame_block(
    w: &mut dyn Write,
    proto: Proto,
    index: usize,
    l: &Located<Frame>,
    verbose: bool,
) -> io::Result<()> {
    let f = &l.frame;
    let t = proto.table();
    writeln!(
        w,
        "{} {}",
        format!("frame {index}").bold(),
        format!(
            "@ offset {} (header {} + payload {} bytes)",
            l.offset,
            t.header_size,
            f.payload.len()
        )
        .dimmed()
    )?;
    if t.has_streams {
        writeln!(
            w,
            "  request {}  stream {}  stream-flags {}",
            f.request_id,
            f.stream_id,
            proto.stream_flags_to_string(f.stream_flags).yellow()
        )?;
    }
    let tname = match proto.type_def(f.type_id) {
        Some(t) => format!("{} ({})", t.name.cyan().bold(), f.type_id),
        None => format!(
            "{} (not a {} type)",
            f.type_id.to_string().red().bold(),
            proto.name()
        ),
    };
    writeln!(
        w,
        "  type {tname}  flags {} ({:#x})",
        proto.flags_to_string(f.type_id, f.flags).cyan(),
        f.flags
    )?;
    let payload = escape_bytes(&f.payload);
    let payload = if verbose {
        payload
    } else {
        shorten(&payload, 400)
    };
    writeln!(w, "  payload {payload}")?;
    if let Some(vals) = payload_cbor(proto, &f.payload) {
        for v in vals {
            let text = value_text(&v);
            writeln!(
                w,
                "  cbor {}",
                if verbose { text } else { shorten(&text, 400) }.green()
            )?;
        }
    }
    for warn in frame_warnings(l) {
        writeln!(w, "  {} {warn}", "warning:".yellow().bold())?;
    }
    Ok(())
}

/// Pretty-print an action's meta as indented JSON.
fn action_json(a: &Action) -> J {
    json!({ "action": a.name(), "meta": value_json(&a.meta()) })
}

fn write_action(w: &mut dyn Write, a: &Action) -> io::Result<()> {
    let name = match a {
        Action::Error { .. } => a.name().red().bold(),
        Action::RunCommand(_) => a.name().green().bold(),
        _ => a.name().blue().bold(),
    };
    match a {
        Action::WantFrame { state } => writeln!(w, "  → {name} (state {state})"),
        Action::Error { message } => {
            writeln!(w, "  → {name}: {}", String::from_utf8_lossy(message).red())
        }
        Action::Noop => writeln!(w, "  → {name}"),
        Action::SendFrames(_) => writeln!(w, "  → {name}"),
        Action::RunCommand(_) => {
            let text = serde_json::to_string_pretty(&value_json(&a.meta())).unwrap_or_default();
            writeln!(w, "  → {name}")?;
            for line in text.lines() {
                writeln!(w, "      {line}")?;
            }
            Ok(())
        }
    }
}

fn write_crash(w: &mut dyn Write, c: &ServerCrash) -> io::Result<()> {
    writeln!(
        w,
        "  {} a Mercurial server answers HTTP 500 here: {}",
        "✗".red().bold(),
        c.exception.red()
    )?;
    writeln!(w, "    why: {}", c.why)
}

fn write_sent(
    w: &mut dyn Write,
    proto: Proto,
    c: Option<&Consumed>,
    verbose: bool,
) -> io::Result<()> {
    if let Some(c) = c {
        for f in &c.frames {
            writeln!(w, "      ⇠ {}", frame_line(proto, f, verbose))?;
        }
        if let Some(crash) = &c.crash {
            write_crash(w, crash)?;
        }
    }
    Ok(())
}

fn write_outcome(w: &mut dyn Write, outcome: Result<&Action, &ServerCrash>) -> io::Result<()> {
    match outcome {
        Ok(a) => write_action(w, a),
        Err(c) => write_crash(w, c),
    }
}

/// A received frame, what the reactor did with it, and what it sent.
pub fn write_frame_step(
    w: &mut dyn Write,
    proto: Proto,
    frame: &Located<Frame>,
    outcome: Result<&Action, &ServerCrash>,
    sent: Option<&Consumed>,
    verbose: bool,
) -> io::Result<()> {
    writeln!(
        w,
        "{} {}",
        format!("@{}", frame.offset).dimmed(),
        frame_line(proto, &frame.frame, verbose)
    )?;
    for warn in frame_warnings(frame) {
        writeln!(w, "  {} {warn}", "warning:".yellow().bold())?;
    }
    write_outcome(w, outcome)?;
    write_sent(w, proto, sent, verbose)
}

/// End of input: what the reactor did, and what it sent.
pub fn write_eof_step(
    w: &mut dyn Write,
    proto: Proto,
    outcome: Result<&Action, &ServerCrash>,
    sent: Option<&Consumed>,
    verbose: bool,
) -> io::Result<()> {
    writeln!(w, "{}", "end of input".dimmed())?;
    write_outcome(w, outcome)?;
    write_sent(w, proto, sent, verbose)
}

/// The readable view of a reactor step.
pub fn write_step_pretty(
    w: &mut dyn Write,
    proto: Proto,
    step: &Step,
    verbose: bool,
) -> io::Result<()> {
    match step {
        Step::Frame {
            frame,
            outcome,
            sent,
        } => write_frame_step(w, proto, frame, outcome.as_ref(), sent.as_ref(), verbose),
        Step::Response {
            request_id,
            outcome,
            sent,
        } => {
            if proto.table().has_streams {
                writeln!(w, "{} canned response for request {request_id}", "⇢".dimmed())?;
            } else {
                writeln!(w, "{} canned response", "⇢".dimmed())?;
            }
            write_outcome(w, outcome.as_ref())?;
            write_sent(w, proto, sent.as_ref(), verbose)
        }
        Step::Undecodable(e) => writeln!(
            w,
            "{} {e}\n    why: a Mercurial server raises while reading the body and answers HTTP 500",
            "✗".red().bold()
        ),
        Step::Eof { outcome, sent } => {
            write_eof_step(w, proto, outcome.as_ref(), sent.as_ref(), verbose)
        }
    }
}

fn outcome_json(o: Result<&Action, &ServerCrash>) -> (J, J) {
    match o {
        Ok(a) => (action_json(a), J::Null),
        Err(c) => (J::Null, json!({"exception": c.exception, "why": c.why})),
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
                v["crash"] = json!({"exception": cr.exception, "why": cr.why});
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_frame_json_is_the_serde_rendering() {
        let frames = [
            Frame::new(1, 0x5, b"\xa1DnameEheads".to_vec()).with_ids(1, 1, 1),
            Frame::new(15, 0xf, b"\"quote\\ \n\x00\xff".to_vec()).with_ids(65535, 255, 0xff),
            Frame::new(2, 2, Vec::new()),
        ];
        for p in Proto::all() {
            for f in &frames {
                let w = vec!["a \"warning\"".to_string()];
                let mut fast = Vec::new();
                write_frame_json(&mut fast, p, 42, f, &w);
                let slow = serde_json::to_vec(&frame_json(p, 42, f, &w)).unwrap();
                assert_eq!(
                    String::from_utf8(fast).unwrap(),
                    String::from_utf8(slow).unwrap()
                );
            }
        }
    }
}
