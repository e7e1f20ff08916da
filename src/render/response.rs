//! Response bodies as `decode --side response` prints them: each frame
//! with the client reactor's verdict, each object a request's data
//! completes, and a summary per request — as blocks, human strings with
//! `#` comments (so `encode` still reads them), or JSON lines; and bodies
//! that are not frames (CBOR values, text, an HTML page summed up).
//!
//! JSON events (one object per line), version 1:
//! * `{"event": "frame", "client": CLIENT, …}` with the frame's fields as
//!   in `decode --json`; CLIENT is `{"action": "noop", "encoding"}`,
//!   `{"action": "responsedata", "request_id", "expectmore", "eos",
//!   "decoded_length", "decoded"}`, `{"action": "error", "request_id",
//!   "type", "message"}` (an error-response frame), `{"action": "error",
//!   "message", "refused": true}` (the reactor's own check) or
//!   `{"action": null, "raises", "why", "refused": true}`;
//! * `{"event": "object", "request_id", "value"}` (value as the `cbor`
//!   field of `decode --json`; the first object of a request is its
//!   status map);
//! * `{"event": "data_error", "request_id", "error"}`;
//! * `{"event": "summary", "frames", "encodings", "requests", "refused",
//!   "stopped", "assumed_requests"}` at the end;
//! * for other bodies `{"event": "cbor", "index", "value"}`,
//!   `{"event": "text", "text"}`, `{"event": "html", "lines", "bytes"}`.

use std::io::{self, Write};

use crate::render::style::Paint;
use serde_json::{json, Value as J};

use super::frame::{write_frame_block_with, write_frame_json};
use super::value::{value_json, value_text, value_text_nodes_cut, write_value_json};
use crate::human::to_human;
use crate::python::value::Value;
use crate::reactor::client::response::{
    FrameEvent, RequestSummary, ResponseEvent, Summary, Verdict,
};
use crate::wire::proto::Proto;

/// Readable text of a value with node ids as hex, cut to `max` characters
/// (rendering no more than that: a large object costs its size once).
pub fn object_text(v: &Value, max: usize) -> String {
    let (text, cut) = value_text_nodes_cut(v, max);
    if !cut {
        return text;
    }
    match v {
        Value::Bytes(b) | Value::Chunk { data: b, .. } => format!("{text}… ({} bytes)", b.len()),
        _ => format!("{text}… (cut at {max} characters)"),
    }
}

fn quoted(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The verdict in one line.
pub fn verdict_text(v: &Verdict) -> String {
    match v {
        Verdict::Noop {
            encoding: Some(e), ..
        } => format!("{} (stream decodes {})", "noop".blue().bold(), e.yellow()),
        Verdict::Noop { .. } => "noop".blue().bold().to_string(),
        Verdict::Data {
            request_id,
            expect_more,
            eos,
            len,
            decoded,
            ..
        } => {
            let mut s = format!("{} for request {request_id}", "responsedata".green().bold());
            if *eos != 0 {
                s.push_str(", eos");
            }
            if *expect_more != 0 {
                s.push_str(", more expected");
            }
            if *decoded {
                s.push_str(&format!(", {len} bytes decoded"));
            }
            s
        }
        Verdict::ServerError {
            request_id,
            kind,
            message,
        } => format!(
            "{} for request {request_id}: the server reports a failure ({}): {}",
            "error".red().bold(),
            value_text(kind),
            value_text(message)
        ),
        Verdict::Rejected { message } => format!(
            "{} {}: {}",
            "✗".red().bold(),
            "refused".red().bold(),
            quoted(message).red()
        ),
        Verdict::Raises(c) => format!(
            "{} a Mercurial client raises here: {} ({}); it stops reading the response",
            "✗".red().bold(),
            c.exception.as_str().red(),
            c.why
        ),
    }
}

/// The verdict as JSON (see the module docs).
pub fn verdict_json(v: &Verdict) -> J {
    match v {
        Verdict::Noop { encoding } => json!({"action": "noop", "encoding": encoding}),
        Verdict::Data {
            request_id,
            expect_more,
            eos,
            len,
            decoded,
            ..
        } => json!({"action": "responsedata", "request_id": request_id,
            "expectmore": expect_more, "eos": eos, "decoded_length": len, "decoded": decoded}),
        Verdict::ServerError {
            request_id,
            kind,
            message,
        } => json!({"action": "error", "request_id": request_id,
            "type": value_json(kind), "message": value_json(message)}),
        Verdict::Rejected { message } => {
            json!({"action": "error", "message": quoted(message), "refused": true})
        }
        Verdict::Raises(c) => {
            json!({"action": null, "raises": c.exception, "why": c.why, "refused": true})
        }
    }
}

fn request_label(rid: u16, index: u64) -> String {
    if index == 0 {
        format!("request {rid} status")
    } else {
        format!("request {rid} object {index}")
    }
}

/// One event as a block (`decode --side response`, the default format).
pub fn write_event_block(
    w: &mut dyn Write,
    proto: Proto,
    ev: &ResponseEvent,
    verbose: bool,
) -> io::Result<()> {
    let max = if verbose { usize::MAX } else { 400 };
    match ev {
        ResponseEvent::Frame(FrameEvent {
            index,
            frame,
            verdict,
        }) => {
            if *index > 0 {
                writeln!(w)?;
            }
            // Command-response payloads are pieces of a CBOR stream (and
            // may be compressed): their objects are shown as they complete,
            // not guessed from one frame.
            let show_cbor = !matches!(verdict, Verdict::Data { .. });
            write_frame_block_with(w, proto, *index as usize, frame, verbose, show_cbor)?;
            writeln!(w, "  client: {}", verdict_text(verdict))
        }
        ResponseEvent::Object {
            request_id,
            index,
            value,
        } => writeln!(
            w,
            "  {} {}",
            format!("{}:", request_label(*request_id, *index)).bold(),
            object_text(value, max).green()
        ),
        ResponseEvent::DataError { request_id, error } => writeln!(
            w,
            "  {} request {request_id}'s data is not valid CBOR: {} (a Mercurial client fails the request)",
            "✗".red().bold(),
            error.red()
        ),
    }
}

/// One event as a human string (frames) or a `#` comment line.
pub fn write_event_human(w: &mut dyn Write, proto: Proto, ev: &ResponseEvent) -> io::Result<()> {
    match ev {
        ResponseEvent::Frame(f) => {
            writeln!(w, "{}", to_human(proto, &f.frame.frame))?;
            let plain = super::style::plain(&verdict_text(&f.verdict));
            writeln!(w, "# client: {plain}")
        }
        ResponseEvent::Object {
            request_id,
            index,
            value,
        } => writeln!(
            w,
            "# {}: {}",
            request_label(*request_id, *index),
            object_text(value, 400)
        ),
        ResponseEvent::DataError { request_id, error } => {
            writeln!(w, "# request {request_id}: data error: {error}")
        }
    }
}

/// One event as a JSON line (see the module docs), written to `w`; `buf`
/// is scratch space for a frame. An object is written as it is walked, so
/// a large one is never held as JSON text.
pub fn write_event_json(
    w: &mut dyn Write,
    proto: Proto,
    ev: &ResponseEvent,
    buf: &mut Vec<u8>,
) -> io::Result<()> {
    match ev {
        ResponseEvent::Frame(f) => write_frame_event_json(w, proto, f, buf)?,
        ResponseEvent::Object {
            request_id, value, ..
        } => {
            write!(
                w,
                "{{\"event\":\"object\",\"request_id\":{request_id},\"value\":"
            )?;
            write_value_json(w, value)?;
            w.write_all(b"}")?;
        }
        ResponseEvent::DataError { request_id, error } => {
            serde_json::to_writer(
                &mut *w,
                &json!({"event": "data_error", "request_id": request_id, "error": error}),
            )?;
        }
    }
    w.write_all(b"\n")
}

/// A `frame` event (without its newline): the frame as `decode --json`
/// writes it, `"event": "frame"` and the client reactor's verdict first.
pub fn write_frame_event_json(
    w: &mut dyn Write,
    proto: Proto,
    f: &FrameEvent,
    buf: &mut Vec<u8>,
) -> io::Result<()> {
    buf.clear();
    write_frame_json(
        buf,
        proto,
        f.frame.offset,
        &f.frame.frame,
        &super::frame_warnings(&f.frame),
    );
    w.write_all(b"{\"event\":\"frame\",\"client\":")?;
    serde_json::to_writer(&mut *w, &verdict_json(&f.verdict))?;
    w.write_all(b",")?;
    w.write_all(&buf[1..])
}

fn request_line(r: &RequestSummary) -> String {
    let mut s = format!("request {}", r.request_id);
    if let Some(c) = &r.command {
        s.push_str(&format!(" ({c})"));
    }
    let status = match &r.status {
        Some(st) if st == b"ok" => quoted(st).green().bold().to_string(),
        Some(st) => quoted(st).red().bold().to_string(),
        None if r.server_errors > 0 => "error-response".red().bold().to_string(),
        None => "no status".yellow().to_string(),
    };
    s.push_str(&format!(": {status}"));
    let objects = r.objects.saturating_sub(1);
    s.push_str(&format!(
        ", {objects} object{}, {} bytes of data",
        if objects == 1 { "" } else { "s" },
        r.data_bytes
    ));
    s.push_str(if r.complete {
        ", complete"
    } else {
        ", incomplete (no end-of-stream frame)"
    });
    if r.refused > 0 {
        s.push_str(&format!(", {} frame(s) refused", r.refused));
    }
    if let Some(e) = &r.data_error {
        s.push_str(&format!(", data not decodable: {e}"));
    }
    s
}

/// The summary after the last frame.
pub fn write_summary_block(w: &mut dyn Write, s: &Summary) -> io::Result<()> {
    writeln!(w)?;
    let encodings: Vec<String> = s
        .encodings
        .iter()
        .map(|(id, e)| format!("stream {id} {e}"))
        .collect();
    writeln!(
        w,
        "{} {} frame{}{}",
        "summary:".bold(),
        s.frames,
        if s.frames == 1 { "" } else { "s" },
        if encodings.is_empty() {
            String::new()
        } else {
            format!(", {}", encodings.join(", "))
        }
    )?;
    for r in &s.requests {
        writeln!(w, "{}", request_line(r))?;
    }
    if s.refused == 0 {
        writeln!(w, "a Mercurial client accepts every frame")?;
    } else {
        writeln!(
            w,
            "{} a Mercurial client refuses {} frame{}",
            "✗".red().bold(),
            s.refused,
            if s.refused == 1 { "" } else { "s" }
        )?;
    }
    if let Some((i, e)) = &s.stopped {
        writeln!(w, "  and stops reading at frame {i}: {e}")?;
    }
    if s.assumed_requests {
        writeln!(
            w,
            "(no request body given: requests 1, 3, 5, … assumed sent; --request FILE checks against the real one)"
        )?;
    }
    Ok(())
}

/// The summary as `#` comment lines (human format).
pub fn write_summary_human(w: &mut dyn Write, s: &Summary) -> io::Result<()> {
    let mut text = Vec::new();
    write_summary_block(&mut text, s)?;
    for line in String::from_utf8_lossy(&text).lines().skip(1) {
        writeln!(w, "# {}", super::style::plain(line))?;
    }
    Ok(())
}

/// The summary as a JSON line.
pub fn summary_json(s: &Summary) -> J {
    json!({
        "event": "summary",
        "frames": s.frames,
        "encodings": s.encodings.iter().map(|(id, e)| json!({"stream_id": id, "encoding": e})).collect::<Vec<_>>(),
        "requests": s.requests.iter().map(|r| json!({
            "request_id": r.request_id,
            "command": r.command,
            "state": r.state,
            "status": r.status.as_ref().map(|b| quoted(b)),
            "objects": r.objects,
            "data_bytes": r.data_bytes,
            "complete": r.complete,
            "server_errors": r.server_errors,
            "refused": r.refused,
            "data_error": r.data_error,
        })).collect::<Vec<_>>(),
        "refused": s.refused,
        "stopped": s.stopped.as_ref().map(|(i, e)| json!({"frame": i, "raises": e})),
        "assumed_requests": s.assumed_requests,
    })
}

/// A CBOR value of a non-frame body.
pub fn write_cbor_value(
    w: &mut dyn Write,
    index: u64,
    v: &Value,
    json_out: bool,
    verbose: bool,
) -> io::Result<()> {
    if json_out {
        writeln!(
            w,
            "{}",
            json!({"event": "cbor", "index": index, "value": value_json(v)})
        )
    } else {
        let max = if verbose { usize::MAX } else { 400 };
        writeln!(
            w,
            "{} {}",
            format!("value {index}:").bold(),
            object_text(v, max)
        )
    }
}

/// An HTML page summed up: its lines (see `remote::body_summary`).
pub fn write_html(
    w: &mut dyn Write,
    lines: &[String],
    bytes: u64,
    json_out: bool,
) -> io::Result<()> {
    if json_out {
        writeln!(
            w,
            "{}",
            json!({"event": "html", "lines": lines, "bytes": bytes})
        )
    } else {
        for l in lines {
            writeln!(w, "{l}")?;
        }
        Ok(())
    }
}
