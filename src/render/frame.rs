//! Frames: one line, a block (`decode`), and a JSON object.
//!
//! JSON schema of a frame (`decode --json`, one object per line), version 1:
//! `{"offset", "length", "header_length"?, "request_id", "stream_id",
//! "stream_flags", "stream_flag_names", "type", "type_name", "flags",
//! "flag_names", "payload_hex", "payload", "cbor"?, "warnings"}` — ids and
//! stream fields are present for every revision (0 for 0001); `type_name`
//! is null for types the revision lacks; `payload` is the escaped text;
//! `cbor` (revisions with CBOR payloads, when the payload decodes) is the
//! list of decoded values in the value schema of [`value_json`]; a payload
//! whose values would pass [`PAYLOAD_CBOR_LIMIT`] has no `cbor` and a
//! warning saying so ([`cbor_not_shown`]).

use std::io::{self, Write};

use serde_json::{json, Map, Value as J};

use super::ink::{self, Ink};
use super::value::{value_json, value_text_into, write_value_json};
use crate::python::cbor;
use crate::python::cbor_text::Walked;
use crate::python::escape::{
    escape_bytes, escape_bytes_into, escape_bytes_prefix, escaped_len, hex,
};
use crate::python::value::Value;
use crate::wire::frame::{Frame, Located};
use crate::wire::proto::{FlagName, PayloadSyntax, Proto};

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

/// The most memory the values of one payload may take to be shown
/// (estimated as the CBOR decoder counts it): a frame's payload is at most
/// 16 MiB, but tiny items cost a value each, and a hostile frame must not
/// turn into gigabytes just to be printed.
pub const PAYLOAD_CBOR_LIMIT: u64 = 64 << 20;

/// Decoded CBOR values of a 0006 payload, if it decodes (within
/// [`PAYLOAD_CBOR_LIMIT`]).
pub fn payload_cbor(proto: Proto, payload: &[u8]) -> Option<Vec<Value>> {
    if proto.table().payload_syntax != PayloadSyntax::EscapedOrCbor || payload.is_empty() {
        return None;
    }
    cbor::decode_all_limited(payload, PAYLOAD_CBOR_LIMIT).ok()
}

/// The warning a JSON frame object carries when its payload is CBOR too
/// big to show (the block format says it on its `cbor` line).
pub fn cbor_not_shown() -> String {
    format!(
        "cbor not shown: its values would take more than {} MiB of memory to decode",
        PAYLOAD_CBOR_LIMIT >> 20
    )
}

/// The payload's values, or `Err(true)` when they would pass
/// [`PAYLOAD_CBOR_LIMIT`] (said, not dropped), `Err(false)` when it is not
/// CBOR (or the revision's payloads are not).
fn payload_cbor_or_why(proto: Proto, payload: &[u8]) -> Result<Vec<Value>, bool> {
    if proto.table().payload_syntax != PayloadSyntax::EscapedOrCbor || payload.is_empty() {
        return Err(false);
    }
    cbor::decode_all_limited(payload, PAYLOAD_CBOR_LIMIT).map_err(|e| e.is_over_limit())
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

/// The `"cbor":[VALUE],` member written straight from the payload's bytes
/// (see [`crate::python::cbor_text`]); nothing written when its shape needs
/// the decoded values or it is not CBOR (the [`Walked`] says which).
fn direct_cbor_json(out: &mut Vec<u8>, payload: &[u8]) -> Walked {
    let mark = out.len();
    out.extend_from_slice(b"\"cbor\":[");
    let walked = crate::python::cbor_text::jsons_into(out, payload, PAYLOAD_CBOR_LIMIT);
    if walked == Walked::Written {
        out.extend_from_slice(b"],");
    } else {
        out.truncate(mark);
    }
    walked
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
        // The set bits only, lowest first.
        let mut bits = v;
        while bits != 0 {
            let b = bits & bits.wrapping_neg();
            bits &= !b;
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
    // Straight from the bytes when the shape allows (see python::cbor_text),
    // else through decoded values.
    let mut too_big = false;
    let walked = if proto.table().payload_syntax == PayloadSyntax::EscapedOrCbor {
        direct_cbor_json(out, &f.payload)
    } else {
        Walked::Other
    };
    if walked == Walked::Other {
        match payload_cbor_or_why(proto, &f.payload) {
            Ok(vals) => {
                out.extend_from_slice(b"\"cbor\":[");
                for (i, v) in vals.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    let _ = write_value_json(&mut *out, v);
                }
                out.extend_from_slice(b"],");
            }
            Err(over) => too_big = over,
        }
    }
    out.extend_from_slice(b"\"flag_names\":");
    names(out, proto.flag_names(f.type_id), f.flags);
    out.extend_from_slice(b",\"flags\":");
    ink::num(out, f.flags);
    out.extend_from_slice(b",\"length\":");
    ink::num(out, f.payload.len());
    out.extend_from_slice(b",\"offset\":");
    ink::num(out, offset);
    out.extend_from_slice(b",\"payload\":\"");
    // escape_bytes gives printable ASCII; JSON needs \\ and \" on top.
    crate::python::escape::DISPLAY_IN_JSON.write(out, &f.payload);
    out.extend_from_slice(b"\",\"payload_hex\":\"");
    crate::python::escape::hex_into(out, &f.payload);
    out.extend_from_slice(b"\",\"request_id\":");
    ink::num(out, f.request_id);
    out.extend_from_slice(b",\"stream_flag_names\":");
    names(out, t.stream_flags, f.stream_flags);
    out.extend_from_slice(b",\"stream_flags\":");
    ink::num(out, f.stream_flags);
    out.extend_from_slice(b",\"stream_id\":");
    ink::num(out, f.stream_id);
    out.extend_from_slice(b",\"type\":");
    ink::num(out, f.type_id);
    out.extend_from_slice(b",\"type_name\":");
    match proto.type_def(f.type_id) {
        Some(d) => {
            out.push(b'"');
            out.extend_from_slice(d.name.as_bytes());
            out.push(b'"');
        }
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"warnings\":");
    if too_big {
        let mut all = warnings.to_vec();
        all.push(cbor_not_shown());
        let _ = serde_json::to_writer(&mut *out, &all);
    } else if warnings.is_empty() {
        out.extend_from_slice(b"[]");
    } else {
        let _ = serde_json::to_writer(&mut *out, warnings);
    }
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
    let mut warnings = warnings.to_vec();
    match payload_cbor_or_why(proto, &f.payload) {
        Ok(vals) => {
            m.insert(
                "cbor".into(),
                J::Array(vals.iter().map(value_json).collect()),
            );
        }
        Err(true) => warnings.push(cbor_not_shown()),
        Err(false) => {}
    }
    m.insert("warnings".into(), json!(warnings));
    J::Object(m)
}

/// `shorten(&escape_bytes(b), max)`, escaping only what is shown (a
/// 16 MiB payload costs its first `max` characters, not 64 MiB of text).
fn shorten_escaped(b: &[u8], max: usize) -> String {
    let (shown, total) = escape_bytes_prefix(b, max);
    if total <= max {
        return shown;
    }
    format!("{shown}… ({total} chars)")
}

/// A frame in one line: `#1 req 1 stream 1 [stream-begin] command-request new  \xa1Dname… = {b'name': …}`.
pub fn frame_line(proto: Proto, f: &Frame, verbose: bool) -> String {
    let mut out = Vec::with_capacity(128);
    frame_line_into(&mut out, Ink::ON, proto, f, verbose);
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// [`frame_line`] appended to `out`, styled by `ink`.
pub fn frame_line_into(out: &mut Vec<u8>, ink: Ink, proto: Proto, f: &Frame, verbose: bool) {
    let t = proto.table();
    if t.has_streams {
        out.extend_from_slice(b"req ");
        ink::num(out, f.request_id);
        out.extend_from_slice(b" stream ");
        ink::num(out, f.stream_id);
        out.push(b' ');
        if f.stream_flags != 0 {
            ink.start(out, ink::YELLOW);
            out.push(b'[');
            ink::flag_names(out, t.stream_flags, f.stream_flags);
            out.extend_from_slice(b"] ");
            ink.end(out, ink::YELLOW);
        }
    }
    ink.start(out, ink::CYAN_BOLD);
    match proto.type_def(f.type_id) {
        Some(d) => out.extend_from_slice(d.name.as_bytes()),
        None => {
            out.extend_from_slice(b"type ");
            ink::hex_u8(out, f.type_id);
        }
    }
    ink.end(out, ink::CYAN_BOLD);
    out.push(b' ');
    ink.start(out, ink::CYAN);
    ink::flag_names(out, proto.flag_names(f.type_id), f.flags);
    ink.end(out, ink::CYAN);
    ink.start(out, ink::DIM);
    out.extend_from_slice(b"  (");
    ink::num(out, f.payload.len());
    out.extend_from_slice(b" bytes)");
    ink.end(out, ink::DIM);
    if !f.payload.is_empty() {
        let max = if verbose { usize::MAX } else { 120 };
        let mut walked = Walked::Other;
        if proto.table().payload_syntax == PayloadSyntax::EscapedOrCbor {
            // Straight from the bytes when the shape allows (see
            // python::cbor_text), else through decoded values (unless the
            // walk found it is not CBOR).
            let mark = out.len();
            out.extend_from_slice(b"  cbor ");
            walked = crate::python::cbor_text::literals_into(
                out,
                &f.payload,
                PAYLOAD_CBOR_LIMIT,
                b" ; ",
            );
            if walked == Walked::Written {
                ink::shorten_from(out, mark + 7, max);
                return;
            }
            out.truncate(mark);
        }
        let vals = match walked {
            Walked::NotCbor => None,
            _ => payload_cbor(proto, &f.payload),
        };
        match vals {
            Some(vals) => {
                out.extend_from_slice(b"  cbor ");
                let mark = out.len();
                for (i, v) in vals.iter().enumerate() {
                    if i > 0 {
                        out.extend_from_slice(b" ; ");
                    }
                    value_text_into(out, v);
                }
                ink::shorten_from(out, mark, max);
            }
            None => {
                out.extend_from_slice(b"  ");
                if f.payload.len() <= max && escaped_len(&f.payload) <= max {
                    escape_bytes_into(out, &f.payload);
                } else {
                    out.extend_from_slice(shorten_escaped(&f.payload, max).as_bytes());
                }
            }
        }
    }
}

/// Write one decoded frame as a block (`decode` default output), styles
/// included (the writer strips them when colour is off).
pub fn write_frame_block(
    w: &mut dyn Write,
    proto: Proto,
    index: usize,
    l: &Located<Frame>,
    verbose: bool,
) -> io::Result<()> {
    write_frame_block_with(w, proto, index, l, verbose, true)
}

/// [`write_frame_block`], with the payload's CBOR values shown or not.
pub fn write_frame_block_with(
    w: &mut dyn Write,
    proto: Proto,
    index: usize,
    l: &Located<Frame>,
    verbose: bool,
    show_cbor: bool,
) -> io::Result<()> {
    let mut out = Vec::with_capacity(256);
    frame_block_into(&mut out, Ink::ON, proto, index, l, verbose, show_cbor);
    w.write_all(&out)
}

/// The block's `  cbor VALUE` line written straight from the payload's
/// bytes (see [`crate::python::cbor_text`]); `false`, nothing written, when its shape
/// needs the decoded values.
fn direct_cbor_block_line(out: &mut Vec<u8>, ink: Ink, payload: &[u8], verbose: bool) -> bool {
    let mark = out.len();
    out.extend_from_slice(b"  cbor ");
    ink.start(out, ink::GREEN);
    let text = out.len();
    if !crate::python::cbor_text::literal_into(out, payload, PAYLOAD_CBOR_LIMIT) {
        out.truncate(mark);
        return false;
    }
    if !verbose {
        ink::shorten_from(out, text, 400);
    }
    ink.end(out, ink::GREEN);
    out.push(b'\n');
    true
}

/// One frame as a block, appended to `out`: `frame N @ offset …`, its ids
/// and stream flags, type and flags, the payload escaped (cut to 400
/// characters unless `verbose`), each CBOR value (when `show_cbor`), any
/// warning. Written without `core::fmt` into the caller's buffer.
pub fn frame_block_into(
    out: &mut Vec<u8>,
    ink: Ink,
    proto: Proto,
    index: usize,
    l: &Located<Frame>,
    verbose: bool,
    show_cbor: bool,
) {
    let f = &l.frame;
    let t = proto.table();
    ink.start(out, ink::BOLD);
    out.extend_from_slice(b"frame ");
    ink::num(out, index);
    ink.end(out, ink::BOLD);
    out.push(b' ');
    ink.start(out, ink::DIM);
    out.extend_from_slice(b"@ offset ");
    ink::num(out, l.offset);
    out.extend_from_slice(b" (header ");
    ink::num(out, t.header_size);
    out.extend_from_slice(b" + payload ");
    ink::num(out, f.payload.len());
    out.extend_from_slice(b" bytes)");
    ink.end(out, ink::DIM);
    out.push(b'\n');
    if t.has_streams {
        out.extend_from_slice(b"  request ");
        ink::num(out, f.request_id);
        out.extend_from_slice(b"  stream ");
        ink::num(out, f.stream_id);
        out.extend_from_slice(b"  stream-flags ");
        ink.start(out, ink::YELLOW);
        ink::flag_names(out, t.stream_flags, f.stream_flags);
        ink.end(out, ink::YELLOW);
        out.push(b'\n');
    }
    out.extend_from_slice(b"  type ");
    match proto.type_def(f.type_id) {
        Some(d) => {
            ink.paint(out, ink::CYAN_BOLD, d.name.as_bytes());
            out.extend_from_slice(b" (");
            ink::num(out, f.type_id);
            out.push(b')');
        }
        None => {
            ink.start(out, ink::RED_BOLD);
            ink::num(out, f.type_id);
            ink.end(out, ink::RED_BOLD);
            out.extend_from_slice(b" (not a ");
            out.extend_from_slice(proto.name().as_bytes());
            out.extend_from_slice(b" type)");
        }
    }
    out.extend_from_slice(b"  flags ");
    ink.start(out, ink::CYAN);
    ink::flag_names(out, proto.flag_names(f.type_id), f.flags);
    ink.end(out, ink::CYAN);
    out.extend_from_slice(b" (");
    ink::hex_u8(out, f.flags);
    out.extend_from_slice(b")\n  payload ");
    // An escape is at most 4 characters: short payloads need no count.
    if verbose
        || f.payload.len() <= 100
        || (f.payload.len() <= 400 && escaped_len(&f.payload) <= 400)
    {
        escape_bytes_into(out, &f.payload);
    } else {
        out.extend_from_slice(shorten_escaped(&f.payload, 400).as_bytes());
    }
    out.push(b'\n');
    if show_cbor
        && proto.table().payload_syntax == PayloadSyntax::EscapedOrCbor
        && !direct_cbor_block_line(out, ink, &f.payload, verbose)
    {
        let decoded = if f.payload.is_empty() {
            Ok(Vec::new())
        } else {
            cbor::decode_all_limited(&f.payload, PAYLOAD_CBOR_LIMIT)
        };
        if let Err(e) = &decoded {
            // Not CBOR is no news (the payload line shows the bytes); CBOR
            // too big to show is said, not dropped.
            if e.is_over_limit() {
                out.extend_from_slice(b"  cbor ");
                ink.start(out, ink::YELLOW);
                out.extend_from_slice(b"(not shown: its values would take more than ");
                ink::num(out, PAYLOAD_CBOR_LIMIT >> 20);
                out.extend_from_slice(b" MiB of memory to decode)");
                ink.end(out, ink::YELLOW);
                out.push(b'\n');
            }
        }
        if let Ok(vals) = decoded {
            for v in vals {
                out.extend_from_slice(b"  cbor ");
                ink.start(out, ink::GREEN);
                let mark = out.len();
                value_text_into(out, &v);
                if !verbose {
                    ink::shorten_from(out, mark, 400);
                }
                ink.end(out, ink::GREEN);
                out.push(b'\n');
            }
        }
    }
    for warn in frame_warnings(l) {
        out.extend_from_slice(b"  ");
        ink.paint(out, ink::YELLOW_BOLD, b"warning:");
        out.push(b' ');
        out.extend_from_slice(warn.as_bytes());
        out.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first `max` characters of `s`, and how many there were.
    fn shorten(s: &str, max: usize) -> String {
        if s.chars().count() <= max {
            return s.to_string();
        }
        let cut: String = s.chars().take(max).collect();
        format!("{cut}… ({} chars)", s.chars().count())
    }

    #[test]
    fn shortened_payloads_are_the_cut_escaped_text() {
        let b: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
        for max in [0, 1, 3, 4, 5, 120, 400, 20_000] {
            assert_eq!(
                shorten_escaped(&b, max),
                shorten(&escape_bytes(&b), max),
                "{max}"
            );
        }
    }
    use crate::wire::frame::Frame;

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
