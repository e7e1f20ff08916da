//! What servers answered: debugreflect bodies parsed back (pretty and
//! JSON), `send` responses (pretty and JSON, node ids as hex) and
//! `doctor` findings.

use std::io::{self, Write};

use colored::Colorize;
use serde_json::json;

use super::response::{verdict_json, verdict_text};
use super::value::{is_node, value_text_nodes};
use crate::python::escape::{escape_bytes, hex};
use crate::python::value::Value;
use crate::reactor::client::response::Verdict;
use crate::reflect::RemoteReflect;
use crate::remote::doctor::Finding;
use crate::remote::send::SendResult;
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

/// Value display for responses: node ids as 40-digit hex.
pub fn node_aware(v: &Value) -> Value {
    match v {
        Value::Bytes(b) if is_node(b) => Value::Str(hex(b)),
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

/// What `send` prints: each frame (with what its stream decoded it to,
/// and the client reactor's verdict when a Mercurial client would refuse
/// it), the streams' encodings, then per request its status, status-map
/// fields, objects, error-response and text-output frames and problems.
pub fn write_send_pretty(
    w: &mut dyn Write,
    proto: Proto,
    d: &SendResult,
    verbose: bool,
) -> io::Result<()> {
    for fe in &d.frames {
        let l = &fe.frame;
        writeln!(
            w,
            "{} {}",
            format!("@{}", l.offset).dimmed(),
            frame_line(proto, &l.frame, verbose)
        )?;
        if let Verdict::Data {
            decoded: true,
            head,
            len,
            ..
        } = &fe.verdict
        {
            if *len != l.frame.payload.len() || head[..] != l.frame.payload[..head.len()] {
                writeln!(
                    w,
                    "    decoded {len} bytes: {}",
                    escape_bytes(&head[..head.len().min(200)])
                )?;
            }
        }
        if fe.verdict.refused() {
            writeln!(w, "    client: {}", verdict_text(&fe.verdict))?;
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
                    writeln!(w, "  {}: {}", value_text_nodes(k), value_text_nodes(v))?;
                }
            }
        }
        for o in r.objects() {
            writeln!(w, "  {}", value_text_nodes(o))?;
        }
        for e in &r.errors {
            writeln!(w, "  {} {}", "error-response".red(), value_text_nodes(e))?;
        }
        for t in &r.text {
            writeln!(w, "  text-output {}", value_text_nodes(t))?;
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

/// `send --json`: one object (schema in the README).
pub fn write_send_json(w: &mut dyn Write, proto: Proto, d: &SendResult) -> io::Result<()> {
    let frames: Vec<serde_json::Value> = d
        .frames
        .iter()
        .map(|fe| {
            let mut j = render::frame_json(proto, fe.frame.offset, &fe.frame.frame, &[]);
            j["client"] = verdict_json(&fe.verdict);
            j
        })
        .collect();
    let requests: Vec<serde_json::Value> = d
        .requests
        .iter()
        .map(|r| {
            json!({
                "request_id": r.request_id,
                "command": r.command,
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
        json!({"frames": frames, "encodings": encodings, "requests": requests,
            "problems": d.problems, "refused": d.summary.refused})
    )
}

/// One `doctor` finding: `✓`, `✗` with fixes, `-` skipped, or the diff.
pub fn write_finding(w: &mut dyn Write, f: &Finding) -> io::Result<()> {
    match f {
        Finding::Ok(m) => writeln!(w, "{} {m}", "✓".green().bold()),
        Finding::Bad { message, fixes } => {
            writeln!(w, "{} {message}", "✗".red().bold())?;
            for f in fixes {
                writeln!(w, "    fix: {f}")?;
            }
            Ok(())
        }
        Finding::Skipped(m) => writeln!(w, "{} {m}", "-".dimmed()),
        Finding::Diff { local, server } => super::diff::write_diff(w, local, server),
    }
}
