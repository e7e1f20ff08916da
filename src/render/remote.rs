//! What servers answered: debugreflect bodies parsed back (pretty and
//! JSON), `send` responses (pretty and JSON, node ids as hex) and
//! `doctor` findings.

use std::io::{self, Write};

use colored::Colorize;
use serde_json::json;

use crate::python::escape::{escape_bytes, hex};
use crate::python::value::Value;
use crate::reactor::response::DecodedResponse;
use crate::reflect::RemoteReflect;
use crate::remote::doctor::Finding;
use crate::render::{self, frame_line, value_json};
use crate::wire::proto::Proto;

/// The readable view of a server's debugreflect body (as `reflect --local`).
pub fn write_remote_pretty(
    w: &mut dyn Write,
    proto: Proto,
    r: &RemoteReflect,
    verbose: bool,
) -> io::Result<()> {
    for st in &r.steps {
        match &st.action {
            Ok(a) => render::write_frame_step(w, proto, &st.frame, Ok(a), None, verbose)?,
            Err(e) => {
                writeln!(
                    w,
                    "{} {}",
                    format!("@{}", st.frame.offset).dimmed(),
                    frame_line(proto, &st.frame.frame, verbose)
                )?;
                writeln!(w, "  {} {e}", "?".yellow())?;
            }
        }
    }
    match &r.eof {
        Some(Ok(a)) => render::write_eof_step(w, proto, Ok(a), None, verbose)?,
        Some(Err(e)) => writeln!(w, "{} {e}", "?".yellow())?,
        None => {}
    }
    for p in &r.problems {
        writeln!(w, "{} {p}", "warning:".yellow().bold())?;
    }
    Ok(())
}

/// The JSON events of a server's debugreflect body (as `reflect --json`).
pub fn write_remote_json(w: &mut dyn Write, proto: Proto, r: &RemoteReflect) -> io::Result<()> {
    for st in &r.steps {
        let v = match &st.action {
            Ok(a) => render::frame_step_json(proto, &st.frame, Ok(a), None),
            Err(e) => json!({"event": "frame", "offset": st.frame.offset,
                "frame": render::frame_json(proto, st.frame.offset, &st.frame.frame, &[]), "parse_error": e}),
        };
        writeln!(w, "{v}")?;
    }
    match &r.eof {
        Some(Ok(a)) => writeln!(w, "{}", render::eof_step_json(proto, Ok(a), None))?,
        Some(Err(e)) => writeln!(w, "{}", json!({"event": "eof", "parse_error": e}))?,
        None => {}
    }
    for p in &r.problems {
        writeln!(w, "{}", json!({"event": "problem", "message": p}))?;
    }
    Ok(())
}

/// Whether bytes look like a binary node id: 20 bytes that are not
/// printable text.
pub fn is_node(b: &[u8]) -> bool {
    b.len() == 20 && std::str::from_utf8(b).map_or(true, |s| s.chars().any(|c| c.is_control()))
}

/// Value display for responses: node ids as 40-digit hex.
pub fn node_aware(v: &Value) -> Value {
    match v {
        Value::Bytes(b) if is_node(b) => Value::Str(hex(b).into_bytes()),
        Value::List(x) => Value::List(x.iter().map(node_aware).collect()),
        Value::Tuple(x) => Value::Tuple(x.iter().map(node_aware).collect()),
        Value::Set(x) => Value::Set(x.iter().map(node_aware).collect()),
        Value::Dict(d) => Value::Dict(
            d.iter()
                .map(|(k, v)| (node_aware(k), node_aware(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn text_of(v: &Value) -> String {
    match v {
        Value::Str(s) => String::from_utf8_lossy(s).into_owned(),
        Value::List(x) => format!("[{}]", x.iter().map(text_of).collect::<Vec<_>>().join(", ")),
        Value::Dict(d) => format!(
            "{{{}}}",
            d.iter()
                .map(|(k, v)| format!("{}: {}", text_of(k), text_of(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => render::value_text(other),
    }
}

pub fn write_send_pretty(
    w: &mut dyn Write,
    proto: Proto,
    d: &DecodedResponse,
    verbose: bool,
) -> io::Result<()> {
    for (l, dp) in d.frames.iter().zip(&d.decoded_payloads) {
        writeln!(
            w,
            "{} {}",
            format!("@{}", l.offset).dimmed(),
            frame_line(proto, &l.frame, verbose)
        )?;
        if let Some(p) = dp {
            if p != &l.frame.payload {
                writeln!(
                    w,
                    "    decoded {} bytes: {}",
                    p.len(),
                    escape_bytes(&p[..p.len().min(200)])
                )?;
            }
        }
    }
    for (sid, enc) in &d.encodings {
        writeln!(w, "stream {sid}: content encoding {}", enc.yellow())?;
    }
    for r in &d.requests {
        let status = r.status();
        let st = if status == "ok" {
            status.green().bold()
        } else {
            status.red().bold()
        };
        writeln!(w, "request {}: {st}", r.request_id)?;
        if let Some(Value::Dict(m)) = r.values.first() {
            for (k, v) in m {
                if k.as_bytes() != Some(b"status") {
                    writeln!(w, "  {}: {}", text_of(k), text_of(&node_aware(v)))?;
                }
            }
        }
        for o in r.objects() {
            writeln!(w, "  {}", text_of(&node_aware(o)))?;
        }
        for e in &r.errors {
            writeln!(w, "  {} {}", "error-response".red(), text_of(e))?;
        }
        for t in &r.text {
            writeln!(w, "  text-output {}", text_of(t))?;
        }
        for p in &r.problems {
            writeln!(w, "  {} {p}", "problem:".yellow())?;
        }
    }
    for p in &d.problems {
        writeln!(w, "{} {p}", "problem:".yellow().bold())?;
    }
    Ok(())
}

fn json_nodes(v: &Value) -> serde_json::Value {
    value_json(&node_aware(v))
}

pub fn write_send_json(w: &mut dyn Write, proto: Proto, d: &DecodedResponse) -> io::Result<()> {
    let frames: Vec<serde_json::Value> = d
        .frames
        .iter()
        .map(|l| render::frame_json(proto, l.offset, &l.frame, &[]))
        .collect();
    let requests: Vec<serde_json::Value> = d
        .requests
        .iter()
        .map(|r| {
            json!({
                "request_id": r.request_id,
                "status": r.status(),
                "status_map": r.values.first().map(json_nodes),
                "objects": r.objects().iter().map(json_nodes).collect::<Vec<_>>(),
                "errors": r.errors.iter().map(json_nodes).collect::<Vec<_>>(),
                "text": r.text.iter().map(json_nodes).collect::<Vec<_>>(),
                "complete": r.complete,
                "problems": r.problems,
            })
        })
        .collect();
    let encodings: Vec<serde_json::Value> = d
        .encodings
        .iter()
        .map(|(s, e)| json!({"stream_id": s, "encoding": e}))
        .collect();
    writeln!(
        w,
        "{}",
        json!({"frames": frames, "encodings": encodings, "requests": requests, "problems": d.problems})
    )
}

/// One `doctor` finding: `✓`, `✗` with fixes, `-` skipped, or the diff.
pub fn write_finding(w: &mut dyn Write, f: &Finding) -> io::Result<()> {
    match f {
        Finding::Ok(m) => writeln!(w, "{} {m}", "✓".green().bold()),
        Finding::Bad { message, fixes } => {
            writeln!(w, "{} {message}", "✗".red().bold())?;
            for f in fixes {
                let mut lines = f.lines();
                writeln!(w, "    fix: {}", lines.next().unwrap_or(""))?;
                for l in lines {
                    writeln!(w, "           {l}")?;
                }
            }
            Ok(())
        }
        Finding::Skipped(m) => writeln!(w, "{} {m}", "-".dimmed()),
        Finding::Diff { local, server } => super::diff::write_diff(w, local, server),
    }
}
