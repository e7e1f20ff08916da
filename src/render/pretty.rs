//! Reactor steps as readable text: the frame, the action (or the
//! exception a server raises), the frames sent.

use std::io::{self, Write};

use crate::render::style::Paint;
use serde_json::{json, Value as J};

use super::frame::{frame_line, frame_warnings};
use super::value::value_json;
use crate::reactor::{Action, Consumed, ServerCrash};
use crate::session::Step;
use crate::wire::frame::{Frame, Located};
use crate::wire::proto::Proto;

/// Pretty-print an action's meta as indented JSON.
pub(super) fn action_json(a: &Action) -> J {
    json!({ "action": a.name(), "meta": value_json(&a.meta()) })
}

fn write_action(w: &mut dyn Write, a: &Action) -> io::Result<()> {
    // The common actions, written as bytes (reflect prints one per frame).
    let simple = match a {
        Action::WantFrame { state } => Some(Some(state.name())),
        Action::Noop | Action::SendFrames(_) => Some(None),
        _ => None,
    };
    if let Some(state) = simple {
        use super::ink::{Ink, BLUE_BOLD};
        let mut line = Vec::with_capacity(64);
        line.extend_from_slice("  → ".as_bytes());
        Ink::ON.paint(&mut line, BLUE_BOLD, a.name().as_bytes());
        if let Some(state) = state {
            line.extend_from_slice(b" (state ");
            line.extend_from_slice(state.as_bytes());
            line.push(b')');
        }
        line.push(b'\n');
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
    let mut line = Vec::with_capacity(160);
    let ink = super::ink::Ink::ON;
    ink.start(&mut line, super::ink::DIM);
    line.push(b'@');
    super::ink::num(&mut line, frame.offset);
    ink.end(&mut line, super::ink::DIM);
    line.push(b' ');
    super::frame::frame_line_into(&mut line, ink, proto, &frame.frame, verbose);
    line.push(b'\n');
    w.write_all(&line)?;
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

#[cfg(test)]
mod tests {
    use super::*;

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
