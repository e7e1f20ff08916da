//! The REPL's session: every line answered as it is typed. Frame lines go
//! to the local reactor at once (or are queued for one HTTP request when
//! the target is a server), meta-commands start with `:`. `:save` writes
//! the session as a replay script whose expected output comes from running
//! it, so it always passes.
//!
//! No terminal here: lines come in as strings and output goes to a
//! `Write`. The line editor (rustyline), history and the prompt loop live
//! in the binary; completion is [`complete`].

pub mod complete;

use std::cell::RefCell;
use std::io::{self, Write};
use std::rc::Rc;

use crate::render::style::Paint;

use crate::client::{Client, ClientError, ClientOptions, Target as Url};
use crate::human::args::parse_commands;
use crate::human::parse_human;
use crate::human::shorthand::Shorthand;
use crate::python::escape::hex;
use crate::python::value::Value;
use crate::reactor::ReactorOptions;
use crate::remote::{self, send, RemoteError};
use crate::render;
use crate::replay::{run_script, Exec, RunOptions};
use crate::session::{RespondError, Responder, Session, Step};
use crate::wire::frame::Frame;
use crate::wire::proto::{Proto, RequestLayout};
use complete::{Shared, META};

/// What kind of failure a line had (the binary maps it to an exit code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineFailure {
    /// The line does not parse or is not a valid command.
    Usage,
    /// The server could not be reached.
    Transport,
    /// The server answered an HTTP error (or is not a frame-protocol server).
    Http,
    /// The request body does not decode as frames.
    Undecodable,
}

/// What a failed line reports (printed in red; the session goes on).
#[derive(Debug)]
pub enum ReplError {
    /// Writing the output failed: the session ends.
    Io(io::Error),
    /// The line failed: its message (`error: …`).
    Line { kind: LineFailure, message: String },
}

impl From<io::Error> for ReplError {
    fn from(e: io::Error) -> Self {
        ReplError::Io(e)
    }
}

fn client_failure(e: &ClientError) -> LineFailure {
    match e {
        ClientError::BadUrl { .. } | ClientError::BadHeader { .. } => LineFailure::Usage,
        _ => LineFailure::Transport,
    }
}

fn failed(kind: LineFailure, e: impl std::fmt::Display) -> ReplError {
    ReplError::Line {
        kind,
        message: format!("error: {e}"),
    }
}

impl From<ClientError> for ReplError {
    fn from(e: ClientError) -> Self {
        failed(client_failure(&e), e)
    }
}

impl From<remote::DetectError> for ReplError {
    fn from(e: remote::DetectError) -> Self {
        match e {
            remote::DetectError::Client(c) => c.into(),
            other => failed(LineFailure::Http, other),
        }
    }
}

impl From<RemoteError> for ReplError {
    fn from(e: RemoteError) -> Self {
        match e {
            RemoteError::Client(c) => c.into(),
            RemoteError::Detect(d) => d.into(),
            other => failed(LineFailure::Http, other),
        }
    }
}

impl From<RespondError> for ReplError {
    fn from(e: RespondError) -> Self {
        failed(LineFailure::Usage, e)
    }
}

/// Why `:target URL` failed.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error(transparent)]
    Io(#[from] io::Error),
    /// The URL is bad or the server cannot be reached.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The server is reached but its revision cannot be told.
    #[error(transparent)]
    Detect(Box<remote::DetectError>),
}

impl From<TargetError> for ReplError {
    fn from(e: TargetError) -> Self {
        match e {
            TargetError::Io(e) => ReplError::Io(e),
            TargetError::Client(c) => c.into(),
            TargetError::Detect(d) => (*d).into(),
        }
    }
}

/// A line that does not parse or is not a valid command (its message
/// already carries `error: `).
fn line_error(m: impl Into<String>) -> ReplError {
    ReplError::Line {
        kind: LineFailure::Usage,
        message: m.into(),
    }
}

/// How requests to a server are carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Delivery {
    /// Send them.
    #[default]
    Send,
    /// Print the request instead (`--dry-run`).
    DryRun,
    /// Print an equivalent curl command (`--curl`).
    Curl,
}

/// Settings for talking to servers.
#[derive(Debug, Clone, Default)]
pub struct RemoteSettings {
    pub client: ClientOptions,
    /// The extra headers as given (`NAME:VALUE`), for `--dry-run`/`--curl`.
    pub header_lines: Vec<String>,
    pub delivery: Delivery,
}

enum Target {
    Local,
    Url { client: Box<Client>, url: String },
}

/// The session state behind the prompt.
pub struct Repl {
    shared: Rc<RefCell<Shared>>,
    proto: Proto,
    target: Target,
    remote: RemoteSettings,
    defer: bool,
    respond: Vec<(String, String)>,
    session: Session,
    shorthand: Shorthand,
    request_frames: Vec<Frame>,
    request_lines: Vec<String>,
    script: Vec<String>,
    /// Directives that take effect with the next request.
    pending: Vec<String>,
    verbose: bool,
    interactive: bool,
    first_failure: Option<LineFailure>,
    /// The message of the last line that failed, until taken.
    last_error: Option<String>,
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
        remote: RemoteSettings,
        verbose: bool,
        interactive: bool,
        color: bool,
    ) -> Repl {
        let shared = Rc::new(RefCell::new(Shared {
            proto,
            commands: Proto::DEFAULT
                .table()
                .commands
                .iter()
                .map(|c| c.name.to_string())
                .collect(),
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
            shorthand: Shorthand::new(),
            request_frames: Vec::new(),
            request_lines: Vec::new(),
            script: Vec::new(),
            pending: Vec::new(),
            verbose,
            interactive,
            first_failure: None,
            last_error: None,
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
            Target::Local => self.session.state().to_string(),
            Target::Url { .. } => format!("{} queued", self.request_frames.len()),
        };
        format!("hgframe {} {target} [{state}]> ", self.proto)
    }

    /// The kind of the first line that failed, if any (a script's exit
    /// status).
    pub fn first_failure(&self) -> Option<LineFailure> {
        self.first_failure
    }

    /// The message of the last line that failed, once (a script echoes it
    /// to stderr beside the session's output on stdout).
    pub fn take_last_error(&mut self) -> Option<String> {
        self.last_error.take()
    }

    /// Record a failure found outside a line's handling (e.g. input that
    /// cannot be read as a line).
    pub fn note_failure(&mut self, kind: LineFailure) {
        self.first_failure.get_or_insert(kind);
    }

    /// The revision in use.
    pub fn proto(&self) -> Proto {
        self.proto
    }

    fn responder(&self) -> Result<Responder, RespondError> {
        let specs: Vec<String> = self
            .respond
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        Responder::parse(self.proto, &specs)
    }

    fn fresh_request(&mut self) {
        let responder = self.responder().unwrap_or_default();
        self.session = Session::new(
            self.proto,
            ReactorOptions {
                defer_output: self.defer,
                ..ReactorOptions::default()
            },
            responder,
        );
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

    /// Point the session at a server (`:target URL`).
    pub fn target(&mut self, url: &str, out: &mut dyn Write) -> Result<(), TargetError> {
        self.set_target(url, out)
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
        // The meta-commands people type without the colon (never frame lines).
        let bare = matches!(
            trimmed.split(' ').next(),
            Some("help" | "quit" | "exit" | "?")
        );
        let r = if let Some(meta) = trimmed.strip_prefix(':') {
            self.meta(meta, out)
        } else if bare {
            self.meta(trimmed, out)
        } else {
            self.frame_line(line, out)
        };
        match r {
            Ok(f) => Ok(f),
            Err(ReplError::Io(e)) => Err(e),
            Err(ReplError::Line { kind, message }) => {
                self.first_failure.get_or_insert(kind);
                writeln!(out, "{}", message.as_str().red())?;
                self.last_error = Some(message);
                Ok(Flow::Continue)
            }
        }
    }

    fn frame_line(&mut self, line: &str, out: &mut dyn Write) -> Result<Flow, ReplError> {
        let words: Vec<&str> = line.split_whitespace().collect();
        let frames = if words.first() == Some(&"cmd") {
            self.shorthand
                .expand(self.proto, &words[1..])
                .map_err(|e| line_error(format!("error: {e}")))?
        } else {
            let p = parse_human(self.proto, line).map_err(|e| {
                line_error(format!("error (protocol {}): {}", self.proto, e.render()))
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
                    self.session
                        .push_frame(&f)
                        .map_err(|e| line_error(format!("error: {e}")))?;
                    self.request_frames.push(f);
                    while let Some(s) = self.session.poll() {
                        render::write_step_pretty(out, proto, &s, verbose)?;
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

    fn meta(&mut self, meta: &str, out: &mut dyn Write) -> Result<Flow, ReplError> {
        let (cmd, arg) = match meta.split_once(' ') {
            Some((c, a)) => (c, a.trim()),
            None => (meta, ""),
        };
        match cmd {
            "help" | "h" | "?" if !arg.is_empty() => {
                let name = format!(":{}", arg.trim_start_matches(':'));
                match complete::meta_help(&name) {
                    Some(h) => writeln!(out, "{h}")?,
                    None => {
                        let names: Vec<&str> = META.iter().map(|(m, _)| *m).collect();
                        let hint = crate::human::did_you_mean(&name, names.into_iter())
                            .map(|s| format!(" (did you mean {s}?)"))
                            .unwrap_or_default();
                        return Err(line_error(format!(
                            "error: no command {name}{hint}; :help lists them"
                        )));
                    }
                }
            }
            "help" | "h" | "?" => {
                writeln!(out, "Frame lines: a human string, e.g. 1 1 stream-begin command-request new cbor:{{b'name': b'heads'}}")?;
                writeln!(out, "  or a shorthand: cmd NAME [ARG=VALUE ...] (next request id, stream flags filled in)")?;
                for (m, d) in META {
                    writeln!(out, "  {m:<10} {d}")?;
                }
            }
            "quit" | "q" | "exit" => return Ok(Flow::Quit),
            "proto" => {
                let p: Proto = arg.parse().map_err(line_error)?;
                self.set_proto(p);
                writeln!(out, "protocol {p}: {} (a fresh reactor)", p.table().origin)?;
            }
            "reset" => {
                self.fresh_request();
                writeln!(out, "a fresh reactor (state {})", self.session.state())?;
            }
            "defer" => {
                self.defer = match arg {
                    "on" => true,
                    "off" => false,
                    _ => {
                        return Err(line_error(format!(
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
                    return Err(line_error("error: :respond ID|COMMAND TEXT"));
                };
                self.respond.push((k.to_string(), v.to_string()));
                let r = match self.responder() {
                    Ok(r) => r,
                    Err(e) => {
                        self.respond.pop();
                        return Err(e.into());
                    }
                };
                if self.request_lines.is_empty() {
                    self.session.set_responder(r);
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
            "run" => self.run_command(arg, out)?,
            "save" => self.save(arg, out)?,
            "load" => return self.load(arg, out),
            other => {
                let names: Vec<&str> = META.iter().map(|(m, _)| &m[1..]).collect();
                let hint = crate::human::did_you_mean(other, names.into_iter())
                    .map(|s| format!(" (did you mean :{s}?)"))
                    .unwrap_or_default();
                return Err(line_error(format!(
                    "error: unknown command :{other}{hint}; :help lists them"
                )));
            }
        }
        Ok(Flow::Continue)
    }

    fn eof(&mut self, out: &mut dyn Write) -> Result<(), ReplError> {
        if let Target::Url { .. } = self.target {
            return self.send(out);
        }
        let proto = self.proto;
        let verbose = self.verbose;
        self.session.finish_input();
        while let Some(s) = self.session.poll() {
            match s {
                Step::Undecodable(e) => {
                    self.first_failure.get_or_insert(LineFailure::Undecodable);
                    self.last_error = Some(format!("error: {e}"));
                    writeln!(out, "{} {e}", "✗".red())?
                }
                s => render::write_step_pretty(out, proto, &s, verbose)?,
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

    fn set_target(&mut self, arg: &str, out: &mut dyn Write) -> Result<(), TargetError> {
        if arg.is_empty() || arg == "local" {
            self.target = Target::Local;
            self.fresh_request();
            writeln!(out, "target: local reactor")?;
            return Ok(());
        }
        let client = Client::new(Url::parse(arg)?, self.remote.client.clone())?;
        let d = remote::detect(&client).map_err(|e| match e {
            remote::DetectError::Client(c) => TargetError::Client(c),
            other => TargetError::Detect(Box::new(other)),
        })?;
        let p = d.proto;
        if p != self.proto {
            self.set_proto(p);
        }
        let server = d.release.map_or_else(
            || "a development snapshot".to_string(),
            |r| r.label.to_string(),
        );
        writeln!(
            out,
            "target: {arg} (protocol {p}: {}; {server})",
            d.why.join("; ")
        )?;
        // Command names for completion, from the server's capabilities.
        if p.table().requests == RequestLayout::CborMap {
            let cmds = [crate::human::args::CommandCall {
                name: "capabilities".into(),
                args: Vec::new(),
            }];
            let decoded = send::prepare(p, &cmds, &["identity".into()], None)
                .ok()
                .and_then(|prep| send::execute(&client, p, false, prep, Default::default()).ok());
            if let Some(d) = decoded {
                if let Some(Value::Dict(caps)) =
                    d.requests.first().and_then(|r| r.objects().first())
                {
                    if let Some(Value::Dict(cmds)) =
                        crate::python::value::dict_get(caps, &Value::bytes("commands"))
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

    fn send(&mut self, out: &mut dyn Write) -> Result<(), ReplError> {
        let Target::Url { url, .. } = &self.target else {
            return Err(line_error(
                "error: :send needs a server target (:target URL); locally use :eof",
            ));
        };
        let url = url.clone();
        let body = self.body();
        self.reflect_remote(&url, body, out)?;
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

    fn save(&mut self, arg: &str, out: &mut dyn Write) -> Result<(), ReplError> {
        if arg.is_empty() {
            return Err(line_error("error: :save FILE"));
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
            cli_target: true,
            allow_file_access: false,
        };
        let report = run_script(
            arg,
            io::Cursor::new(skeleton.as_bytes()),
            &exec,
            Some(self.proto),
            &opts,
            |_| {},
        )
        .map_err(|e| line_error(format!("error: {e}")))?;
        let text = report.updated.unwrap_or(skeleton);
        std::fs::write(arg, text)
            .map_err(|e| line_error(format!("error: cannot write {arg}: {e}")))?;
        let check = match &self.target {
            Target::Local => format!("hgframe replay {arg}"),
            Target::Url { url, .. } => format!("hgframe replay --url {url} {arg}"),
        };
        writeln!(
            out,
            "saved {} request(s), {} frame(s) to {arg} (check it with: {check})",
            report.requests, report.frames
        )?;
        Ok(())
    }

    fn load(&mut self, arg: &str, out: &mut dyn Write) -> Result<Flow, ReplError> {
        let f = std::fs::File::open(arg)
            .map_err(|e| line_error(format!("error: cannot open {arg}: {e}")))?;
        for l in crate::replay::script::read_lines(arg.to_string(), io::BufReader::new(f)) {
            let l = l.map_err(|e| line_error(e.to_string()))?;
            use crate::replay::script::Item;
            let cmd = match &l.item {
                Item::Frame(f) => f.clone(),
                Item::Eof => ":eof".into(),
                Item::Proto(p) => format!(":proto {p}"),
                Item::Hg(v) => format!(
                    ":proto {}",
                    crate::wire::proto::release(v)
                        .map_or_else(|_| v.clone(), |s| s.proto.name().to_string())
                ),
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

impl Repl {
    /// `:run COMMAND [NAME=VALUE ...]`: a real command on the server, its
    /// response decoded (as `hgframe send`).
    fn run_command(&mut self, arg: &str, out: &mut dyn Write) -> Result<(), ReplError> {
        let Target::Url { client, .. } = &self.target else {
            return Err(line_error(
                "error: :run needs a server target (:target URL)",
            ));
        };
        let words: Vec<String> = arg.split_whitespace().map(String::from).collect();
        if words.is_empty() {
            return Err(line_error("error: :run COMMAND [NAME=VALUE ...]"));
        }
        let proto = Proto::DEFAULT;
        let known = self.shared.borrow().commands.clone();
        if !known.iter().any(|c| *c == words[0]) {
            let hint = crate::human::did_you_mean(&words[0], known.iter().map(|s| s.as_str()))
                .map(|s| format!(" (did you mean {s}?)"))
                .unwrap_or_default();
            return Err(line_error(format!(
                "error: the server has no command {}{hint}; its commands: {}",
                words[0],
                known.join(", ")
            )));
        }
        let cmds = parse_commands(&words).map_err(|e| line_error(format!("error: {e}")))?;
        let prepared = send::prepare(proto, &cmds, &["identity".into()], None)
            .map_err(|e| line_error(format!("error: {e}")))?;
        let url = send::url(client, proto, false, &prepared);
        match self.remote.delivery {
            Delivery::DryRun => {
                render::request::write_request(
                    out,
                    proto,
                    &crate::client::redact(&url),
                    &self.remote.header_lines,
                    &prepared.body,
                )?;
                return Ok(());
            }
            Delivery::Curl => {
                render::request::write_curl(
                    out,
                    proto,
                    &url,
                    &self.remote.header_lines,
                    &prepared.body,
                )?;
                return Ok(());
            }
            Delivery::Send => {}
        }
        let decoded = send::execute(client, proto, false, prepared, Default::default())?;
        render::remote::write_send_pretty(out, proto, &decoded, self.verbose)?;
        // Kept in :save as a comment: replays run debugreflect requests only.
        self.script.push(format!(
            "# :run {arg}   (a real command: hgframe send URL {arg})"
        ));
        Ok(())
    }

    /// POST the queued frames to the server's debugreflect.
    fn reflect_remote(
        &mut self,
        url: &str,
        body: Vec<u8>,
        out: &mut dyn Write,
    ) -> Result<(), ReplError> {
        let Target::Url { client, .. } = &self.target else {
            return Err(line_error(format!("error: no server target for {url}")));
        };
        let proto = self.proto;
        let endpoint = client.target.command_url(proto, false, "debugreflect");
        match self.remote.delivery {
            Delivery::DryRun => {
                render::request::write_request(
                    out,
                    proto,
                    &crate::client::redact(&endpoint),
                    &self.remote.header_lines,
                    &body,
                )?;
                return Ok(());
            }
            Delivery::Curl => {
                render::request::write_curl(
                    out,
                    proto,
                    &endpoint,
                    &self.remote.header_lines,
                    &body,
                )?;
                return Ok(());
            }
            Delivery::Send => {}
        }
        let r = remote::reflect(client, proto, false, &body)?;
        render::remote::write_remote_pretty(out, proto, &r.parsed, self.verbose)?;
        Ok(())
    }
}
