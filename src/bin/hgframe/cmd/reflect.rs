//! `hgframe reflect`: frames through the local reactor as a server's
//! debugreflect endpoint runs them, or posted to a real one (`--url`).

use std::io::{self, BufRead, Read, Write};

use hgframe::human::decide_proto;
use hgframe::reactor::{ReactorOptions, ServerCrash};
use hgframe::reflect::{reflect_bytes, same_but_set_order, Http500, ReflectBody};
use hgframe::remote::{self, RemoteError};
use hgframe::render;
use hgframe::render::style::Paint;
use hgframe::session::{Responder, Session, Step};
use hgframe::Proto;

use super::held::HeldBody;
use super::{
    choose_proto, frame_lines, lookahead, make_client, open_input, parse_line, proto_origin, Io,
    Line, Result,
};
use crate::args::{GlobalOpts, ReflectArgs, ReflectFormat};
use crate::error::Failure;

/// A request for `reflect --url`: raw bytes, or frame lines to encode
/// once the revision is known (it may come from the server).
enum Request {
    Bin(Vec<u8>),
    Lines(Vec<Line>),
}

type LineIter<'a> = Box<dyn Iterator<Item = Result<Line>> + 'a>;

enum Sink<'w> {
    /// The body, held until its end is known.
    Raw(HeldBody),
    Json(&'w mut dyn Write),
    /// The writer, verbose, the styles of the common lines.
    Pretty(&'w mut dyn Write, bool, render::ink::Ink),
}

/// Collect a whole request for `reflect --url`: the revision the text
/// decides (if any) and the bytes or lines.
fn collect_request(a: &ReflectArgs, io: &mut Io<'_>) -> Result<(Option<(Proto, String)>, Request)> {
    if let Some(path) = &a.bin {
        if path.as_os_str() == "-" {
            io.note_stdin("a request body")?;
        }
        let mut r = open_input(path, io.stdin)?;
        let mut b = Vec::new();
        r.read_to_end(&mut b)
            .map_err(|e| Failure::Usage(format!("cannot read {}: {e}", path.display())))?;
        return Ok((None, Request::Bin(b)));
    }
    let reader = if a.frames.is_empty() {
        let path = a.file.clone().unwrap_or_else(|| "-".into());
        let origin = if path.as_os_str() == "-" {
            io.note_stdin("frame lines")?;
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
    let decided = decide_proto(lines.iter().map(|l| l.text.as_str()));
    Ok((decided, Request::Lines(lines)))
}

/// The request's bytes for a revision.
fn encode_request(proto: Proto, req: Request, stderr: &mut dyn Write) -> Result<Vec<u8>> {
    match req {
        Request::Bin(b) => Ok(b),
        Request::Lines(lines) => {
            let mut body = Vec::new();
            for l in &lines {
                let f = parse_line(proto, l, stderr)?;
                f.encode_into(proto, &mut body)
                    .map_err(|e| Failure::Usage(format!("{} {}: {e}", l.origin, l.number)))?;
            }
            Ok(body)
        }
    }
}

pub fn run(global: &GlobalOpts, a: ReflectArgs, io: &mut Io<'_>) -> Result<u8> {
    if let Some(url) = a.url.clone() {
        if !a.respond.is_empty() || a.defer_output {
            return Err(Failure::Usage(
                "--respond and --defer-output play the server's part: they work with the local reactor, not with --url".into(),
            ));
        }
        let (text_proto, req) = collect_request(&a, io)?;
        return remote_reflect(global, &url, &a, text_proto, req, io.stdout, io.stderr);
    }
    // Frame source: raw bytes, or lines (args, -f FILE, or stdin).
    let bin = a.bin.clone();
    let mut line_reader = None;
    if bin.as_ref().is_some_and(|p| p.as_os_str() == "-") {
        io.note_stdin("a request body")?;
    }
    if bin.is_none() && a.frames.is_empty() {
        let path = a.file.clone().unwrap_or_else(|| "-".into());
        let origin = if path.as_os_str() == "-" {
            io.note_stdin("frame lines")?;
            "stdin line".to_string()
        } else {
            format!("{} line", path.display())
        };
        line_reader = Some((origin, path));
    }
    // Lines typed at a terminal are answered as they are typed.
    let from_stdin = line_reader
        .as_ref()
        .is_some_and(|(_, p): &(String, std::path::PathBuf)| p.as_os_str() == "-");
    let live = from_stdin && io.stdin_is_terminal;
    let Io {
        stdin,
        stdout,
        stderr,
        color,
        ..
    } = io;
    let color = *color;
    let stdin: &mut dyn BufRead = *stdin;
    let stderr: &mut dyn Write = *stderr;
    // Choose the revision.
    let (proto, ahead, lines): (Proto, Vec<Line>, Option<LineIter>);
    let mut bin_reader: Option<Box<dyn Read>> = None;
    if let Some(path) = &bin {
        proto = global.proto.unwrap_or(Proto::DEFAULT);
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
        let (p, ah) = choose_proto(global, &mut it, lookahead(from_stdin, live), stderr)?;
        proto = p;
        ahead = ah;
        lines = Some(it);
    }
    let responder = Responder::parse(proto, &a.respond)?;
    let mut session = Session::new(
        proto,
        ReactorOptions {
            defer_output: a.defer_output,
            max_value: a.max_value,
        },
        responder,
    );
    let verbose = global.verbose > 0;
    let sink = match a.output() {
        ReflectFormat::Raw => Sink::Raw(HeldBody::new(ReflectBody::new(proto))),
        ReflectFormat::Json => Sink::Json(*stdout),
        ReflectFormat::Pretty => Sink::Pretty(*stdout, verbose, render::ink::Ink::new(color)),
    };
    let mut out = Out {
        proto,
        sink,
        crash: None,
        undecodable: None,
        io_err: None,
        buf: Vec::new(),
        live,
    };
    // The session reads the body with a server's length arithmetic; a
    // server stops at the first exception. What was rendered before an
    // input error is written all the same.
    let fed = feed(
        &mut session,
        &mut out,
        bin_reader,
        ahead,
        lines,
        proto,
        stderr,
    );
    if fed.is_ok() && !out.stopped() {
        session.finish_input();
        pump(&mut session, &mut out);
    }
    out.write_out();
    fed?;
    let undecodable = out.undecodable.take();
    if let Some(e) = out.io_err {
        return Err(Failure::Io(e));
    }
    let (sink, crash) = (out.sink, out.crash);
    match sink {
        Sink::Raw(body) => match body.finish(*stdout) {
            Ok(written) => {
                written?;
                Ok(0)
            }
            Err(Http500::Crash(c)) if c.bound => Err(Failure::Undecodable(format!(
                "hgframe stops at its memory bound here: {}\n  = {}",
                c.exception, c.why
            ))),
            Err(e) => {
                let code = matches!(e, Http500::Undecodable(_));
                let msg = format!(
                    "{e}\n  = Mercurial's log would show: {}\n  = a real server returns no body, only `Internal Server Error`",
                    e.exception()
                );
                if code {
                    Err(Failure::Undecodable(msg))
                } else {
                    Err(Failure::Http(msg))
                }
            }
        },
        Sink::Json(w) | Sink::Pretty(w, _, _) => {
            w.flush()?;
            if let Some(e) = undecodable {
                return Err(Failure::Undecodable(format!(
                    "{e}\n  = a Mercurial server answers HTTP 500 for this body"
                )));
            }
            match crash {
                Some(c) if c.bound => Err(Failure::Undecodable(format!(
                    "hgframe stops at its memory bound here: {}\n  = {}",
                    c.exception, c.why
                ))),
                Some(c) => Err(Failure::Http(format!(
                    "a Mercurial server answers HTTP 500 here: {}",
                    c.exception
                ))),
                None => Ok(0),
            }
        }
    }
}

/// Hand the input to the session, frame by frame or chunk by chunk, and
/// its steps to the output, until the input ends or the run is over.
fn feed<'r>(
    session: &mut Session,
    out: &mut Out,
    bin_reader: Option<Box<dyn Read + 'r>>,
    ahead: Vec<Line>,
    lines: Option<LineIter<'r>>,
    proto: Proto,
    stderr: &mut dyn Write,
) -> Result<()> {
    if let Some(mut r) = bin_reader {
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            let n = match r.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Failure::Usage(format!("cannot read input: {e}"))),
            };
            session.push_bytes(&chunk[..n]);
            if pump(session, out) {
                break;
            }
        }
    } else if let Some(it) = lines {
        for l in ahead.into_iter().map(Ok).chain(it) {
            let l = l?;
            let f = parse_line(proto, &l, stderr)?;
            session
                .push_frame(&f)
                .map_err(|e| Failure::Usage(format!("{} {}: {e}", l.origin, l.number)))?;
            if pump(session, out) {
                break;
            }
            if out.live {
                out.write_now();
            }
        }
    }
    Ok(())
}

struct Out<'w> {
    proto: Proto,
    sink: Sink<'w>,
    crash: Option<ServerCrash>,
    undecodable: Option<hgframe::wire::frame::DecodeError>,
    io_err: Option<io::Error>,
    /// The text of the steps not yet written, reused: written once it
    /// holds [`OUT_CHUNK`] bytes, so that the 64 KiB `BufWriter` under it
    /// passes it through instead of copying every step into its own
    /// buffer (`reflect --format json` writes 100 MB for 200 k frames).
    buf: Vec<u8>,
    /// Frames typed at a terminal: each line's steps are written at once,
    /// not gathered.
    live: bool,
}

/// How much text [`Out`] gathers before writing it: the size of the
/// `BufWriter` on stdout, so that it writes the chunk straight through.
const OUT_CHUNK: usize = 64 << 10;

/// Hand the session's steps to the output until it has nothing more;
/// `true` once the run is over (a server exception, undecodable bytes or
/// an output error).
fn pump(session: &mut Session, out: &mut Out) -> bool {
    loop {
        // Looked at where poll left it: a step is a few hundred bytes.
        let step = session.poll();
        let Some(st) = &step else {
            return false;
        };
        out.emit(st);
        if out.stopped() {
            return true;
        }
    }
}

impl Out<'_> {
    fn stopped(&self) -> bool {
        self.io_err.is_some() || self.crash.is_some() || self.undecodable.is_some()
    }

    fn emit(&mut self, step: &Step) {
        if self.crash.is_none() {
            self.crash = step_crash(step);
        }
        if let Step::Undecodable(e) = step {
            self.undecodable = Some(e.clone());
        }
        let proto = self.proto;
        match &mut self.sink {
            Sink::Raw(b) => b.push(step),
            Sink::Json(_) => {
                render::json::write_step_json(&mut self.buf, proto, step);
                self.buf.push(b'\n');
            }
            Sink::Pretty(_, v, ink) => {
                render::pretty::step_pretty_into(&mut self.buf, *ink, proto, step, *v);
            }
        }
        if self.buf.len() >= OUT_CHUNK {
            self.write_out();
        }
    }

    /// Write the text gathered so far and flush it to the terminal.
    fn write_now(&mut self) {
        self.write_out();
        if let (Sink::Json(w) | Sink::Pretty(w, _, _), None) = (&mut self.sink, &self.io_err) {
            if let Err(e) = w.flush() {
                self.io_err = Some(e);
            }
        }
    }

    /// Write the text gathered so far (once the run is over, or a chunk).
    fn write_out(&mut self) {
        if self.buf.is_empty() || self.io_err.is_some() {
            return;
        }
        if let Sink::Json(w) | Sink::Pretty(w, _, _) = &mut self.sink {
            if let Err(e) = w.write_all(&self.buf) {
                self.io_err = Some(e);
            }
        }
        self.buf.clear();
    }
}

fn step_crash(step: &Step) -> Option<ServerCrash> {
    let (outcome, sent) = match step {
        Step::Frame { outcome, sent, .. }
        | Step::Response { outcome, sent, .. }
        | Step::Eof { outcome, sent } => (outcome, sent),
        Step::Undecodable(_) => return None,
    };
    if let Err(c) = outcome {
        return Some(c.clone());
    }
    sent.as_ref().and_then(|c| c.crash.clone())
}

/// `reflect --url`.
fn remote_reflect(
    global: &GlobalOpts,
    url: &str,
    a: &ReflectArgs,
    text_proto: Option<(Proto, String)>,
    req: Request,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8> {
    let opts = &a.remote;
    let client = make_client(opts, url)?;
    let verbose = global.verbose > 0;
    let proto = match (global.proto, text_proto) {
        (Some(p), _) => {
            if verbose {
                writeln!(
                    err,
                    "hgframe: protocol {} ({})",
                    p.describe(),
                    proto_origin(global)
                )?;
            }
            p
        }
        (None, text) if a.show.dry_run || a.show.curl => {
            let (p, why) = text.unwrap_or((Proto::DEFAULT, "the default".into()));
            if verbose {
                writeln!(
                    err,
                    "hgframe: protocol {p} ({why}; the server is not asked with --dry-run/--curl)"
                )?;
            }
            p
        }
        (None, text) => {
            let d = remote::detect(&client)?;
            if verbose {
                super::write_detected(err, &d)?;
            }
            match text {
                // Frames written in another revision's syntax are sent as
                // written (a debugger may send them on purpose).
                Some((tp, why)) if !tp.same_revision(d.proto) => {
                    writeln!(
                        err,
                        "hgframe: warning: the frames are protocol {tp} ({why}), the server speaks {}; sending them as {tp}",
                        d.proto
                    )?;
                    tp
                }
                _ => d.proto,
            }
        }
    };
    let body = encode_request(proto, req, err)?;
    let endpoint = client.target.command_url(proto, a.rw, "debugreflect");
    if a.show.dry_run {
        render::request::write_request(
            out,
            proto,
            &hgframe::client::redact(&endpoint),
            &opts.headers,
            &body,
        )?;
        return Ok(0);
    }
    if a.show.curl {
        render::request::write_curl(out, proto, &endpoint, &opts.headers, &body)?;
        return Ok(0);
    }
    let r = match remote::reflect(&client, proto, a.rw, &body) {
        Ok(r) => r,
        // With --compare a 500 is an answer to compare with the prediction.
        Err(RemoteError::Http(h)) if a.compare && h.status == 500 => {
            return match reflect_bytes(proto, &body) {
                Err(e) => {
                    writeln!(
                        err,
                        "{} the server answered HTTP 500, as the local reactor predicts: {}",
                        "✓".green().bold(),
                        e.exception()
                    )?;
                    Ok(0)
                }
                Ok(l) => {
                    writeln!(
                        err,
                        "{} the server answered HTTP 500, but the local reactor predicts 200 with this body:",
                        "✗".red().bold()
                    )?;
                    err.write_all(&l)?;
                    writeln!(err)?;
                    Ok(1)
                }
            };
        }
        Err(e) => return Err(e.into()),
    };
    match a.output() {
        ReflectFormat::Raw => out.write_all(&r.reply.body)?,
        ReflectFormat::Json => render::remote::write_remote_json(out, proto, &r.parsed)?,
        ReflectFormat::Pretty => {
            render::remote::write_remote_pretty(out, proto, &r.parsed, global.verbose > 0)?
        }
    }
    if !a.compare {
        return Ok(0);
    }
    let server = &r.reply.body;
    match reflect_bytes(proto, &body) {
        Ok(l) if &l == server => {
            writeln!(
                err,
                "{} the local reactor predicts this body exactly ({} bytes)",
                "✓".green().bold(),
                l.len()
            )?;
            Ok(0)
        }
        Ok(l) if same_but_set_order(proto, &body, &l, server) => {
            writeln!(
                err,
                "{} the local reactor predicts this body exactly, up to the order of set members ({} bytes)\n  = a CBOR set's members are compared as unordered: a Python set's order depends on the server process's hash seed",
                "✓".green().bold(),
                l.len()
            )?;
            Ok(0)
        }
        Ok(l) => {
            writeln!(
                err,
                "{} the local reactor and the server differ:",
                "✗".red().bold()
            )?;
            render::diff::write_diff(err, &l, server)?;
            Ok(1)
        }
        Err(e) => {
            writeln!(
                err,
                "{} the server answered 200 but the local reactor predicts: {e}",
                "✗".red().bold()
            )?;
            Ok(1)
        }
    }
}
