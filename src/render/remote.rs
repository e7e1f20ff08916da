//! What servers answered: debugreflect bodies parsed back (pretty and
//! JSON), `send` responses (pretty and JSON, node ids as hex) and
//! `doctor` findings.

use std::io::{self, Write};

use crate::render::style::Paint;
use serde_json::json;

use super::response::verdict_text;
use super::value::{is_node, value_text_nodes, write_value_json};
use crate::client::Exchange;
use crate::python::escape::{escape_bytes, hex};
use crate::python::value::Value;
use crate::reactor::client::response::Verdict;
use crate::reflect::RemoteReflect;
use crate::remote::doctor::Finding;
use crate::remote::send::SendResult;
use crate::remote::terminal_safe;
use crate::render::{self, frame_line};
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

/// `send --json`: one event per line (schema in `hgframe send --help`):
/// a `frame` event per frame (as `decode --json`), a `request` event per
/// request with its objects, a `summary`. Objects are written as they
/// are walked (they can be large; their JSON is never held whole).
pub fn write_send_json(w: &mut dyn Write, proto: Proto, d: &SendResult) -> io::Result<()> {
    let values = |w: &mut dyn Write, vs: &[Value]| -> io::Result<()> {
        w.write_all(b"[")?;
        for (i, v) in vs.iter().enumerate() {
            if i > 0 {
                w.write_all(b",")?;
            }
            write_value_json(w, &node_aware(v))?;
        }
        w.write_all(b"]")
    };
    let mut buf = Vec::new();
    for fe in &d.frames {
        super::response::write_frame_event_json(w, proto, fe, &mut buf)?;
        w.write_all(b"\n")?;
    }
    // Keys after `event` in the order serde_json writes a map: sorted.
    for r in &d.requests {
        w.write_all(b"{\"event\":\"request\",\"command\":")?;
        serde_json::to_writer(&mut *w, &r.command)?;
        write!(w, ",\"complete\":{},\"errors\":", r.complete)?;
        values(w, &r.errors)?;
        w.write_all(b",\"objects\":")?;
        values(w, r.objects())?;
        w.write_all(b",\"problems\":")?;
        serde_json::to_writer(&mut *w, &r.problems)?;
        write!(w, ",\"request_id\":{},\"status\":", r.request_id)?;
        serde_json::to_writer(&mut *w, &r.status())?;
        w.write_all(b",\"status_map\":")?;
        match r.values.first() {
            Some(v) => write_value_json(w, &node_aware(v))?,
            None => w.write_all(b"null")?,
        }
        w.write_all(b",\"text\":")?;
        values(w, &r.text)?;
        w.write_all(b"}\n")?;
    }
    let encodings: Vec<serde_json::Value> = d
        .encodings
        .iter()
        .map(|(s, e)| json!({"stream_id": s, "encoding": e}))
        .collect();
    w.write_all(b"{\"event\":\"summary\",\"encodings\":")?;
    serde_json::to_writer(&mut *w, &encodings)?;
    write!(
        w,
        ",\"failed\":{},\"frames\":{},\"problems\":",
        crate::remote::send::failed(d),
        d.frames.len()
    )?;
    serde_json::to_writer(&mut *w, &d.problems)?;
    writeln!(w, ",\"refused\":{}}}", d.summary.refused)
}

/// `send -v`: the request line and headers sent (`> `), then the status
/// line and headers received (`< `), as `curl -v` shows them; what came
/// from the network has its control characters escaped.
pub fn write_exchange(w: &mut dyn Write, e: &Exchange) -> io::Result<()> {
    let safe = |s: &str| terminal_safe(s, usize::MAX);
    writeln!(
        w,
        "{} {}",
        ">".dimmed(),
        format!("{} {} {}", e.method, safe(&e.target), e.request_version).bold()
    )?;
    for (k, v) in &e.request_headers {
        writeln!(w, "{} {}: {}", ">".dimmed(), k.as_str().cyan(), safe(v))?;
    }
    writeln!(w, "{}", ">".dimmed())?;
    writeln!(
        w,
        "{} {}",
        "<".dimmed(),
        format!("{} {} {}", e.response_version, e.status, safe(&e.reason)).bold()
    )?;
    for (k, v) in &e.response_headers {
        writeln!(w, "{} {}: {}", "<".dimmed(), safe(k).cyan(), safe(v))?;
    }
    writeln!(w, "{}", "<".dimmed())
}

/// `send -v --json`: the exchange as two events, `http_request` and
/// `http_response` (headers as `[name, value]` pairs, in order).
pub fn exchange_json(e: &Exchange) -> [serde_json::Value; 2] {
    [
        json!({
            "event": "http_request",
            "method": e.method,
            "target": e.target,
            "version": e.request_version,
            "headers": e.request_headers,
            "body_bytes": e.request_body,
        }),
        json!({
            "event": "http_response",
            "version": e.response_version,
            "status": e.status,
            "reason": e.reason,
            "headers": e.response_headers,
        }),
    ]
}

/// One `doctor` finding as a JSON event (schema in `hgframe doctor --help`).
pub fn finding_json(f: &Finding) -> serde_json::Value {
    match f {
        Finding::Ok(m) => json!({"event": "check", "result": "ok", "message": m}),
        Finding::Bad { message, fixes } => {
            json!({"event": "check", "result": "failed", "message": message, "fixes": fixes})
        }
        Finding::Skipped(m) => json!({"event": "check", "result": "skipped", "message": m}),
        Finding::Diff { local, server } => json!({
            "event": "diff",
            "local": escape_bytes(local),
            "server": escape_bytes(server),
        }),
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reactor::client::response::{FrameEvent, Summary};
    use crate::remote::send::RequestResult;
    use crate::render::value::value_json;
    use crate::wire::frame::{parse_header, Frame, LengthMode, Located};

    /// The streamed `send --json` events are what serializing each with
    /// serde gives.
    #[test]
    fn streamed_send_json_is_the_serde_document() {
        let f = Frame::new(3, 2, b"\xa1FstatusBok".to_vec()).with_ids(1, 2, 1);
        let header = parse_header(
            Proto::P0006,
            LengthMode::Correct,
            &f.encode(Proto::P0006).unwrap(),
        )
        .unwrap();
        let node = Value::Bytes((0u8..20).collect());
        let d = SendResult {
            frames: vec![FrameEvent {
                index: 0,
                frame: Located {
                    offset: 0,
                    header,
                    frame: f,
                },
                verdict: Verdict::Rejected {
                    message: b"no".to_vec(),
                },
            }],
            requests: vec![RequestResult {
                request_id: 1,
                command: Some("heads".into()),
                values: vec![
                    Value::dict([("status", Value::bytes("ok"))]),
                    Value::List(vec![node.clone(), Value::bytes("x\n\u{1}")]),
                    Value::dict([("b", node), ("a", Value::Int(-1))]),
                ],
                errors: vec![Value::dict([("type", Value::bytes("server"))])],
                text: vec![Value::List(vec![])],
                complete: true,
                problems: vec!["p \"q\"".into()],
            }],
            encodings: vec![(2, "zlib".into())],
            problems: vec!["top".into()],
            summary: Summary {
                refused: 1,
                ..Default::default()
            },
        };
        let nodes = |v: &Value| value_json(&node_aware(v));
        let r = &d.requests[0];
        let mut frame = Vec::new();
        crate::render::response::write_frame_event_json(
            &mut frame,
            Proto::P0006,
            &d.frames[0],
            &mut Vec::new(),
        )
        .unwrap();
        let frame: serde_json::Value = serde_json::from_slice(&frame).unwrap();
        assert_eq!(frame["event"], "frame");
        let want = [
            frame,
            json!({
                "event": "request",
                "request_id": 1, "command": "heads", "status": "ok",
                "status_map": nodes(&r.values[0]),
                "objects": r.objects().iter().map(nodes).collect::<Vec<_>>(),
                "errors": r.errors.iter().map(nodes).collect::<Vec<_>>(),
                "text": r.text.iter().map(nodes).collect::<Vec<_>>(),
                "complete": true, "problems": r.problems,
            }),
            json!({
                "event": "summary",
                "encodings": [{"stream_id": 2, "encoding": "zlib"}],
                "problems": d.problems, "refused": 1, "failed": true, "frames": 1,
            }),
        ];
        let mut got = Vec::new();
        write_send_json(&mut got, Proto::P0006, &d).unwrap();
        let got = String::from_utf8(got).unwrap();
        let lines: Vec<&str> = got.lines().collect();
        assert_eq!(lines.len(), want.len(), "{got}");
        for (l, want) in lines.iter().zip(&want) {
            // Each line is the serde document, `event` first.
            assert!(l.starts_with("{\"event\":"), "{l}");
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            assert_eq!(&v, want);
        }
        let mut rest = want[1].clone();
        rest.as_object_mut().unwrap().remove("event");
        assert_eq!(
            lines[1],
            format!("{{\"event\":\"request\",{}", &rest.to_string()[1..])
        );
    }
}
