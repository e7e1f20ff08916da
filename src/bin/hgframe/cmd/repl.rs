//! `hgframe repl`: the line editor (rustyline) around the library's REPL
//! session — completion, hints, highlighting, multi-line `cbor:` literals,
//! history — or the same commands run as a script when stdin is not a
//! terminal.

use std::borrow::Cow;
use std::cell::RefCell;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::rc::Rc;

use hgframe::human::lines;
use hgframe::render::style::Paint;
use hgframe::repl::complete::{brackets_open, complete_line, hint_for, word_at, Brackets, Shared};
use hgframe::repl::{Delivery, Flow, LineFailure, RemoteSettings, Repl, TargetError};
use hgframe::Proto;
use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::hint::Hinter;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Editor, Helper};

use super::{client_options, Io, Result};
use crate::args::{GlobalOpts, ReplArgs};
use crate::error::Failure;

/// rustyline helper: grammar-aware completion, hints, highlighting,
/// multi-line input while a `cbor:` literal's brackets are open.
pub struct ReplHelper {
    pub shared: Rc<RefCell<Shared>>,
    files: FilenameCompleter,
}

impl ReplHelper {
    pub fn new(shared: Rc<RefCell<Shared>>) -> Self {
        ReplHelper {
            shared,
            files: FilenameCompleter::new(),
        }
    }
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let (start, _) = word_at(line, pos);
        let word = &line[start..pos];
        // file paths after @ and for :save / :load
        if let Some(rest) = word.strip_prefix('@') {
            let (s, c) = self.files.complete(rest, rest.len(), ctx)?;
            return Ok((start + 1 + s, c));
        }
        if line.starts_with(":save ") || line.starts_with(":load ") {
            return self.files.complete(line, pos, ctx);
        }
        let shared = self.shared.borrow();
        let (s, v) = complete_line(&shared, line, pos);
        // A single candidate completes the word: the space after it comes
        // too, so the next field can be typed at once (`:target ` + URL).
        let unique = v.len() == 1 && pos == line.len();
        Ok((
            s,
            v.into_iter()
                .map(|c| Pair {
                    replacement: if unique { format!("{c} ") } else { c.clone() },
                    display: c,
                })
                .collect(),
        ))
    }
}

impl Hinter for ReplHelper {
    type Hint = String;
    fn hint(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> Option<String> {
        if pos < line.len() {
            return None;
        }
        hint_for(self.shared.borrow().proto, line)
    }
}

impl Highlighter for ReplHelper {
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        let shared = self.shared.borrow();
        if !shared.color || line.starts_with(':') || line.starts_with("cmd") {
            return Cow::Borrowed(line);
        }
        let proto = shared.proto;
        let (tf, ff) = if proto.table().has_streams {
            (3, 4)
        } else {
            (0, 1)
        };
        let parts: Vec<&str> = line.splitn(ff + 2, ' ').collect();
        let mut out = String::with_capacity(line.len() + 32);
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            if i == tf && i + 1 < parts.len() {
                let ok = proto.type_by_name(p).is_some() || p.parse::<u8>().is_ok_and(|n| n < 16);
                out.push_str(&if ok {
                    p.cyan().to_string()
                } else {
                    p.red().to_string()
                });
            } else if i == ff && i + 1 < parts.len() {
                let ty = parts.get(tf).copied().unwrap_or("");
                let valid = proto.type_by_name(ty).map(|d| d.flags).unwrap_or(&[]);
                let ok = p
                    .split('|')
                    .all(|f| valid.iter().any(|n| n.name == f) || f.parse::<u8>().is_ok());
                out.push_str(&if ok {
                    p.cyan().to_string()
                } else {
                    p.red().to_string()
                });
            } else {
                out.push_str(p);
            }
        }
        Cow::Owned(out)
    }

    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        if self.shared.borrow().color {
            Cow::Owned(hint.dimmed().to_string())
        } else {
            Cow::Borrowed(hint)
        }
    }

    fn highlight_char(&self, _line: &str, _pos: usize, _kind: CmdKind) -> bool {
        self.shared.borrow().color
    }
}

impl Validator for ReplHelper {
    fn validate(&self, ctx: &mut ValidationContext<'_>) -> rustyline::Result<ValidationResult> {
        Ok(if brackets_open(ctx.input()) {
            ValidationResult::Incomplete
        } else {
            ValidationResult::Valid(None)
        })
    }
}

impl Helper for ReplHelper {}

/// Where history is kept: `$HGFRAME_HISTORY`, else the XDG state directory.
pub fn history_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("HGFRAME_HISTORY") {
        return Some(PathBuf::from(p));
    }
    let base = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))?;
    Some(base.join("hgframe").join("history"))
}

/// `hgframe repl`.
pub fn run(global: &GlobalOpts, a: ReplArgs, io: &mut Io<'_>) -> Result<u8> {
    let interactive = std::io::stdin().is_terminal() && io.stdout_is_terminal;
    let color = io.color;
    let proto = global.proto.unwrap_or(Proto::DEFAULT);
    let settings = RemoteSettings {
        client: client_options(&a.remote)?,
        header_lines: a.remote.headers.clone(),
        delivery: if a.show.dry_run {
            Delivery::DryRun
        } else if a.show.curl {
            Delivery::Curl
        } else {
            Delivery::Send
        },
    };
    let mut repl = Repl::new(proto, settings, global.verbose > 0, interactive, color);
    if let Some(url) = &a.url {
        if let Err(e) = repl.target(url, io.stdout) {
            let f: Failure = match e {
                TargetError::Io(e) => e.into(),
                TargetError::Client(c) => c.into(),
                TargetError::Detect(d) => (*d).into(),
            };
            return Err(f);
        }
    }
    if !interactive {
        // A script: the same commands, no prompt. Every line runs; the exit
        // status is that of the first line that failed. Errors are in the
        // session's output (stdout) where they happened, and on stderr too
        // when stdout is not the terminal (a file, a pipe).
        let echo = !io.stdout_is_terminal;
        let mut raw = Vec::new();
        let mut buf = String::new();
        let mut brackets = Brackets::default();
        let (mut number, mut started) = (0usize, 0usize);
        loop {
            number += 1;
            let text = match lines::read_line(io.stdin, &mut raw, lines::MAX_LINE)
                .and_then(|more| Ok(more.then_some(lines::text_of(&raw)?)))
            {
                Ok(None) => break,
                Ok(Some(t)) => t,
                Err(e) => {
                    let m = format!("error: stdin line {number}: {e}");
                    writeln!(io.stdout, "{}", m.as_str().red())?;
                    if echo {
                        io.stdout.flush()?;
                        writeln!(io.stderr, "{m}")?;
                    }
                    repl.note_failure(LineFailure::Usage);
                    if matches!(e, lines::LineError::NoEnd { .. }) {
                        break;
                    }
                    continue;
                }
            };
            if buf.is_empty() {
                started = number;
                brackets = Brackets::default();
            } else {
                if buf.len() + 1 + text.len() > lines::MAX_LINE {
                    let m = format!(
                        "error: stdin line {started}: the cbor: literal begun here runs past {} bytes over its continuation lines (a bracket is never closed?); it was not run",
                        lines::MAX_LINE
                    );
                    writeln!(io.stdout, "{}", m.as_str().red())?;
                    if echo {
                        io.stdout.flush()?;
                        writeln!(io.stderr, "{m}")?;
                    }
                    repl.note_failure(LineFailure::Usage);
                    buf.clear();
                    continue;
                }
                buf.push('\n');
                brackets.feed("\n");
            }
            buf.push_str(text);
            brackets.feed(text);
            if brackets.open() {
                continue;
            }
            let l = std::mem::take(&mut buf);
            let flow = repl.handle(&l, io.stdout)?;
            // Errors also go to stderr, with where they are: the session's
            // output (stdout) may be a file.
            if let Some(m) = repl.take_last_error().filter(|_| echo) {
                io.stdout.flush()?;
                // `error (protocol 0006): …` → `error: stdin line N (protocol 0006): …`
                match m.strip_prefix("error (") {
                    Some(rest) => writeln!(io.stderr, "error: stdin line {started} ({rest}")?,
                    None => {
                        let m = m.strip_prefix("error: ").unwrap_or(&m);
                        writeln!(io.stderr, "error: stdin line {started}: {m}")?
                    }
                }
            }
            if flow == Flow::Quit {
                break;
            }
        }
        if !buf.is_empty() {
            let m = format!(
                "error: stdin line {started}: the input ends inside the cbor: literal begun here (a bracket is never closed); the line was not run"
            );
            writeln!(io.stdout, "{}", m.as_str().red())?;
            if echo {
                io.stdout.flush()?;
                writeln!(io.stderr, "{m}")?;
            }
            repl.note_failure(LineFailure::Usage);
        }
        io.stdout.flush()?;
        return Ok(repl.first_failure().map_or(0, exit_code));
    }
    let config = rustyline::Config::builder()
        .auto_add_history(false)
        .completion_type(rustyline::CompletionType::List)
        .history_ignore_dups(true)
        .map_err(|e| Failure::Usage(e.to_string()))?
        .max_history_size(10_000)
        .map_err(|e| Failure::Usage(e.to_string()))?
        .build();
    let mut rl: Editor<ReplHelper, rustyline::history::DefaultHistory> =
        Editor::with_config(config)
            .map_err(|e| Failure::Usage(format!("cannot start the line editor: {e}")))?;
    rl.set_helper(Some(ReplHelper::new(repl.shared())));
    let hist = history_path();
    if let Some(h) = &hist {
        let _ = rl.load_history(h);
    }
    writeln!(
        io.stdout,
        "hgframe repl, protocol {} ({}). :help for commands, Tab completes, Ctrl-D quits.",
        repl.proto(),
        repl.proto().table().origin
    )?;
    io.stdout.flush()?;
    loop {
        match rl.readline(&repl.prompt()) {
            Ok(line) => {
                if !line.trim().is_empty() {
                    let _ = rl.add_history_entry(line.as_str());
                    if let Some(h) = &hist {
                        if let Some(d) = h.parent() {
                            let _ = std::fs::create_dir_all(d);
                        }
                        let _ = rl.save_history(h);
                    }
                }
                let flow = repl.handle(&line, io.stdout)?;
                io.stdout.flush()?;
                if flow == Flow::Quit {
                    break;
                }
            }
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(Failure::Usage(format!("line editor: {e}"))),
        }
    }
    Ok(0)
}

/// The documented exit code of a failed line.
fn exit_code(f: LineFailure) -> u8 {
    match f {
        LineFailure::Usage => 2,
        LineFailure::Transport => 3,
        LineFailure::Http => 4,
        LineFailure::Undecodable => 5,
    }
}
