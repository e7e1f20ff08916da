//! What `hgframe proxy` saw, as readable lines (each prefixed with the
//! exchange's number: exchanges on different connections interleave) or
//! as JSON events, one per line.
//!
//! JSON schema (version 1): `{"event":"request","id","remote","method",
//! "target","bytes","kind":"handshake"|"command"|"debugreflect"|"other",
//! "proto"?,"command"?,"commands"?}`, `{"event":"request_step","id",
//! "step":<reflect --json event>}`, `{"event":"response","id","status",
//! "reason","content_type"}`, `{"event":"response_frame","id","frame":
//! <decode --json frame>}`, `{"event":"client","id","verdict":<decode
//! --json verdict>}` (frames that are more than data: an encoding set, an
//! error-response, a refusal), `{"event":"object","id","request_id",
//! "index","value"}` (index 0 is the status map), `{"event":"client_stops",
//! "id","message"}`, `{"event":"client_summary","id","requests":[{"request_id",
//! "command","status","objects","data_bytes","complete","refused"}]}`,
//! `{"event":"response_body","id","cbor"|"lines"}`,
//! `{"event":"disagreement","id","message"}`, `{"event":"end","id",
//! "response_bytes","ms","error"}`, `{"event":"failed","id","message"}`.

use std::io::{self, Write};

use crate::render::style::Paint;
use serde_json::json;

use crate::proxy::{BodySummary, ExchangeKind, ProxyEvent};
use crate::python::escape::hex;
use crate::reactor::Action;
use crate::remote::terminal_safe;
use crate::render::response::{object_text, verdict_json, verdict_text};
use crate::render::{
    frame_json, frame_line, frame_warnings, step_json, value_json, value_text, write_step_pretty,
};
use crate::session::Step;

/// Readable lines for one event.
pub fn write_event(
    w: &mut dyn Write,
    e: &ProxyEvent,
    verbose: bool,
    show_hex: bool,
) -> io::Result<()> {
    match e {
        ProxyEvent::Request {
            id,
            method,
            target,
            request_bytes,
            kind,
            ..
        } => {
            let what = match kind {
                ExchangeKind::Handshake => "version-1 handshake".to_string(),
                ExchangeKind::Command {
                    proto, commands, ..
                } => format!("protocol {proto}: {}", commands.join(", ")),
                ExchangeKind::Reflect { proto } => format!("protocol {proto}: debugreflect"),
                ExchangeKind::Other => "not decoded".to_string(),
            };
            writeln!(
                w,
                "{} {} {}  {}",
                tag(*id),
                method.bold(),
                target.bold(),
                format!("({what}; {request_bytes} bytes)").dimmed()
            )
        }
        ProxyEvent::RequestStep { id, proto, step } => {
            let mut b = Vec::new();
            match step {
                // The frame line already shows the request: one line for
                // what the server runs (the whole JSON with -v).
                Step::Frame {
                    frame,
                    outcome: Ok(Action::RunCommand(rc)),
                    sent: None,
                } if !verbose => {
                    writeln!(
                        b,
                        "{} {}",
                        format!("@{}", frame.offset).dimmed(),
                        frame_line(*proto, &frame.frame, false)
                    )?;
                    let command = rc
                        .command
                        .as_bytes()
                        .map(|c| String::from_utf8_lossy(c).into_owned())
                        .unwrap_or_else(|| value_text(&rc.command));
                    let request = rc
                        .request_id
                        .map(|r| format!(" (request {r})"))
                        .unwrap_or_default();
                    writeln!(
                        b,
                        "  → {} {}{request}",
                        "runcommand".green().bold(),
                        terminal_safe(&command, 200)
                    )?;
                }
                _ => write_step_pretty(&mut b, *proto, step, verbose)?,
            }
            prefixed(w, *id, "→", &b)
        }
        ProxyEvent::Response {
            id,
            status,
            reason,
            content_type,
        } => {
            let st = format!("{status} {reason}");
            let st = if *status < 400 {
                st.green().bold()
            } else {
                st.red().bold()
            };
            writeln!(w, "{} ← {st}  {}", tag(*id), content_type.dimmed())
        }
        ProxyEvent::ResponseFrame { id, proto, frame } => {
            writeln!(
                w,
                "{} ⇠ {} {}",
                tag(*id),
                format!("@{}", frame.offset).dimmed(),
                frame_line(*proto, &frame.frame, verbose)
            )?;
            for warn in frame_warnings(frame) {
                writeln!(w, "{}     {} {warn}", tag(*id), "warning:".yellow())?;
            }
            if show_hex {
                let mut bytes = Vec::new();
                let _ = frame.frame.encode_into(*proto, &mut bytes);
                writeln!(w, "{}     hex {}", tag(*id), hex(&bytes))?;
            }
            Ok(())
        }
        ProxyEvent::ClientVerdict { id, verdict } => {
            writeln!(w, "{}     client: {}", tag(*id), verdict_text(verdict))
        }
        ProxyEvent::Object {
            id,
            request_id,
            index,
            value,
        } => {
            let label = if *index == 0 {
                format!("request {request_id} status")
            } else {
                format!("request {request_id} object {index}")
            };
            let text = object_text(value, if verbose { usize::MAX } else { 300 });
            writeln!(
                w,
                "{}     {} {}",
                tag(*id),
                format!("{label}:").green(),
                terminal_safe(&text, usize::MAX)
            )
        }
        ProxyEvent::ClientStops { id, message } => writeln!(
            w,
            "{} {} {message}",
            tag(*id),
            "✗ the client stops decoding:".red().bold()
        ),
        ProxyEvent::ClientSummary { id, requests } => {
            for r in requests {
                let status = r
                    .status
                    .as_ref()
                    .map(|s| String::from_utf8_lossy(s).into_owned())
                    .unwrap_or_else(|| "-".into());
                writeln!(
                    w,
                    "{} {}",
                    tag(*id),
                    format!(
                        "client: request {} ({}): {status}, {} object(s), {} data bytes{}{}",
                        r.request_id,
                        r.command.as_deref().unwrap_or("?"),
                        r.objects,
                        r.data_bytes,
                        if r.complete { "" } else { ", incomplete" },
                        if r.refused > 0 {
                            format!(", {} frame(s) refused", r.refused)
                        } else {
                            String::new()
                        }
                    )
                    .dimmed()
                )?;
            }
            Ok(())
        }
        ProxyEvent::ResponseBody { id, body } => {
            match body {
                BodySummary::Cbor(values) => {
                    for v in values {
                        let t = value_text(v);
                        let t = if verbose { t } else { terminal_safe(&t, 400) };
                        writeln!(w, "{}   {t}", tag(*id))?;
                    }
                }
                BodySummary::Lines(lines) => {
                    for l in lines {
                        writeln!(w, "{}   {l}", tag(*id))?;
                    }
                }
            }
            Ok(())
        }
        ProxyEvent::Disagreement { id, message } => writeln!(
            w,
            "{} {} {message}",
            tag(*id),
            "✗ the local reactor disagrees:".red().bold()
        ),
        ProxyEvent::Ended {
            id,
            response_bytes,
            elapsed,
            error,
        } => {
            let mut s = format!(
                "{response_bytes} bytes in {:.1} ms",
                elapsed.as_secs_f64() * 1000.0
            );
            if let Some(e) = error {
                s.push_str(&format!(" ({e})"));
            }
            writeln!(w, "{} {}", tag(*id), format!("done: {s}").dimmed())
        }
        ProxyEvent::Failed { id, message } => writeln!(
            w,
            "{} {} {message} (the client got 502)",
            tag(*id),
            "✗ upstream failed:".red().bold()
        ),
    }
}

fn tag(id: u64) -> String {
    format!("#{id}").cyan().to_string()
}

/// Lines written by another printer, each under the exchange's tag.
fn prefixed(w: &mut dyn Write, id: u64, mark: &str, text: &[u8]) -> io::Result<()> {
    for line in String::from_utf8_lossy(text).lines() {
        writeln!(w, "{} {mark} {line}", tag(id))?;
    }
    Ok(())
}

/// The JSON event (schema in the module docs).
pub fn event_json(e: &ProxyEvent) -> serde_json::Value {
    match e {
        ProxyEvent::Request {
            id,
            remote,
            method,
            target,
            request_bytes,
            kind,
        } => {
            let mut v = json!({"event": "request", "id": id, "remote": remote.to_string(),
                "method": method, "target": target, "bytes": request_bytes});
            match kind {
                ExchangeKind::Handshake => v["kind"] = json!("handshake"),
                ExchangeKind::Command {
                    proto,
                    command,
                    commands,
                } => {
                    v["kind"] = json!("command");
                    v["proto"] = json!(proto.name());
                    v["command"] = json!(command);
                    v["commands"] = json!(commands);
                }
                ExchangeKind::Reflect { proto } => {
                    v["kind"] = json!("debugreflect");
                    v["proto"] = json!(proto.name());
                }
                ExchangeKind::Other => v["kind"] = json!("other"),
            }
            v
        }
        ProxyEvent::RequestStep { id, proto, step } => {
            json!({"event": "request_step", "id": id, "step": step_json(*proto, step)})
        }
        ProxyEvent::Response {
            id,
            status,
            reason,
            content_type,
        } => json!({"event": "response", "id": id, "status": status, "reason": reason,
            "content_type": content_type}),
        ProxyEvent::ResponseFrame { id, proto, frame } => json!({"event": "response_frame",
            "id": id, "frame": frame_json(*proto, frame.offset, &frame.frame, &frame_warnings(frame))}),
        ProxyEvent::ClientVerdict { id, verdict } => {
            json!({"event": "client", "id": id, "verdict": verdict_json(verdict)})
        }
        ProxyEvent::Object {
            id,
            request_id,
            index,
            value,
        } => json!({"event": "object", "id": id, "request_id": request_id, "index": index,
            "value": value_json(value)}),
        ProxyEvent::ClientStops { id, message } => {
            json!({"event": "client_stops", "id": id, "message": message})
        }
        ProxyEvent::ClientSummary { id, requests } => json!({"event": "client_summary", "id": id,
            "requests": requests.iter().map(|r| json!({"request_id": r.request_id,
                "command": r.command, "status": r.status.as_ref().map(|s| String::from_utf8_lossy(s).into_owned()),
                "objects": r.objects, "data_bytes": r.data_bytes, "complete": r.complete,
                "refused": r.refused})).collect::<Vec<_>>()}),
        ProxyEvent::ResponseBody { id, body } => match body {
            BodySummary::Cbor(values) => json!({"event": "response_body", "id": id,
                "cbor": values.iter().map(value_json).collect::<Vec<_>>()}),
            BodySummary::Lines(lines) => {
                json!({"event": "response_body", "id": id, "lines": lines})
            }
        },
        ProxyEvent::Disagreement { id, message } => {
            json!({"event": "disagreement", "id": id, "message": message})
        }
        ProxyEvent::Ended {
            id,
            response_bytes,
            elapsed,
            error,
        } => json!({"event": "end", "id": id, "response_bytes": response_bytes,
            "ms": (elapsed.as_secs_f64() * 1000.0 * 10.0).round() / 10.0, "error": error}),
        ProxyEvent::Failed { id, message } => {
            json!({"event": "failed", "id": id, "message": message})
        }
    }
}
