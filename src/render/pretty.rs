//! Reactor steps as readable text: the frame, the action (or the
//! exception a server raises), the frames sent.

use std::io::{self, Write};

use crate::render::style::Paint;
use serde_json::{json, Value as J};

use super::frame::{frame_line, frame_warnings};
use super::ink::{Ink, BLUE_BOLD, DIM, GREEN_BOLD};
use super::value::{pretty_newline, value_json, write_bytes_json_pretty, write_value_json_pretty};
use crate::reactor::{Action, Consumed, RunCommand, ServerCrash};
use crate::session::Step;
use crate::wire::frame::{Frame, Located};
use crate::wire::proto::Proto;

/// Pretty-print an action's meta as indented JSON.
pub(super) fn action_json(a: &Action) -> J {
    json!({ "action": a.name(), "meta": value_json(&a.meta()) })
}

/// The common actions (reflect prints one per frame) as bytes into
/// `out`: `false`, nothing written, for the others.
fn action_into(out: &mut Vec<u8>, ink: Ink, a: &Action) -> bool {
    let state = match a {
        Action::WantFrame { state } => Some(state.name()),
        Action::Noop | Action::SendFrames(_) => None,
        Action::RunCommand(r) => {
            // `serde_json::to_string_pretty(&value_json(meta))`, each line
            // indented, written from the action's fields.
            out.extend_from_slice("  → ".as_bytes());
            ink.paint(out, GREEN_BOLD, a.name().as_bytes());
            out.push(b'\n');
            runcommand_meta_pretty(out, r, b"      ");
            out.push(b'\n');
            return true;
        }
        _ => return false,
    };
    out.extend_from_slice("  → ".as_bytes());
    ink.paint(out, BLUE_BOLD, a.name().as_bytes());
    if let Some(state) = state {
        out.extend_from_slice(b" (state ");
        out.extend_from_slice(state.as_bytes());
        out.push(b')');
    }
    out.push(b'\n');
    true
}

/// `runcommand`'s meta ([`Action::meta`]) as `serde_json::to_string_pretty(
/// &value_json(meta))` lays it out, every line after `prefix`, written
/// from the fields without building the dict: its keys are distinct
/// UTF-8, written in serde's (sorted) order.
pub(crate) fn runcommand_meta_pretty(out: &mut Vec<u8>, r: &RunCommand, prefix: &[u8]) {
    out.extend_from_slice(prefix);
    out.push(b'{');
    pretty_newline(out, prefix, 1);
    out.extend_from_slice(b"\"args\": ");
    write_value_json_pretty(out, &r.args, prefix, 1);
    out.push(b',');
    pretty_newline(out, prefix, 1);
    out.extend_from_slice(b"\"command\": ");
    write_value_json_pretty(out, &r.command, prefix, 1);
    out.push(b',');
    pretty_newline(out, prefix, 1);
    out.extend_from_slice(b"\"data\": ");
    match &r.data {
        Some(d) => write_bytes_json_pretty(out, d, prefix, 1),
        None => out.extend_from_slice(b"null"),
    }
    if let Some(redirect) = &r.redirect {
        out.push(b',');
        pretty_newline(out, prefix, 1);
        out.extend_from_slice(b"\"redirect\": ");
        write_value_json_pretty(out, redirect, prefix, 1);
    }
    if let Some(id) = r.request_id {
        out.push(b',');
        pretty_newline(out, prefix, 1);
        out.extend_from_slice(b"\"requestid\": ");
        super::ink::num(out, id);
    }
    pretty_newline(out, prefix, 0);
    out.push(b'}');
}

/// Compact JSON as serde_json's pretty printer writes the same value (two
/// spaces a level, `": "`, empty `[]`/`{}` kept on one line), every line
/// after `prefix`. Strings are copied as they are.
#[cfg(test)]
fn pretty_json_into(out: &mut Vec<u8>, json: &[u8], prefix: &[u8]) {
    out.extend_from_slice(prefix);
    super::value::reindent_json(out, json, prefix, 0);
}

fn write_action(w: &mut dyn Write, a: &Action) -> io::Result<()> {
    let mut line = Vec::with_capacity(64);
    if action_into(&mut line, Ink::ON, a) {
        return w.write_all(&line);
    }
    let name = match a {
        Action::Error { .. } => a.name().red().bold(),
        Action::RunCommand(_) => a.name().green().bold(),
        _ => a.name().blue().bold(),
    };
    match a {
        Action::WantFrame { state } => writeln!(w, "  → {name} (state {state})"),
        Action::Error { message } => {
            // The message can quote bytes a client sent (a command name):
            // control characters are escaped, not sent to the terminal.
            let text = crate::remote::terminal_safe(&String::from_utf8_lossy(message), usize::MAX);
            writeln!(w, "  → {name}: {}", text.red())
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
    let what = if c.bound {
        "hgframe stops at its memory bound here:"
    } else {
        "a Mercurial server answers HTTP 500 here:"
    };
    writeln!(
        w,
        "  {} {what} {}",
        "✗".red().bold(),
        c.exception.as_str().red()
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
    let mut out = Vec::with_capacity(160);
    frame_step_into(&mut out, Ink::ON, proto, frame, outcome, sent, verbose);
    w.write_all(&out)
}

/// [`write_frame_step`] appended to `out`, its common parts styled by
/// `ink` (the rare ones always are: a writer that strips styles is still
/// needed when `ink` is off).
fn frame_step_into(
    out: &mut Vec<u8>,
    ink: Ink,
    proto: Proto,
    frame: &Located<Frame>,
    outcome: Result<&Action, &ServerCrash>,
    sent: Option<&Consumed>,
    verbose: bool,
) {
    ink.start(out, DIM);
    out.push(b'@');
    super::ink::num(out, frame.offset);
    ink.end(out, DIM);
    out.push(b' ');
    super::frame::frame_line_into(out, ink, proto, &frame.frame, verbose);
    out.push(b'\n');
    for warn in frame_warnings(frame) {
        let _ = writeln!(out, "  {} {warn}", "warning:".yellow().bold());
    }
    match outcome {
        Ok(a) if action_into(out, ink, a) => {}
        _ => {
            let _ = write_outcome(out, outcome);
        }
    }
    let _ = write_sent(out, proto, sent, verbose);
}

/// [`write_step_pretty`] appended to `out`, the common parts of a frame's
/// step styled by `ink` and the rest always styled (so the text must
/// still go through a writer that strips styles when colour is off):
/// `reflect` renders each step into one reused buffer.
pub fn step_pretty_into(out: &mut Vec<u8>, ink: Ink, proto: Proto, step: &Step, verbose: bool) {
    match step {
        Step::Frame {
            frame,
            outcome,
            sent,
        } => frame_step_into(
            out,
            ink,
            proto,
            frame,
            outcome.as_ref(),
            sent.as_ref(),
            verbose,
        ),
        other => {
            let _ = write_step_pretty(out, proto, other, verbose);
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::python::value::Value;
    use crate::render::value::write_value_json;

    #[test]
    fn reindented_json_is_serde_pretty() {
        let values = [
            Value::dict([
                (
                    "args",
                    Value::dict([("nodes", Value::List(vec![Value::Bytes(vec![0xff; 3])]))]),
                ),
                ("command", Value::bytes("known")),
                ("e", Value::List(vec![])),
                ("f", Value::Dict(vec![])),
                ("s", Value::bytes("a \"quoted\" {[,:]} \\ string\n")),
                ("n", Value::None),
                ("i", Value::Int(-5)),
            ]),
            Value::List(vec![Value::List(vec![Value::List(vec![])]), Value::Int(1)]),
            Value::Int(3),
            Value::bytes(""),
        ];
        for v in values {
            let want = serde_json::to_string_pretty(&value_json(&v)).unwrap();
            let want: String = want.lines().map(|l| format!("      {l}\n")).collect();
            let mut json = Vec::new();
            write_value_json(&mut json, &v).unwrap();
            let mut got = Vec::new();
            pretty_json_into(&mut got, &json, b"      ");
            got.push(b'\n');
            assert_eq!(String::from_utf8(got).unwrap(), want);
        }
    }

    /// Differential: runcommand's meta written from its fields against
    /// the meta dict through `value_json` (pretty: serde's pretty printer;
    /// compact: `write_value_json`), on random actions.
    #[test]
    fn runcommand_meta_from_fields_is_the_dicts_json() {
        use crate::render::value::tests::{random_value, xorshift};
        let mut next = xorshift(0x51_7cc1_b727_220a);
        for n in 0..20_000 {
            let r = RunCommand {
                request_id: (n % 3 != 0).then(|| next() as u16),
                command: random_value(&mut next, 1),
                args: random_value(&mut next, 3),
                data: (n % 4 != 0).then(|| match random_value(&mut next, 0) {
                    Value::Bytes(b) => b,
                    _ => vec![0xff, b'a'],
                }),
                redirect: (n % 5 < 2).then(|| random_value(&mut next, 2)),
            };
            let a = Action::RunCommand(r);
            let Action::RunCommand(r) = &a else {
                unreachable!()
            };
            let want = serde_json::to_string_pretty(&value_json(&a.meta())).unwrap();
            let want: String = want.lines().map(|l| format!("      {l}\n")).collect();
            let mut got = Vec::new();
            runcommand_meta_pretty(&mut got, r, b"      ");
            got.push(b'\n');
            assert_eq!(String::from_utf8(got).unwrap(), want, "{r:?}");
            let mut want = Vec::new();
            write_value_json(&mut want, &a.meta()).unwrap();
            let mut got = Vec::new();
            crate::render::json::runcommand_meta_json(&mut got, r);
            assert_eq!(got, want, "{r:?}");
        }
    }

    #[test]
    fn steps_into_a_buffer_are_the_written_steps() {
        let actions = [
            Action::Noop,
            Action::WantFrame {
                state: crate::reactor::State::CommandReceiving,
            },
            Action::Error {
                message: b"bad \x1b".to_vec(),
            },
        ];
        for a in &actions {
            let mut want = Vec::new();
            write_action(&mut want, a).unwrap();
            let mut got = Vec::new();
            if action_into(&mut got, Ink::ON, a) {
                assert_eq!(got, want);
            }
        }
    }

    #[test]
    fn an_error_message_cannot_drive_the_terminal() {
        let mut out = Vec::new();
        let a = Action::Error {
            message: b"unknown command: \x1b]0;owned\x07\x1b[2J".to_vec(),
        };
        write_action(&mut out, &a).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains(r"\x1b]0;owned\x07\x1b[2J"), "{text}");
        assert!(!text.contains("\x07"), "{text:?}");
    }
}
