//! The subcommands. Each reads its inputs, runs the library layers in
//! order (text → frames → reactor → actions → printer) and writes to the
//! given writers; failures carry their exit code ([`crate::error`]).

pub mod decode;
pub mod doctor;
pub mod encode;
mod held;
pub mod proxy;
pub mod reflect;
pub mod repl;
pub mod replay;
pub mod send;
pub mod serve;

use std::ffi::OsString;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;

use hgframe::client::{parse_header, Client, ClientOptions, Target};
use hgframe::human::{decide_proto, lines, parse_human, prefer_proto};
use hgframe::wire::frame::Frame;
use hgframe::Proto;

use crate::args::{Cli, Command, GlobalOpts, RemoteOpts, TlsOpts};
use crate::error::Failure;

pub type Result<T> = std::result::Result<T, Failure>;

/// Where a command reads and writes.
pub struct Io<'a> {
    pub stdin: &'a mut dyn BufRead,
    pub stdout: &'a mut dyn Write,
    pub stderr: &'a mut dyn Write,
    pub stdout_is_terminal: bool,
    pub stdin_is_terminal: bool,
    /// Whether styles written to stdout show as colour (the writer strips
    /// them otherwise); for what bypasses it, like the line editor.
    pub color: bool,
}

impl Io<'_> {
    /// Reading stdin that is a terminal waits for typing: say so, so the
    /// wait is not mistaken for a hang.
    pub fn note_stdin(&mut self, what: &str) -> std::io::Result<()> {
        if self.stdin_is_terminal {
            writeln!(
                self.stderr,
                "hgframe: reading {what} from stdin (a terminal); end with Ctrl-D, or see --help"
            )?;
        }
        Ok(())
    }
}

/// `--hg VERSION` sets the revision (with its flavour); `--proto` beside it
/// must name the same revision.
fn resolve_release(global: &mut GlobalOpts) -> Result<()> {
    let Some(sel) = global.hg else {
        return Ok(());
    };
    if let Some(p) = global.proto {
        if !p.same_revision(sel.proto) {
            return Err(Failure::Usage(format!(
                "--proto {p} contradicts --hg: {} speaks protocol {}\n  = pass one of them",
                sel.release.label,
                sel.proto.name()
            )));
        }
    }
    global.proto = Some(sel.proto);
    Ok(())
}

/// Where the revision came from, for `-v`.
pub fn proto_origin(global: &GlobalOpts) -> String {
    match global.hg {
        Some(sel) => format!("from --hg: {}", sel.release.label),
        None => "from --proto".into(),
    }
}

/// `-v`: what detection found (the revision, then the flavour and how).
pub fn write_detected(
    stderr: &mut dyn Write,
    d: &hgframe::remote::Detected,
) -> std::io::Result<()> {
    let mut why = d.why.iter();
    writeln!(
        stderr,
        "hgframe: protocol {} (detected: {})",
        d.proto,
        why.next().map(String::as_str).unwrap_or("")
    )?;
    let rest: Vec<&str> = why.map(String::as_str).collect();
    if !rest.is_empty() || d.release.is_some() {
        writeln!(
            stderr,
            "hgframe: server: {} — {} ({})",
            d.release.map_or("a development snapshot", |r| r.label),
            d.proto.flavor().describe,
            rest.join("; ")
        )?;
    }
    Ok(())
}

impl Command {
    /// Whether the command writes bytes rather than text to stdout (raw
    /// frames, a debugreflect body): they must pass the colour writer
    /// untouched.
    pub fn writes_bytes(&self) -> bool {
        match self {
            Command::Encode(a) => a.format == crate::args::EncodeFormat::Raw,
            Command::Reflect(a) => a.output() == crate::args::ReflectFormat::Raw,
            _ => false,
        }
    }
}

/// Run a parsed command line; returns the exit code on success paths.
pub fn run(mut cli: Cli, io: &mut Io<'_>) -> Result<u8> {
    resolve_release(&mut cli.global)?;
    match cli.command {
        Command::Encode(a) => encode::run(&cli.global, a, io),
        Command::Decode(a) => decode::run(&cli.global, a, io),
        Command::Reflect(a) => reflect::run(&cli.global, a, io),
        Command::Serve(a) => serve::run(&cli.global, a, io),
        Command::Proxy(a) => proxy::run(&cli.global, a, io),
        Command::Send(a) => send::run(&cli.global, a, io),
        Command::Doctor(a) => doctor::run(&cli.global, a, io),
        Command::Replay(a) => replay::run(&cli.global, a, io),
        Command::Repl(a) => repl::run(&cli.global, a, io),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "hgframe", io.stdout);
            Ok(0)
        }
        Command::Man { subcommand } => man(subcommand.as_deref(), io),
    }
}

/// A numbered input line (1-based) with where it came from.
pub struct Line {
    /// Shared by every line of an input (not a string per line).
    pub origin: std::rc::Rc<str>,
    pub number: usize,
    /// Checked once, when read: parsing takes it as text without checking
    /// again.
    pub text: String,
}

pub fn open_input<'a>(path: &Path, stdin: &'a mut dyn BufRead) -> Result<Box<dyn BufRead + 'a>> {
    if path.as_os_str() == "-" {
        Ok(Box::new(stdin))
    } else {
        let f = File::open(path)
            .map_err(|e| Failure::Usage(format!("cannot open {}: {e}", path.display())))?;
        Ok(Box::new(BufReader::new(f)))
    }
}

/// Lines of frames: the arguments, or a reader (blank and # lines
/// skipped). Lines are text, of bounded length ([`lines`]).
pub fn frame_lines<'a>(
    args: &'a [OsString],
    reader: Option<(String, Box<dyn BufRead + 'a>)>,
) -> Box<dyn Iterator<Item = Result<Line>> + 'a> {
    let checked = |origin: &std::rc::Rc<str>, number: usize, bytes: Vec<u8>| -> Result<Line> {
        let text = lines::into_text(bytes)
            .map_err(|e| Failure::Usage(format!("{origin} {number}: {e}")))?;
        Ok(Line {
            origin: origin.clone(),
            number,
            text,
        })
    };
    if let Some((origin, mut r)) = reader {
        let origin: std::rc::Rc<str> = origin.into();
        let mut number = 0;
        // Room for a line like the last one, so that reading one does not
        // grow its buffer step by step (encode reads millions).
        let mut room = 128;
        Box::new(
            std::iter::from_fn(move || loop {
                let mut buf = Vec::with_capacity(room);
                number += 1;
                match lines::read_line(&mut r, &mut buf, lines::MAX_LINE) {
                    Ok(false) => return None,
                    Ok(true) => {
                        // Lines of different lengths (one or two nodes) in
                        // turn: room for an eighth more than this one, and
                        // shrinking slowly after a longer one, so that a line
                        // is not read into a buffer too small for it (the
                        // reallocation was 2 % of encode's instructions).
                        room = (buf.len() + buf.len() / 8 + 2)
                            .max(room - room / 64)
                            .clamp(128, 64 << 10);
                        let t = buf.trim_ascii_start();
                        if t.is_empty() || t.starts_with(b"#") {
                            continue;
                        }
                        return Some(checked(&origin, number, buf));
                    }
                    Err(e) => return Some(Err(Failure::Usage(format!("{origin} {number}: {e}")))),
                }
            })
            // Never read again after the end: a terminal's Ctrl-D ends the
            // input once (it took a second one after the lookahead had met it).
            .fuse(),
        )
    } else {
        let origin: std::rc::Rc<str> = "argument".into();
        Box::new(
            args.iter()
                .enumerate()
                .map(move |(i, a)| checked(&origin, i + 1, os_bytes(a))),
        )
    }
}

/// An argument's bytes as given (on Unix, not UTF-8 checked yet).
fn os_bytes(a: &OsString) -> Vec<u8> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        a.as_bytes().to_vec()
    }
    #[cfg(not(unix))]
    {
        a.to_string_lossy().into_owned().into_bytes()
    }
}

/// How many lines [`choose_proto`] reads to infer the revision: a stream
/// of lines that all fit several revisions (command requests are 0005's
/// and 0006's) was held whole before deciding (116 MB for 200 k lines).
pub const LOOKAHEAD_LINES: usize = 256;

/// The lookahead for lines read from `stdin`: one line when a person
/// types them at a terminal (each is answered as it is typed; `--proto`
/// decides for the lines after it), else [`LOOKAHEAD_LINES`].
pub fn lookahead(from_stdin: bool, stdin_is_terminal: bool) -> usize {
    if from_stdin && stdin_is_terminal {
        1
    } else {
        LOOKAHEAD_LINES
    }
}

/// Decide the revision: --proto, else inferred from the first lines (at
/// most [`LOOKAHEAD_LINES`]). Returns the revision and the lines read
/// ahead to decide.
pub fn choose_proto<'a>(
    global: &GlobalOpts,
    lines: &mut (dyn Iterator<Item = Result<Line>> + 'a),
    lookahead: usize,
    stderr: &mut dyn Write,
) -> Result<(Proto, Vec<Line>)> {
    if let Some(p) = global.proto {
        if global.verbose > 0 {
            writeln!(
                stderr,
                "hgframe: protocol {} ({})",
                p.describe(),
                proto_origin(global)
            )?;
        }
        return Ok((p, Vec::new()));
    }
    let mut ahead = Vec::new();
    for l in &mut *lines {
        let l = l?;
        let decided = decide_proto([l.text.as_str()]);
        ahead.push(l);
        if let Some((p, why)) = decided {
            if global.verbose > 0 {
                writeln!(stderr, "hgframe: protocol {p} (inferred: {why})")?;
            }
            return Ok((p, ahead));
        }
        // Input streams: the lines read ahead are held, so only so many.
        if ahead.len() >= lookahead {
            break;
        }
    }
    // No line decides: a name several revisions share with the same bytes
    // picks the newest of them (said why), else the default.
    if let Some((p, why)) = prefer_proto(ahead.iter().map(|l| l.text.as_str())) {
        if global.verbose > 0 {
            writeln!(stderr, "hgframe: protocol {p} (inferred: {why})")?;
        }
        return Ok((p, ahead));
    }
    if global.verbose > 0 {
        writeln!(
            stderr,
            "hgframe: protocol {} (no revision-specific type name seen{}; default)",
            Proto::DEFAULT,
            if ahead.len() >= lookahead {
                match ahead.len() {
                    1 => " in the first line".to_string(),
                    n => format!(" in the first {n} lines"),
                }
            } else {
                String::new()
            }
        )?;
    }
    Ok((Proto::DEFAULT, ahead))
}

pub fn parse_line(proto: Proto, l: &Line, stderr: &mut dyn Write) -> Result<Frame> {
    match parse_human(proto, &l.text) {
        Ok(p) => {
            for w in &p.warnings {
                writeln!(
                    stderr,
                    "hgframe: warning: {} {}: {}",
                    l.origin, l.number, w.message
                )?;
            }
            Ok(p.frame)
        }
        Err(e) => Err(Failure::Usage(format!(
            "{} {} (protocol {}): {}",
            l.origin,
            l.number,
            proto,
            e.render()
        ))),
    }
}

/// The client settings the shared options ask for.
pub fn client_options(opts: &RemoteOpts) -> Result<ClientOptions> {
    let mut headers = Vec::new();
    for h in &opts.headers {
        headers.push(parse_header(h)?);
    }
    let secs = |v: f64, what: &str| -> Result<std::time::Duration> {
        if v.is_finite() && v > 0.0 && v < 1e6 {
            Ok(std::time::Duration::from_secs_f64(v))
        } else {
            Err(Failure::Usage(format!(
                "--{what} {v}: expected a positive number of seconds"
            )))
        }
    };
    Ok(ClientOptions {
        timeout: secs(opts.timeout, "timeout")?,
        connect_timeout: secs(opts.connect_timeout, "connect-timeout")?,
        headers,
        follow_redirects: true,
        max_response: opts.max_response,
        ca_certs: read_certs(&opts.tls)?,
        insecure: opts.tls.insecure,
    })
}

/// The `--cacert` files' contents.
pub fn read_certs(tls: &TlsOpts) -> Result<Vec<Vec<u8>>> {
    tls.cacert
        .iter()
        .map(|p| {
            let meta = std::fs::metadata(p).map_err(|e| {
                Failure::Usage(format!("cannot read the certificate {}: {e}", p.display()))
            })?;
            if !meta.is_file() || meta.len() > 1 << 20 {
                return Err(Failure::Usage(format!(
                    "--cacert {}: expected a PEM file of at most 1 MiB",
                    p.display()
                )));
            }
            std::fs::read(p).map_err(|e| {
                Failure::Usage(format!("cannot read the certificate {}: {e}", p.display()))
            })
        })
        .collect()
}

/// A client for `url` with the shared options.
pub fn make_client(opts: &RemoteOpts, url: &str) -> Result<Client> {
    let target = Target::parse(url)?;
    Ok(Client::new(target, client_options(opts)?)?)
}

/// `hgframe man [SUBCOMMAND]`.
fn man(subcommand: Option<&str>, io: &mut Io<'_>) -> Result<u8> {
    let cmd = <Cli as clap::CommandFactory>::command();
    let page = match subcommand {
        None => cmd,
        Some(name) => {
            let names: Vec<String> = cmd
                .get_subcommands()
                .map(|c| c.get_name().to_string())
                .collect();
            let Some(sub) = cmd.find_subcommand(name).cloned() else {
                let hint = hgframe::human::did_you_mean(name, names.iter().map(|s| s.as_str()))
                    .map(|s| format!(" (did you mean {s}?)"))
                    .unwrap_or_default();
                return Err(Failure::Usage(format!(
                    "no subcommand {name:?}{hint}; subcommands: {}",
                    names.join(", ")
                )));
            };
            // The page of `hgframe SUB` is named hgframe-SUB(1).
            let full = format!("hgframe-{name}");
            sub.name(full.clone()).bin_name(full.replace('-', " "))
        }
    };
    clap_mangen::Man::new(page).render(io.stdout)?;
    Ok(0)
}
