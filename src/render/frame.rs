//! Frames: one line, a block (`decode`), and a JSON object.
//!
//! JSON schema of a frame (`decode --json`, one object per line), version 1:
//! `{"offset", "length", "header_length"?, "request_id", "stream_id",
//! "stream_flags", "stream_flag_names", "type", "type_name", "flags",
//! "flag_names", "payload_hex", "payload", "cbor"?, "warnings"}` — ids and
//! stream fields are present for every revision (0 for 0001); `type_name`
//! is null for types the revision lacks; `payload` is the escaped text;
//! `cbor` (revisions with CBOR payloads, when the payload decodes) is the
//! list of decoded values in the value schema of [`value_json`].

use std::io::{self, Write};

use crate::render::style::Paint;
use serde_json::{json, Map, Value as J};

use super::value::{value_json, value_text};
use crate::python::cbor;
use crate::python::escape::{escape_bytes, escape_bytes_prefix, hex};
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

/// `shorten(&escape_bytes(b), max)`, escaping only what is shown (a
/// 16 MiB payload costs its first `max` characters, not 64 MiB of text).
fn shorten_escaped(b: &[u8], max: usize) -> String {
    let (shown, total) = escape_bytes_prefix(b, max);
    if total <= max {
        return shown;
    }
    format!("{shown}… ({total} chars)")
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
            None => s.push_str(&format!("  {}", shorten_escaped(&f.payload, max))),
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
    let payload = if verbose {
        escape_bytes(&f.payload)
    } else {
        shorten_escaped(&f.payload, 400)
    };
    writeln!(w, "  payload {payload}")?;
    if let Some(vals) = payload_cbor(proto, &f.payload).filter(|_| show_cbor) {
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

#[cfg(test)]
mod tests {
    use super::*;

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
