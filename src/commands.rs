//! The subcommands. Each reads its inputs, runs the library layers in
//! order (text → frames → reactor → actions → renderer) and writes to the
//! given writers; exit codes come from [`CmdError::exit_code`].

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::Path;

use crate::cli::{Cli, Command, DecodeArgs, DecodeFormat, EncodeArgs, EncodeFormat, ReflectArgs};
use crate::human::{infer_proto, parse_human_bytes, to_human};
use crate::python::escape::{escape_bytes, escape_decode, hex};
use crate::python::value::Value;
use crate::reactor::{ReactorOptions, Response};
use crate::reflect::{Http500, ReflectBody, Responder, Session, Step};
use crate::render;
use crate::wire::frame::{Frame, FrameDecoder, FrameReader, LengthMode, ReadError};
use crate::wire::proto::{PayloadSyntax, Proto};

/// A failure with its documented exit code.
#[derive(Debug, thiserror::Error)]
pub enum CmdError {
    /// Bad usage or unparsable input text (exit 2).
    #[error("{0}")]
    Usage(String),
    /// Bytes that do not decode as frames (exit 5).
    #[error("{0}")]
    Undecodable(String),
    /// The server answers (or would answer) an HTTP error (exit 4).
    #[error("{0}")]
    Http(String),
    /// Connecting or talking to the server failed (exit 3).
    #[error("{0}")]
    Transport(String),
    /// Writing output failed.
    #[error("{0}")]
    Io(#[from] io::Error),
}

impl CmdError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CmdError::Usage(_) => 2,
            CmdError::Undecodable(_) => 5,
            CmdError::Http(_) => 4,
            CmdError::Transport(_) => 3,
            CmdError::Io(e) if e.kind() == io::ErrorKind::BrokenPipe => 0,
            CmdError::Io(_) => 2,
        }
    }
}

type Result<T> = std::result::Result<T, CmdError>;

/// A request body and the revision its text decided (if it did).
type CollectedBody = (Option<(Proto, String)>, Vec<u8>);

type LineIter<'a> = Box<dyn Iterator<Item = Result<Line>> + 'a>;

/// Where a command reads and writes.
pub struct Io<'a> {
    pub stdin: &'a mut dyn BufRead,
    pub stdout: &'a mut dyn Write,
    pub stderr: &'a mut dyn Write,
    pub stdout_is_terminal: bool,
}

/// Run a parsed command line; returns the exit code on success paths.
pub fn run(cli: Cli, io: &mut Io<'_>) -> Result<u8> {
    match cli.command {
        Command::Encode(a) => encode(&cli.global, a, io),
        Command::Decode(a) => decode(&cli.global, a, io),
        Command::Reflect(a) => reflect(&cli.global, a, io),
        Command::Serve(a) => crate::serve::run_cli(&cli.global, a, io),
        Command::Send(a) => crate::remote::send(&cli.global, a, io.stdin, io.stdout, io.stderr),
        Command::Doctor(a) => crate::remote::doctor(a, io.stdout),
        Command::Replay(a) => crate::replay_cli::replay(&cli.global, a, io),
        Command::Repl(a) => crate::repl::run(&cli.global, a, io),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "hgframe", io.stdout);
            Ok(0)
        }
    }
}

/// A numbered input line (1-based) with where it came from.
struct Line {
    origin: String,
    number: usize,
    bytes: Vec<u8>,
}

fn open_input<'a>(path: &Path, stdin: &'a mut dyn BufRead) -> Result<Box<dyn BufRead + 'a>> {
    if path.as_os_str() == "-" {
        Ok(Box::new(stdin))
    } else {
        let f = File::open(path)
            .map_err(|e| CmdError::Usage(format!("error: cannot open {}: {e}", path.display())))?;
        Ok(Box::new(BufReader::new(f)))
    }
}

/// Lines of frames: the arguments, or a reader (blank and # lines skipped).
fn frame_lines<'a>(
    args: &'a [String],
    reader: Option<(String, Box<dyn BufRead + 'a>)>,
) -> Box<dyn Iterator<Item = Result<Line>> + 'a> {
    if let Some((origin, mut r)) = reader {
        let mut number = 0;
        Box::new(std::iter::from_fn(move || loop {
            let mut buf = Vec::new();
            number += 1;
            match r.read_until(b'\n', &mut buf) {
                Ok(0) => return None,
                Ok(_) => {
                    if buf.ends_with(b"\n") {
                        buf.pop();
                        if buf.ends_with(b"\r") {
                            buf.pop();
                        }
                    }
                    let t = buf.trim_ascii_start();
                    if t.is_empty() || t.starts_with(b"#") {
                        continue;
                    }
                    return Some(Ok(Line {
                        origin: origin.clone(),
                        number,
                        bytes: buf,
                    }));
                }
                Err(e) => return Some(Err(CmdError::Usage(format!("cannot read {origin}: {e}")))),
            }
        }))
    } else {
        Box::new(args.iter().enumerate().map(|(i, a)| {
            Ok(Line {
                origin: "argument".into(),
                number: i + 1,
                bytes: a.clone().into_bytes(),
            })
        }))
    }
}

/// Decide the revision: --proto, else inferred from the first lines.
/// Returns the revision and the lines read ahead to decide.
fn choose_proto<'a>(
    global: &crate::cli::GlobalOpts,
    lines: &mut (dyn Iterator<Item = Result<Line>> + 'a),
    stderr: &mut dyn Write,
) -> Result<(Proto, Vec<Line>)> {
    if let Some(p) = global.proto {
        if global.verbose > 0 {
            writeln!(stderr, "hgframe: protocol {p} (from --proto)")?;
        }
        return Ok((p, Vec::new()));
    }
    let mut ahead = Vec::new();
    for l in &mut *lines {
        let l = l?;
        let text = String::from_utf8_lossy(&l.bytes).into_owned();
        let (p, why) = infer_proto([text.as_str()]);
        ahead.push(l);
        if !why.starts_with("no revision-specific") {
            if global.verbose > 0 {
                writeln!(stderr, "hgframe: protocol {p} (inferred: {why})")?;
            }
            return Ok((p, ahead));
        }
    }
    if global.verbose > 0 {
        writeln!(
            stderr,
            "hgframe: protocol 0006 (no revision-specific type name seen; default)"
        )?;
    }
    Ok((Proto::P0006, ahead))
}

fn parse_line(proto: Proto, l: &Line, stderr: &mut dyn Write) -> Result<Frame> {
    match parse_human_bytes(proto, &l.bytes) {
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
        Err(e) => Err(CmdError::Usage(format!(
            "error: {} {} (protocol {}): {}",
            l.origin,
            l.number,
            proto,
            e.render()
        ))),
    }
}

fn encode(global: &crate::cli::GlobalOpts, a: EncodeArgs, io: &mut Io<'_>) -> Result<u8> {
    if a.format == EncodeFormat::Raw && io.stdout_is_terminal {
        return Err(CmdError::Usage(
            "error: refusing to write binary frames to a terminal\n  = use --format hex or --format escaped, or redirect stdout to a file or pipe".into(),
        ));
    }
    let reader = if a.frames.is_empty() {
        Some((
            "stdin line".to_string(),
            Box::new(&mut *io.stdin) as Box<dyn BufRead>,
        ))
    } else {
        None
    };
    let mut lines = frame_lines(&a.frames, reader);
    let (proto, ahead) = choose_proto(global, &mut lines, io.stderr)?;
    let mut buf = Vec::new();
    for l in ahead.into_iter().map(Ok).chain(lines) {
        let l = l?;
        let f = parse_line(proto, &l, io.stderr)?;
        buf.clear();
        f.encode_into(proto, &mut buf)
            .map_err(|e| CmdError::Usage(format!("error: {} {}: {e}", l.origin, l.number)))?;
        if f.payload.len() >= 65536 {
            writeln!(
                io.stderr,
                "hgframe: warning: {} {}: a {}-byte payload: Mercurial servers read this frame's length as {} and lose sync",
                l.origin,
                l.number,
                f.payload.len(),
                crate::wire::frame::mercurial_misread_len(f.payload.len())
            )?;
        }
        match a.format {
            EncodeFormat::Raw => io.stdout.write_all(&buf)?,
            EncodeFormat::Hex => writeln!(io.stdout, "{}", hex(&buf))?,
            EncodeFormat::Escaped => writeln!(io.stdout, "{}", escape_bytes(&buf))?,
        }
    }
    io.stdout.flush()?;
    Ok(0)
}

/// Turns hex text into bytes as it streams.
struct HexReader<R> {
    inner: R,
    pending: Option<u8>,
    pos: u64,
}

impl<R: Read> Read for HexReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let mut text = vec![0u8; out.len().max(2) * 2];
        loop {
            let n = self.inner.read(&mut text)?;
            if n == 0 {
                if self.pending.is_some() {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "odd number of hex digits: the last byte is missing a digit",
                    ));
                }
                return Ok(0);
            }
            let mut k = 0;
            for &c in &text[..n] {
                self.pos += 1;
                if c.is_ascii_whitespace() {
                    continue;
                }
                let v = match c {
                    b'0'..=b'9' => c - b'0',
                    b'a'..=b'f' => c - b'a' + 10,
                    b'A'..=b'F' => c - b'A' + 10,
                    _ => {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!(
                                "invalid hex digit {:?} at input byte {}: expected 0-9, a-f or A-F",
                                c as char,
                                self.pos - 1
                            ),
                        ))
                    }
                };
                match self.pending.take() {
                    None => self.pending = Some(v),
                    Some(h) => {
                        out[k] = h << 4 | v;
                        k += 1;
                    }
                }
            }
            if k > 0 {
                return Ok(k);
            }
        }
    }
}

fn decode(global: &crate::cli::GlobalOpts, a: DecodeArgs, io: &mut Io<'_>) -> Result<u8> {
    let proto = global.proto.unwrap_or(Proto::P0006);
    if global.verbose > 0 {
        writeln!(
            io.stderr,
            "hgframe: decoding as protocol {proto}{}",
            if global.proto.is_some() {
                ""
            } else {
                " (the default; use --proto for 0001 or 0002)"
            }
        )?;
    }
    let input = open_input(&a.input, io.stdin)?;
    let reader: Box<dyn Read> = if a.hex_input {
        Box::new(HexReader {
            inner: input,
            pending: None,
            pos: 0,
        })
    } else {
        Box::new(input)
    };
    let mode = if a.mercurial_lengths {
        LengthMode::Mercurial
    } else {
        LengthMode::Correct
    };
    let verbose = global.verbose > 0;
    let mut json_buf = Vec::with_capacity(256);
    for (index, item) in FrameReader::new(proto, mode, reader).enumerate() {
        let l = match item {
            Ok(l) => l,
            Err(ReadError::Decode(e)) => {
                io.stdout.flush()?;
                return Err(CmdError::Undecodable(format!(
                    "error: {e}\n  = the input ends inside a frame; was it cut short, or is it another protocol revision (--proto)?"
                )));
            }
            Err(ReadError::Io(e)) if e.kind() == io::ErrorKind::InvalidData => {
                return Err(CmdError::Usage(format!("error: bad hex input: {e}")))
            }
            Err(ReadError::Io(e)) => {
                return Err(CmdError::Usage(format!(
                    "error: cannot read {}: {e}",
                    a.input.display()
                )))
            }
        };
        if a.json {
            json_buf.clear();
            render::write_frame_json(
                &mut json_buf,
                proto,
                l.offset,
                &l.frame,
                &render::frame_warnings(&l),
            );
            json_buf.push(b'\n');
            io.stdout.write_all(&json_buf)?;
        } else if a.format == DecodeFormat::Human {
            writeln!(io.stdout, "{}", to_human(proto, &l.frame))?;
            for w in render::frame_warnings(&l) {
                writeln!(
                    io.stderr,
                    "hgframe: warning: frame at offset {}: {w}",
                    l.offset
                )?;
            }
        } else {
            if index > 0 {
                writeln!(io.stdout)?;
            }
            render::write_frame_block(io.stdout, proto, index, &l, verbose)?;
        }
    }
    io.stdout.flush()?;
    Ok(0)
}

/// Parse `KEY=RESPONSE` options.
pub fn parse_responder(proto: Proto, specs: &[String]) -> Result<Responder> {
    let mut r = Responder::default();
    for spec in specs {
        let Some((key, val)) = spec.split_once('=') else {
            return Err(CmdError::Usage(format!(
                "error: --respond '{spec}': expected KEY=RESPONSE (KEY a request id or a command name)"
            )));
        };
        let resp = if let Some(path) = val.strip_prefix('@') {
            Response::Bytes(std::fs::read(path).map_err(|e| {
                CmdError::Usage(format!(
                    "error: --respond '{spec}': cannot read {path}: {e}"
                ))
            })?)
        } else if let Some(t) = val.strip_prefix("error:") {
            Response::Error(
                escape_decode(t.as_bytes())
                    .map_err(|e| CmdError::Usage(format!("error: --respond '{spec}': {e}")))?,
            )
        } else if let Some(lit) = val.strip_prefix("cbor:") {
            if proto.table().payload_syntax != PayloadSyntax::EscapedOrCbor {
                return Err(CmdError::Usage(format!(
                    "error: --respond '{spec}': protocol {proto} responses are raw bytes; cbor: needs 0006"
                )));
            }
            let v = crate::python::literal::parse_literal(lit).map_err(|e| {
                CmdError::Usage(format!(
                    "error: --respond '{spec}': bad literal at {}: {}",
                    e.pos, e.message
                ))
            })?;
            if let Err(e) = crate::python::cbor::encode(&v) {
                return Err(CmdError::Usage(format!("error: --respond '{spec}': {e}")));
            }
            match v {
                Value::List(items) => Response::Objects(items),
                other => Response::Objects(vec![other]),
            }
        } else {
            Response::Bytes(
                escape_decode(val.as_bytes())
                    .map_err(|e| CmdError::Usage(format!("error: --respond '{spec}': {e}")))?,
            )
        };
        match key.parse::<u16>() {
            Ok(id) => r.by_request.push((id, resp)),
            Err(_) if !key.is_empty() => r.by_command.push((key.as_bytes().to_vec(), resp)),
            Err(_) => {
                return Err(CmdError::Usage(format!(
                    "error: --respond '{spec}': empty KEY (expected a request id or a command name)"
                )))
            }
        }
    }
    Ok(r)
}

enum Sink<'w> {
    Raw(ReflectBody),
    Json(&'w mut dyn Write),
    Pretty(&'w mut dyn Write, bool),
}

/// Collect a whole request body for `reflect --url`: the revision the text
/// decides (if any) and the bytes.
fn collect_body(
    global: &crate::cli::GlobalOpts,
    a: &ReflectArgs,
    io: &mut Io<'_>,
) -> Result<CollectedBody> {
    if let Some(path) = &a.bin {
        let mut r = open_input(path, io.stdin)?;
        let mut b = Vec::new();
        r.read_to_end(&mut b)
            .map_err(|e| CmdError::Usage(format!("error: cannot read {}: {e}", path.display())))?;
        return Ok((None, b));
    }
    let reader = if a.frames.is_empty() {
        let path = a.file.clone().unwrap_or_else(|| "-".into());
        let origin = if path.as_os_str() == "-" {
            "stdin line".to_string()
        } else {
            format!("{} line", path.display())
        };
        Some((origin, open_input(&path, io.stdin)?))
    } else {
        None
    };
    let mut lines = frame_lines(&a.frames, reader);
    let lines: Vec<Line> = (&mut lines).collect::<Result<Vec<_>>>()?;
    let texts: Vec<String> = lines
        .iter()
        .map(|l| String::from_utf8_lossy(&l.bytes).into_owned())
        .collect();
    let (p, why) = infer_proto(texts.iter().map(|s| s.as_str()));
    let decided = if why.starts_with("no revision-specific") {
        None
    } else {
        Some((p, why))
    };
    let proto = global
        .proto
        .or(decided.as_ref().map(|d| d.0))
        .unwrap_or(Proto::P0006);
    let mut body = Vec::new();
    for l in &lines {
        let f = parse_line(proto, l, io.stderr)?;
        f.encode_into(proto, &mut body)
            .map_err(|e| CmdError::Usage(format!("error: {} {}: {e}", l.origin, l.number)))?;
    }
    if global.proto.is_none() && decided.is_none() && !lines.is_empty() {
        // The text does not decide; the server will (frames of 0002 and
        // 0006 share their syntax, so the bytes stay valid).
        return Ok((None, body));
    }
    Ok((decided.or(Some((proto, "from --proto".into()))), body))
}

fn reflect(global: &crate::cli::GlobalOpts, a: ReflectArgs, io: &mut Io<'_>) -> Result<u8> {
    if let Some(url) = a.url.clone() {
        if !a.respond.is_empty() || a.defer_output {
            return Err(CmdError::Usage(
                "error: --respond and --defer-output play the server's part: they work with the local reactor, not with --url".into(),
            ));
        }
        let (text_proto, body) = collect_body(global, &a, io)?;
        return crate::remote::reflect_remote(
            global, &url, a.rw, a.compare, a.raw, a.json, &a.remote, text_proto, body, io.stdout,
            io.stderr,
        );
    }
    // Frame source: raw bytes, or lines (args, -f FILE, or stdin).
    let bin = a.bin.clone();
    let mut line_reader = None;
    if bin.is_none() && a.frames.is_empty() {
        let path = a.file.clone().unwrap_or_else(|| "-".into());
        let origin = if path.as_os_str() == "-" {
            "stdin line".to_string()
        } else {
            format!("{} line", path.display())
        };
        line_reader = Some((origin, path));
    }
    let Io {
        stdin,
        stdout,
        stderr,
        ..
    } = io;
    let stdin: &mut dyn BufRead = *stdin;
    let stderr: &mut dyn Write = *stderr;
    // Choose the revision.
    let (proto, ahead, mut lines): (Proto, Vec<Line>, Option<LineIter>);
    let mut bin_reader: Option<Box<dyn Read>> = None;
    if let Some(path) = &bin {
        proto = global.proto.unwrap_or(Proto::P0006);
        if global.verbose > 0 {
            writeln!(
                stderr,
                "hgframe: protocol {proto}{}",
                if global.proto.is_some() {
                    ""
                } else {
                    " (default for --bin)"
                }
            )?;
        }
        ahead = Vec::new();
        lines = None;
        bin_reader = Some(open_input(path, stdin)?);
    } else {
        let reader = match &line_reader {
            Some((origin, path)) => Some((origin.clone(), open_input(path, stdin)?)),
            None => None,
        };
        let mut it = frame_lines(&a.frames, reader);
        let (p, ah) = choose_proto(global, &mut it, stderr)?;
        proto = p;
        ahead = ah;
        lines = Some(it);
    }
    let responder = parse_responder(proto, &a.respond)?;
    let mut session = Session::new(
        proto,
        ReactorOptions {
            defer_output: a.defer_output,
        },
        responder,
    );
    let verbose = global.verbose > 0;
    let sink = if a.raw {
        Sink::Raw(ReflectBody::new(proto))
    } else if a.json {
        Sink::Json(*stdout)
    } else {
        Sink::Pretty(*stdout, verbose)
    };
    let mut out = Out {
        proto,
        sink,
        crash: None,
        io_err: None,
    };
    // The server reads the body with its own length arithmetic.
    let mut undecodable = None;
    if let Some(r) = bin_reader {
        for item in FrameReader::new(proto, LengthMode::Mercurial, r) {
            if out.crash.is_some() {
                break;
            }
            match item {
                Ok(l) => session.frame(l, &mut |s| out.emit(s)),
                Err(ReadError::Decode(e)) => {
                    undecodable = Some(e.clone());
                    out.emit(Step::Undecodable(e));
                    break;
                }
                Err(ReadError::Io(e)) => {
                    return Err(CmdError::Usage(format!("error: cannot read input: {e}")))
                }
            }
            if out.io_err.is_some() {
                break;
            }
        }
    } else if let Some(it) = lines.take() {
        let mut dec = FrameDecoder::new(proto, LengthMode::Mercurial);
        let mut buf = Vec::new();
        for l in ahead.into_iter().map(Ok).chain(it) {
            let l = l?;
            let f = parse_line(proto, &l, stderr)?;
            buf.clear();
            f.encode_into(proto, &mut buf)
                .map_err(|e| CmdError::Usage(format!("error: {} {}: {e}", l.origin, l.number)))?;
            dec.feed(&buf);
            while let Some(fr) = dec.next_frame() {
                if out.crash.is_some() {
                    break;
                }
                session.frame(fr, &mut |s| out.emit(s));
            }
            if out.io_err.is_some() || out.crash.is_some() {
                break;
            }
        }
        if let Err(e) = dec.finish() {
            undecodable = Some(e.clone());
            out.emit(Step::Undecodable(e));
        }
    }
    if undecodable.is_none() && out.io_err.is_none() && out.crash.is_none() {
        session.eof(&mut |s| out.emit(s));
    }
    if let Some(e) = out.io_err {
        return Err(CmdError::Io(e));
    }
    let (sink, crash) = (out.sink, out.crash);
    match sink {
        Sink::Raw(body) => match body.finish() {
            Ok(b) => {
                stdout.write_all(&b)?;
                stdout.flush()?;
                Ok(0)
            }
            Err(e) => {
                let code = matches!(e, Http500::Undecodable(_));
                let msg = format!(
                    "error: {e}\n  = Mercurial's log would show: {}\n  = a real server returns no body, only `Internal Server Error`",
                    e.exception()
                );
                if code {
                    Err(CmdError::Undecodable(msg))
                } else {
                    Err(CmdError::Http(msg))
                }
            }
        },
        Sink::Json(w) | Sink::Pretty(w, _) => {
            w.flush()?;
            if let Some(e) = undecodable {
                return Err(CmdError::Undecodable(format!(
                    "error: {e}\n  = a Mercurial server answers HTTP 500 for this body"
                )));
            }
            match crash {
                Some(c) => Err(CmdError::Http(format!(
                    "error: a Mercurial server answers HTTP 500 here: {c}"
                ))),
                None => Ok(0),
            }
        }
    }
}

struct Out<'w> {
    proto: Proto,
    sink: Sink<'w>,
    crash: Option<String>,
    io_err: Option<io::Error>,
}

impl Out<'_> {
    fn emit(&mut self, step: Step) {
        if self.crash.is_none() {
            self.crash = step_crash(&step);
        }
        let proto = self.proto;
        let r = match &mut self.sink {
            Sink::Raw(b) => {
                b.push(&step);
                Ok(())
            }
            Sink::Json(w) => serde_json::to_writer(&mut **w, &render::step_json(proto, &step))
                .map_err(io::Error::from)
                .and_then(|_| w.write_all(b"\n")),
            Sink::Pretty(w, v) => render::write_step_pretty(*w, proto, &step, *v),
        };
        if let Err(e) = r {
            self.io_err.get_or_insert(e);
        }
    }
}

fn step_crash(step: &Step) -> Option<String> {
    let (outcome, sent) = match step {
        Step::Frame { outcome, sent, .. }
        | Step::Response { outcome, sent, .. }
        | Step::Eof { outcome, sent } => (outcome, sent),
        Step::Undecodable(_) => return None,
    };
    if let Err(c) = outcome {
        return Some(c.exception.clone());
    }
    sent.as_ref()
        .and_then(|c| c.crash.as_ref())
        .map(|c| c.exception.clone())
}
