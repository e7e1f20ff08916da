//! `hgframe repl`: the interactive face of the tool (rustyline).
//!
//! Every line is answered as it is typed: frame lines go to the local
//! reactor at once (or are queued for one HTTP request when the target is a
//! server), meta-commands start with `:`. The same commands run as a script
//! when stdin is not a terminal. `:save` writes the session as a replay
//! script (`hgframe replay` checks it); the expected output in it is
//! produced by running the saved script, so it always passes.

use std::borrow::Cow;
use std::cell::RefCell;
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::rc::Rc;

use colored::Colorize;
use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::hint::Hinter;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Editor, Helper};

use crate::cli::{GlobalOpts, RemoteOpts, ReplArgs, SendArgs};
use crate::client::Client;
use crate::commands::{parse_responder, CmdError, Io};
use crate::human::parse_human;
use crate::python::escape::hex;
use crate::reactor::ReactorOptions;
use crate::reflect::{Responder, Session, Step};
use crate::render;
use crate::replay::{run_script, Exec, RunOptions, Shorthand};
use crate::wire::frame::{Frame, FrameDecoder, LengthMode};
use crate::wire::proto::Proto;

/// Meta-commands with a one-line description.
pub const META: &[(&str, &str)] = &[
    (":help", "this list"),
    (
        ":proto",
        "P: switch protocol revision (0001, 0002, 0006); resets",
    ),
    (":target", "URL|local: where frames go"),
    (":reset", "a fresh reactor (drops the current request)"),
    (
        ":eof",
        "end of input: what a half-duplex reactor releases; starts a new request",
    ),
    (
        ":defer",
        "on|off: buffer responses until :eof (half-duplex)",
    ),
    (
        ":respond",
        "ID|COMMAND TEXT: canned response (text, @FILE, cbor:LITERAL, error:TEXT)",
    ),
    (":show", "the frames of the current request, decoded"),
    (":hex", "the current request body as hex"),
    (
        ":send",
        "server target: post the queued frames to debugreflect",
    ),
    (":reflect", "same as :send"),
    (
        ":run",
        "COMMAND [NAME=VALUE ...]: run a real command on the server (as `send`)",
    ),
    (":save", "FILE: write the session as a replay script"),
    (":load", "FILE: run a script's lines here"),
    (":quit", "leave (also Ctrl-D)"),
];

/// v2 command names of Mercurial 6.0 (completion before a server is known).
const KNOWN_COMMANDS: &[&str] = &[
    "branchmap",
    "capabilities",
    "changesetdata",
    "filedata",
    "filesdata",
    "heads",
    "known",
    "listkeys",
    "lookup",
    "manifestdata",
    "pushkey",
    "rawstorefiledata",
];

/// What completion needs to know about the session.
#[derive(Debug, Clone)]
pub struct Shared {
    pub proto: Proto,
    pub commands: Vec<String>,
    pub color: bool,
}

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

/// Where the word under the cursor starts and which field it is.
fn word_at(line: &str, pos: usize) -> (usize, usize) {
    let before = &line[..pos];
    let start = before.rfind(' ').map_or(0, |i| i + 1);
    let field = before[..start].matches(' ').count();
    (start, field)
}

fn pairs<'a>(items: impl IntoIterator<Item = &'a str>, prefix: &str) -> Vec<Pair> {
    items
        .into_iter()
        .filter(|c| c.starts_with(prefix))
        .map(|c| Pair {
            display: c.to_string(),
            replacement: c.to_string(),
        })
        .collect()
}

/// Completion candidates for a line (pure: tested directly).
pub fn complete_line(shared: &Shared, line: &str, pos: usize) -> (usize, Vec<String>) {
    let (start, field) = word_at(line, pos);
    let word = &line[start..pos];
    let proto = shared.proto;
    let t = proto.table();
    let words: Vec<&str> = line[..start].split(' ').filter(|w| !w.is_empty()).collect();
    let out = |v: Vec<Pair>| v.into_iter().map(|p| p.replacement).collect::<Vec<_>>();
    if field == 0 {
        if word.starts_with(':') || word.is_empty() {
            let mut v = out(pairs(META.iter().map(|(m, _)| *m), word));
            if word.is_empty() || "cmd".starts_with(word) {
                v.push("cmd".into());
            }
            if !t.has_streams {
                v.extend(out(pairs(t.types.iter().map(|d| d.name), word)));
            }
            return (start, v);
        }
        if !t.has_streams {
            let mut v = out(pairs(t.types.iter().map(|d| d.name), word));
            if "cmd".starts_with(word) {
                v.push("cmd".into());
            }
            return (start, v);
        }
        return (start, out(pairs(["cmd"], word)));
    }
    match words.first().copied() {
        Some(":proto") => return (start, out(pairs(["0001", "0002", "0006"], word))),
        Some(":defer") => return (start, out(pairs(["on", "off"], word))),
        Some(":target") => return (start, out(pairs(["local", "http://127.0.0.1:8000/"], word))),
        Some(":run") if field == 1 => {
            return (
                start,
                out(pairs(shared.commands.iter().map(|s| s.as_str()), word)),
            )
        }
        Some("cmd") if field == 1 => {
            return (
                start,
                out(pairs(shared.commands.iter().map(|s| s.as_str()), word)),
            )
        }
        _ => {}
    }
    // Flag lists: complete the item after the last `|`.
    let (item_start, item) = match word.rfind('|') {
        Some(i) => (start + i + 1, &word[i + 1..]),
        None => (start, word),
    };
    let (tf, ff) = if t.has_streams { (3, 4) } else { (0, 1) };
    if t.has_streams && field == 2 {
        return (
            item_start,
            out(pairs(t.stream_flags.iter().map(|f| f.name), item)),
        );
    }
    if field == tf {
        return (start, out(pairs(t.types.iter().map(|d| d.name), word)));
    }
    if field == ff {
        let ty = words.get(tf).copied().unwrap_or("");
        let names: Vec<&str> = proto
            .type_by_name(ty)
            .or_else(|| ty.parse::<u8>().ok().and_then(|n| proto.type_def(n)))
            .map(|d| d.flags.iter().map(|f| f.name).collect())
            .unwrap_or_default();
        return (item_start, out(pairs(names, item)));
    }
    (start, Vec::new())
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
        Ok((
            s,
            v.into_iter()
                .map(|c| Pair {
                    display: c.clone(),
                    replacement: c,
                })
                .collect(),
        ))
    }
}

/// The fields still to type, as a hint.
pub fn hint_for(proto: Proto, line: &str) -> Option<String> {
    if line.is_empty() || line.starts_with(':') {
        if let Some(m) = META
            .iter()
            .find(|(m, _)| m.starts_with(line) && *m != line && !line.is_empty())
        {
            return Some(m.0[line.len()..].to_string());
        }
        if let Some((_, d)) = META.iter().find(|(m, _)| line.trim_end() == *m) {
            return Some(format!("  {d}"));
        }
        return None;
    }
    if line == "cmd" || line == "cmd " {
        return Some(
            if line.ends_with(' ') {
                "NAME [ARG=VALUE ...]"
            } else {
                " NAME [ARG=VALUE ...]"
            }
            .into(),
        );
    }
    if line.starts_with("cmd ") {
        return None;
    }
    let names: &[&str] = if proto.table().has_streams {
        &[
            "<request-id>",
            "<stream-id>",
            "<stream-flags>",
            "<type>",
            "<flags>",
            "<payload>",
        ]
    } else {
        &["<type>", "<flags>", "<payload>"]
    };
    // Fields already begun; when the line ends with a space the next field
    // is still to type.
    let mut typed = line.split(' ').count();
    if line.ends_with(' ') {
        typed -= 1;
    }
    if typed >= names.len() {
        return None;
    }
    let rest = &names[typed..];
    let sep = if line.ends_with(' ') { "" } else { " " };
    Some(format!("{sep}{}", rest.join(" ")))
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

/// Whether a `cbor:` literal's brackets are still open (outside quotes).
pub fn brackets_open(line: &str) -> bool {
    let Some(i) = line.find("cbor:") else {
        return false;
    };
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in line[i + 5..].chars() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '[' | '{' | '(' => depth += 1,
            ']' | '}' | ')' => depth -= 1,
            _ => {}
        }
    }
    depth > 0
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

enum Target {
    Local,
    Url { client: Box<Client>, url: String },
}

/// The session state behind the prompt.
pub struct Repl {
    shared: Rc<RefCell<Shared>>,
    proto: Proto,
    target: Target,
    remote: RemoteOpts,
    defer: bool,
    respond: Vec<(String, String)>,
    session: Session,
    dec: FrameDecoder,
    shorthand: Shorthand,
    request_frames: Vec<Frame>,
    request_lines: Vec<String>,
    script: Vec<String>,
    /// Directives that take effect with the next request.
    pending: Vec<String>,
    verbose: bool,
    interactive: bool,
}

/// Whether to keep reading.
#[derive(Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Quit,
}

impl Repl {
    pub fn new(
        proto: Proto,
        remote: RemoteOpts,
        verbose: bool,
        interactive: bool,
        color: bool,
    ) -> Repl {
        let shared = Rc::new(RefCell::new(Shared {
            proto,
            commands: KNOWN_COMMANDS.iter().map(|s| s.to_string()).collect(),
            color,
        }));
        Repl {
            shared,
            proto,
            target: Target::Local,
            remote,
            defer: false,
            respond: Vec::new(),
            session: Session::new(proto, ReactorOptions::default(), Responder::default()),
            dec: FrameDecoder::new(proto, LengthMode::Mercurial),
            shorthand: Shorthand::new(),
            request_frames: Vec::new(),
            request_lines: Vec::new(),
            script: Vec::new(),
            pending: Vec::new(),
            verbose,
            interactive,
        }
    }

    pub fn shared(&self) -> Rc<RefCell<Shared>> {
        self.shared.clone()
    }

    /// The prompt: revision, target and reactor state.
    pub fn prompt(&self) -> String {
        let target = match &self.target {
            Target::Local => "local".to_string(),
            Target::Url { url, .. } => url.trim_end_matches('/').to_string(),
        };
        let state = match &self.target {
            Target::Local => self.session.reactor.state().to_string(),
            Target::Url { .. } => format!("{} queued", self.request_frames.len()),
        };
        format!("hgframe {} {target} [{state}]> ", self.proto)
    }

    fn responder(&self) -> Result<Responder, CmdError> {
        let specs: Vec<String> = self
            .respond
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        parse_responder(self.proto, &specs)
    }

    fn fresh_request(&mut self) {
        let responder = self.responder().unwrap_or_default();
        self.session = Session::new(
            self.proto,
            ReactorOptions {
                defer_output: self.defer,
            },
            responder,
        );
        self.dec = FrameDecoder::new(self.proto, LengthMode::Mercurial);
        self.shorthand = Shorthand::new();
        self.request_frames.clear();
        self.request_lines.clear();
    }

    fn set_proto(&mut self, p: Proto) {
        self.proto = p;
        self.shared.borrow_mut().proto = p;
        self.script.clear();
        self.pending.clear();
        self.respond.clear();
        self.defer = false;
        self.fresh_request();
    }

    /// Handle one input line.
    pub fn handle(&mut self, line: &str, out: &mut dyn Write) -> io::Result<Flow> {
        let line = line.replace('\n', " ");
        let line = line.trim_end_matches('\r');
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            return Ok(Flow::Continue);
        }
        if !self.interactive {
            writeln!(out, "{}", format!("> {line}").bold())?;
        }
        let r = if let Some(meta) = trimmed.strip_prefix(':') {
            self.meta(meta, out)
        } else {
            self.frame_line(line, out)
        };
        match r {
            Ok(f) => Ok(f),
            Err(e) => {
                writeln!(out, "{}", e.to_string().red())?;
                Ok(Flow::Continue)
            }
        }
    }

    fn frame_line(&mut self, line: &str, out: &mut dyn Write) -> Result<Flow, CmdError> {
        let words: Vec<&str> = line.split_whitespace().collect();
        let frames = if words.first() == Some(&"cmd") {
            self.shorthand
                .expand(self.proto, &words[1..])
                .map_err(|e| CmdError::Usage(format!("error: {e}")))?
        } else {
            let p = parse_human(self.proto, line).map_err(|e| {
                CmdError::Usage(format!("error (protocol {}): {}", self.proto, e.render()))
            })?;
            for w in &p.warnings {
                writeln!(out, "{} {}", "warning:".yellow(), w.message)?;
            }
            self.shorthand.observe(&p.frame);
            vec![p.frame]
        };
        self.request_lines.push(format!("> {line}"));
        match &self.target {
            Target::Local => {
                let proto = self.proto;
                let verbose = self.verbose;
                for f in frames {
                    let mut b = Vec::new();
                    f.encode_into(proto, &mut b)
                        .map_err(|e| CmdError::Usage(e.to_string()))?;
                    self.request_frames.push(f);
                    self.dec.feed(&b);
                    let mut err = None;
                    while let Some(fr) = self.dec.next_frame() {
                        self.session.frame(fr, &mut |s: Step| {
                            if let Err(e) = render::write_step_pretty(out, proto, &s, verbose) {
                                err.get_or_insert(e);
                            }
                        });
                    }
                    if let Some(e) = err {
                        return Err(e.into());
                    }
                }
            }
            Target::Url { .. } => {
                for f in frames {
                    writeln!(
                        out,
                        "queued {}",
                        render::frame_line(self.proto, &f, self.verbose)
                    )?;
                    self.request_frames.push(f);
                }
                writeln!(
                    out,
                    "{}",
                    "(:send posts the queued frames as one request)".dimmed()
                )?;
            }
        }
        Ok(Flow::Continue)
    }

    fn body(&self) -> Vec<u8> {
        let mut b = Vec::new();
        for f in &self.request_frames {
            let _ = f.encode_into(self.proto, &mut b);
        }
        b
    }

    fn meta(&mut self, meta: &str, out: &mut dyn Write) -> Result<Flow, CmdError> {
        let (cmd, arg) = match meta.split_once(' ') {
            Some((c, a)) => (c, a.trim()),
            None => (meta, ""),
        };
        match cmd {
            "help" | "h" | "?" => {
                writeln!(out, "Frame lines: a human string, e.g. 1 1 stream-begin command-request new cbor:{{b'name': b'heads'}}")?;
                writeln!(out, "  or a shorthand: cmd NAME [ARG=VALUE ...] (next request id, stream flags filled in)")?;
                for (m, d) in META {
                    writeln!(out, "  {m:<10} {d}")?;
                }
            }
            "quit" | "q" | "exit" => return Ok(Flow::Quit),
            "proto" => {
                let p: Proto = arg.parse().map_err(CmdError::Usage)?;
                self.set_proto(p);
                writeln!(out, "protocol {p}: {} (a fresh reactor)", p.table().origin)?;
            }
            "reset" => {
                self.fresh_request();
                writeln!(
                    out,
                    "a fresh reactor (state {})",
                    self.session.reactor.state()
                )?;
            }
            "defer" => {
                self.defer = match arg {
                    "on" => true,
                    "off" => false,
                    _ => {
                        return Err(CmdError::Usage(format!(
                            "error: :defer takes on or off, not {arg:?}"
                        )))
                    }
                };
                self.fresh_request();
                self.script.push(format!("defer {arg}"));
                writeln!(out, "deferred output {arg} (a fresh reactor)")?;
            }
            "respond" => {
                let Some((k, v)) = arg.split_once(' ') else {
                    return Err(CmdError::Usage("error: :respond ID|COMMAND TEXT".into()));
                };
                self.respond.push((k.to_string(), v.to_string()));
                let r = match self.responder() {
                    Ok(r) => r,
                    Err(e) => {
                        self.respond.pop();
                        return Err(e);
                    }
                };
                if self.request_lines.is_empty() {
                    self.session.responder = r;
                    self.script.push(format!("respond {k} {v}"));
                    writeln!(out, "response for {k} registered")?;
                } else {
                    self.pending.push(format!("respond {k} {v}"));
                    writeln!(out, "response for {k} registered: it takes effect with the next request (after :eof)")?;
                }
            }
            "eof" => self.eof(out)?,
            "show" => {
                if self.request_frames.is_empty() {
                    writeln!(out, "(no frames in the current request)")?;
                }
                for f in &self.request_frames {
                    writeln!(out, "{}", render::frame_line(self.proto, f, true))?;
                }
            }
            "hex" => writeln!(out, "{}", hex(&self.body()))?,
            "target" => self.set_target(arg, out)?,
            "send" | "reflect" => self.send(out)?,
            "run" => {
                let Target::Url { url, .. } = &self.target else {
                    return Err(CmdError::Usage(
                        "error: :run needs a server target (:target URL)".into(),
                    ));
                };
                let words: Vec<String> = arg.split_whitespace().map(String::from).collect();
                if words.is_empty() {
                    return Err(CmdError::Usage(
                        "error: :run COMMAND [NAME=VALUE ...]".into(),
                    ));
                }
                let args = SendArgs {
                    url: url.clone(),
                    command: words,
                    data: None,
                    rw: false,
                    encodings: vec!["identity".into()],
                    json: false,
                    remote: self.remote.clone(),
                };
                let g = GlobalOpts {
                    proto: Some(Proto::P0006),
                    color: crate::cli::ColorChoice::Auto,
                    verbose: self.verbose as u8,
                };
                let mut err = Vec::new();
                let r = crate::remote::send(&g, args, &mut io::empty(), out, &mut err);
                out.write_all(&err)?;
                r?;
            }
            "save" => self.save(arg, out)?,
            "load" => return self.load(arg, out),
            other => {
                let names: Vec<&str> = META.iter().map(|(m, _)| &m[1..]).collect();
                let hint = crate::human::did_you_mean(other, names.into_iter())
                    .map(|s| format!(" (did you mean :{s}?)"))
                    .unwrap_or_default();
                return Err(CmdError::Usage(format!(
                    "error: unknown command :{other}{hint}; :help lists them"
                )));
            }
        }
        Ok(Flow::Continue)
    }

    fn eof(&mut self, out: &mut dyn Write) -> Result<(), CmdError> {
        if let Target::Url { .. } = self.target {
            return self.send(out);
        }
        let proto = self.proto;
        let verbose = self.verbose;
        if let Err(e) = self.dec.finish() {
            writeln!(out, "{} {e}", "✗".red())?;
        } else {
            let mut err = None;
            self.session.eof(&mut |s: Step| {
                if let Err(e) = render::write_step_pretty(out, proto, &s, verbose) {
                    err.get_or_insert(e);
                }
            });
            if let Some(e) = err {
                return Err(e.into());
            }
        }
        self.request_lines.push("eof".into());
        self.script.append(&mut self.request_lines);
        self.script.append(&mut self.pending);
        self.fresh_request();
        writeln!(
            out,
            "{}",
            "(a new request starts with a fresh reactor)".dimmed()
        )?;
        Ok(())
    }

    fn set_target(&mut self, arg: &str, out: &mut dyn Write) -> Result<(), CmdError> {
        if arg.is_empty() || arg == "local" {
            self.target = Target::Local;
            self.fresh_request();
            writeln!(out, "target: local reactor")?;
            return Ok(());
        }
        let client = crate::remote::make_client(&self.remote, arg)?;
        let (p, why) = crate::remote::detect_proto(&client)?;
        if p != self.proto {
            self.set_proto(p);
        }
        writeln!(out, "target: {arg} (protocol {p}: {why})")?;
        // Command names for completion, from the server's capabilities.
        if p == Proto::P0006 {
            let mut stream = crate::request::ClientStream::new(1);
            let mut body = Vec::new();
            let _ = crate::request::settings_frame(&mut stream, &[b"identity".to_vec()])
                .encode_into(p, &mut body);
            if let Ok(fs) =
                crate::request::command_frames(&mut stream, 1, b"capabilities", None, None, None)
            {
                for f in fs {
                    let _ = f.encode_into(p, &mut body);
                }
            }
            let url = client.target.command_url(p, false, "capabilities");
            if let Ok(reply) = client.post_frames(&url, p, body) {
                let d = crate::response::decode_response(&reply.body);
                if let Some(crate::python::value::Value::Dict(caps)) =
                    d.requests.first().and_then(|r| r.objects().first())
                {
                    if let Some(crate::python::value::Value::Dict(cmds)) =
                        crate::python::value::dict_get(
                            caps,
                            &crate::python::value::Value::bytes("commands"),
                        )
                    {
                        let names: Vec<String> = cmds
                            .iter()
                            .filter_map(|(k, _)| {
                                k.as_bytes()
                                    .map(|b| String::from_utf8_lossy(b).into_owned())
                            })
                            .collect();
                        if !names.is_empty() {
                            writeln!(out, "server commands: {}", names.join(", "))?;
                            self.shared.borrow_mut().commands = names;
                        }
                    }
                }
            }
        }
        self.target = Target::Url {
            client: Box::new(client),
            url: arg.to_string(),
        };
        self.fresh_request();
        Ok(())
    }

    fn send(&mut self, out: &mut dyn Write) -> Result<(), CmdError> {
        let Target::Url { url, .. } = &self.target else {
            return Err(CmdError::Usage(
                "error: :send needs a server target (:target URL); locally use :eof".into(),
            ));
        };
        let body = self.body();
        let g = GlobalOpts {
            proto: Some(self.proto),
            color: crate::cli::ColorChoice::Auto,
            verbose: self.verbose as u8,
        };
        let mut err = Vec::new();
        let r = crate::remote::reflect_remote(
            &g,
            &url.clone(),
            false,
            false,
            false,
            false,
            &self.remote,
            None,
            body,
            out,
            &mut err,
        );
        out.write_all(&err)?;
        r?;
        self.request_lines.push("eof".into());
        self.script.append(&mut self.request_lines);
        self.fresh_request();
        Ok(())
    }

    /// The session as a script skeleton (directives, frames, eofs).
    fn skeleton(&self) -> String {
        let mut s = format!("# saved by hgframe repl\nproto {}\n", self.proto);
        if let Target::Url { url, .. } = &self.target {
            s.push_str(&format!("target {url}\n"));
        }
        for l in self.script.iter().chain(&self.request_lines) {
            s.push_str(l);
            s.push('\n');
        }
        if !self.request_lines.is_empty() {
            s.push_str("eof\n");
        }
        s
    }

    fn save(&mut self, arg: &str, out: &mut dyn Write) -> Result<(), CmdError> {
        if arg.is_empty() {
            return Err(CmdError::Usage("error: :save FILE".into()));
        }
        let skeleton = self.skeleton();
        let exec = match &self.target {
            Target::Local => Exec::Local,
            Target::Url { client, .. } => Exec::Remote(client),
        };
        let opts = RunOptions {
            proto: Some(self.proto),
            update: true,
            keep_outputs: false,
            check: true,
        };
        let report = run_script(
            arg,
            io::Cursor::new(skeleton.as_bytes()),
            &exec,
            Some(self.proto),
            &opts,
            |_| {},
        )
        .map_err(|e| CmdError::Usage(format!("error: {e}")))?;
        let text = report.updated.unwrap_or(skeleton);
        std::fs::write(arg, text)
            .map_err(|e| CmdError::Usage(format!("error: cannot write {arg}: {e}")))?;
        writeln!(
            out,
            "saved {} request(s), {} frame(s) to {arg} (check it with: hgframe replay {arg})",
            report.requests, report.frames
        )?;
        Ok(())
    }

    fn load(&mut self, arg: &str, out: &mut dyn Write) -> Result<Flow, CmdError> {
        let f = std::fs::File::open(arg)
            .map_err(|e| CmdError::Usage(format!("error: cannot open {arg}: {e}")))?;
        for l in crate::script::read_lines(arg.to_string(), io::BufReader::new(f)) {
            let l = l.map_err(|e| CmdError::Usage(e.to_string()))?;
            use crate::script::Item;
            let cmd = match &l.item {
                Item::Frame(f) => f.clone(),
                Item::Eof => ":eof".into(),
                Item::Proto(p) => format!(":proto {p}"),
                Item::Defer(d) => format!(":defer {}", if *d { "on" } else { "off" }),
                Item::Respond(k, v) => format!(":respond {k} {v}"),
                Item::Bin(h) => {
                    writeln!(out, "(raw bytes are not replayed here: {h})")?;
                    continue;
                }
                _ => continue,
            };
            if self.handle(&cmd, out)? == Flow::Quit {
                return Ok(Flow::Quit);
            }
        }
        Ok(Flow::Continue)
    }
}

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
pub fn run(global: &GlobalOpts, a: ReplArgs, io: &mut Io<'_>) -> Result<u8, CmdError> {
    let interactive = std::io::stdin().is_terminal() && io.stdout_is_terminal;
    let color = colored::control::SHOULD_COLORIZE.should_colorize();
    let proto = global.proto.unwrap_or(Proto::P0006);
    let mut repl = Repl::new(
        proto,
        a.remote.clone(),
        global.verbose > 0,
        interactive,
        color,
    );
    if let Some(url) = &a.url {
        if let Err(e) = repl.set_target(url, io.stdout) {
            writeln!(io.stderr, "{e}")?;
            return Err(e);
        }
    }
    if !interactive {
        // A script: the same commands, no prompt.
        let mut line = String::new();
        let mut buf = String::new();
        loop {
            line.clear();
            if io.stdin.read_line(&mut line)? == 0 {
                break;
            }
            buf.push_str(&line);
            if brackets_open(&buf) {
                continue;
            }
            let l = std::mem::take(&mut buf);
            if repl.handle(l.trim_end_matches('\n'), io.stdout)? == Flow::Quit {
                break;
            }
        }
        io.stdout.flush()?;
        return Ok(0);
    }
    let config = rustyline::Config::builder()
        .auto_add_history(false)
        .completion_type(rustyline::CompletionType::List)
        .history_ignore_dups(true)
        .map_err(|e| CmdError::Usage(e.to_string()))?
        .max_history_size(10_000)
        .map_err(|e| CmdError::Usage(e.to_string()))?
        .build();
    let mut rl: Editor<ReplHelper, rustyline::history::DefaultHistory> =
        Editor::with_config(config)
            .map_err(|e| CmdError::Usage(format!("error: cannot start the line editor: {e}")))?;
    rl.set_helper(Some(ReplHelper::new(repl.shared())));
    let hist = history_path();
    if let Some(h) = &hist {
        let _ = rl.load_history(h);
    }
    writeln!(
        io.stdout,
        "hgframe repl, protocol {} ({}). :help for commands, Tab completes, Ctrl-D quits.",
        repl.proto,
        repl.proto.table().origin
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
            Err(e) => return Err(CmdError::Usage(format!("error: line editor: {e}"))),
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared(p: Proto) -> Shared {
        Shared {
            proto: p,
            commands: vec!["heads".into(), "known".into()],
            color: false,
        }
    }

    #[test]
    fn completes_by_field() {
        let s = shared(Proto::P0006);
        assert_eq!(
            complete_line(&s, "1 1 stream-begin command-re", 27).1,
            vec!["command-request", "command-response"]
        );
        assert_eq!(
            complete_line(&s, "1 1 0 command-request ne", 24).1,
            vec!["new"]
        );
        assert_eq!(
            complete_line(&s, "1 1 0 command-request new|m", 27),
            (26, vec!["more".to_string()])
        );
        assert_eq!(
            complete_line(&s, "1 1 stream-b", 12).1,
            vec!["stream-begin"]
        );
        assert_eq!(complete_line(&s, ":ta", 3).1, vec![":target"]);
        assert_eq!(complete_line(&s, "cmd he", 6).1, vec!["heads"]);
        let s1 = shared(Proto::P0001);
        assert_eq!(
            complete_line(&s1, "command-name have-a", 19).1,
            vec!["have-args"]
        );
    }

    #[test]
    fn hints_and_brackets() {
        assert_eq!(
            hint_for(Proto::P0006, "1 1 ").as_deref(),
            Some("<stream-flags> <type> <flags> <payload>")
        );
        assert_eq!(hint_for(Proto::P0006, ":sa").as_deref(), Some("ve"));
        assert!(brackets_open("1 1 0 command-request new cbor:{b'name': ["));
        assert!(!brackets_open(
            "1 1 0 command-request new cbor:{b'n[ame': 1}"
        ));
    }
}
