//! `hgframe decode`: wire bytes (binary or hex) to frames, as blocks,
//! human strings or JSON lines, streamed. A request body's frames are
//! listed; a response body's go through the client reactor (streams
//! decoded, objects reassembled per request, refusals shown); a body that
//! is not frames is decoded as its `--content-type` says.

use std::io::{self, Read};

use hgframe::human::to_human_into;
use hgframe::python::cbor::BufferingDecoder;
use hgframe::reactor::client::response::{read_request_body, ResponseDecoder, ResponseEvent};
use hgframe::reactor::client::{has_client_reactor, Limits, OverLimit};
use hgframe::render;
use hgframe::render::response as rr;
use hgframe::wire::body::{escape_text, BodyKind};
use hgframe::wire::frame::{Frame, FrameReader, LengthMode, Located, ReadError};
use hgframe::wire::proto::Sender;
use hgframe::Proto;

use super::{open_input, Io, Result};
use crate::args::{DecodeArgs, DecodeFormat, GlobalOpts, Side};
use crate::error::Failure;

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

/// Bytes as a readable size: `64 MiB`, `1500 bytes`.
pub fn size_text(n: u64) -> String {
    for (shift, unit) in [(30, "GiB"), (20, "MiB"), (10, "KiB")] {
        if n >= 1 << shift && n.is_multiple_of(1 << shift) {
            return format!("{} {unit}", n >> shift);
        }
    }
    format!("{n} bytes")
}

/// The failure for a response over the memory bound.
pub fn over_limit(o: OverLimit) -> Failure {
    Failure::Undecodable(format!(
        "{o}\n  = hgframe bounds the memory one response may take (--max-value, now {}); raise it if the response is legitimate",
        size_text(o.limit)
    ))
}

/// Whether the start of an input is hex text: at least 8 hex digits and
/// nothing but hex digits and whitespace. Binary frames never are (their
/// headers hold bytes below 0x20).
fn looks_like_hex(head: &[u8]) -> bool {
    let head = &head[..head.len().min(512)];
    head.iter().filter(|b| b.is_ascii_hexdigit()).count() >= 8
        && head
            .iter()
            .all(|b| b.is_ascii_hexdigit() || b.is_ascii_whitespace())
}

fn read_failure(e: ReadError, input: &std::path::Path, hex_text: bool) -> Failure {
    match e {
        ReadError::Decode(e) => {
            let hint = if hex_text {
                "the input is hex text: decode it with --hex-input (e.g. hgframe encode ... | hgframe decode --hex-input)"
            } else {
                "the input ends inside a frame; was it cut short, or is it another protocol revision (--proto)?"
            };
            Failure::Undecodable(format!("{e}\n  = {hint}"))
        }
        ReadError::Io(e) if e.kind() == io::ErrorKind::InvalidData => {
            Failure::Usage(format!("bad hex input: {e}"))
        }
        ReadError::Io(e) => Failure::Usage(format!("cannot read {}: {e}", input.display())),
    }
}

/// Where the decoders write (the standard streams, apart from stdin,
/// which the input may be reading).
struct Out<'a> {
    stdout: &'a mut dyn io::Write,
    stderr: &'a mut dyn io::Write,
    /// Colour on for stdout: the block renderer writes styles only then.
    color: bool,
}

pub fn run(global: &GlobalOpts, a: DecodeArgs, io: &mut Io<'_>) -> Result<u8> {
    let kind = a.content_type.as_deref().map(BodyKind::of);
    let (proto, why) = match (&kind, global.proto) {
        (Some(BodyKind::Frames(p)), Some(g)) if *p != g => {
            return Err(Failure::Usage(format!(
                "--content-type {} is protocol {p}, but {} says {g}",
                a.content_type.as_deref().unwrap_or_default(),
                if global.hg.is_some() {
                    "--hg"
                } else {
                    "--proto"
                }
            )))
        }
        (Some(BodyKind::Frames(p)), _) => (*p, " (named by --content-type)".to_string()),
        (_, Some(p)) => (p, format!(" ({})", super::proto_origin(global))),
        (_, None) => {
            let others: Vec<&str> = Proto::all()
                .filter(|p| *p != Proto::DEFAULT)
                .map(|p| p.name())
                .collect();
            let (last, rest) = others.split_last().unwrap_or((&"", &[]));
            (
                Proto::DEFAULT,
                format!(
                    " (the default; use --proto for {} or {last}, or --hg VERSION)",
                    rest.join(", ")
                ),
            )
        }
    };
    if a.input.as_os_str() == "-" {
        io.note_stdin(if a.hex_input {
            "hex text"
        } else if kind
            .as_ref()
            .is_some_and(|k| !matches!(k, BodyKind::Frames(_)))
        {
            "a body"
        } else {
            "binary frames"
        })?;
    }
    let mut input = open_input(&a.input, io.stdin)?;
    let io = &mut Out {
        stdout: &mut *io.stdout,
        stderr: &mut *io.stderr,
        color: io.color,
    };
    // Hex text given as binary frames (`encode | decode`) decodes as
    // nonsense: say what it looks like (peeking does not consume it).
    let hex_text = !a.hex_input
        && matches!(kind, None | Some(BodyKind::Frames(_)))
        && looks_like_hex(
            input
                .fill_buf()
                .map_err(|e| Failure::Usage(format!("cannot read {}: {e}", a.input.display())))?,
        );
    if hex_text {
        writeln!(
            io.stderr,
            "hgframe: warning: the input looks like hex text, not binary frames; pass --hex-input to decode hex"
        )?;
    }
    let reader: Box<dyn Read> = if a.hex_input {
        Box::new(HexReader {
            inner: input,
            pending: None,
            pos: 0,
        })
    } else {
        Box::new(input)
    };
    match kind {
        Some(BodyKind::Frames(_)) | None => {}
        Some(other) => {
            if let Some(side) = a.side {
                return Err(Failure::Usage(format!(
                    "--side {} needs frames, but --content-type {} is not a frames media type",
                    if side == Side::Request {
                        "request"
                    } else {
                        "response"
                    },
                    a.content_type.as_deref().unwrap_or_default()
                )));
            }
            return decode_body(&a, other, reader, io);
        }
    }
    if global.verbose > 0 {
        writeln!(io.stderr, "hgframe: decoding as protocol {proto}{why}")?;
    }
    let mode = if a.mercurial_lengths {
        LengthMode::Mercurial
    } else {
        LengthMode::Correct
    };
    let mut frames = FrameReader::new(proto, mode, reader);
    let first = frames.next();
    let side = match (a.side, &first) {
        (Some(s), _) => {
            if global.verbose > 0 {
                writeln!(
                    io.stderr,
                    "hgframe: decoding the {} side (--side)",
                    side_name(s)
                )?;
            }
            s
        }
        (None, Some(Ok(l))) => {
            let sender = proto.sender_of(l.frame.type_id, l.frame.stream_id);
            let from_server = matches!(sender, Some((Sender::Server, _)));
            let (side, why) = match sender {
                Some((Sender::Server, why)) if has_client_reactor(proto) => (Side::Response, why),
                Some((Sender::Server, why)) => (
                    Side::Request,
                    format!("{why}, but hgframe has no client reactor for protocol {proto}: frames listed"),
                ),
                Some((Sender::Client, why)) => (Side::Request, why),
                None => (Side::Request, "nothing tells; the default".to_string()),
            };
            // The request side is what decode always did: -v names the
            // side when the frames come from a server, -vv always.
            if global.verbose > 1 || (global.verbose > 0 && from_server) {
                writeln!(
                    io.stderr,
                    "hgframe: decoding the {} side ({why})",
                    side_name(side)
                )?;
            }
            side
        }
        (None, _) => Side::Request,
    };
    let frames = first.into_iter().chain(frames);
    if side == Side::Request && a.request.is_some() {
        writeln!(
            io.stderr,
            "hgframe: warning: --request is for decoding a response; these frames are a request (--side response decodes them as one)"
        )?;
    }
    match side {
        Side::Request => decode_request(global, &a, proto, frames, io, hex_text),
        Side::Response => decode_response(global, &a, proto, frames, io, hex_text),
    }
}

fn side_name(s: Side) -> &'static str {
    match s {
        Side::Request => "request",
        Side::Response => "response",
    }
}

fn decode_request(
    global: &GlobalOpts,
    a: &DecodeArgs,
    proto: Proto,
    frames: impl Iterator<Item = std::result::Result<Located<Frame>, ReadError>>,
    io: &mut Out<'_>,
    hex_text: bool,
) -> Result<u8> {
    let verbose = global.verbose > 0;
    let format = a.output();
    let ink = render::ink::Ink::new(io.color);
    // Every frame is rendered into one buffer, written out in 64 KiB
    // pieces: no allocation or formatting per frame (see render::ink).
    let mut out = Vec::with_capacity(128 << 10);
    for (index, item) in frames.enumerate() {
        let l = match item {
            Ok(l) => l,
            Err(e) => {
                io.stdout.write_all(&out)?;
                io.stdout.flush()?;
                return Err(read_failure(e, &a.input, hex_text));
            }
        };
        match format {
            DecodeFormat::Json => {
                render::write_frame_json(
                    &mut out,
                    proto,
                    l.offset,
                    &l.frame,
                    &render::frame_warnings(&l),
                );
                out.push(b'\n');
            }
            DecodeFormat::Human => {
                to_human_into(&mut out, proto, &l.frame);
                out.push(b'\n');
                let warnings = render::frame_warnings(&l);
                if !warnings.is_empty() {
                    // Warnings go to stderr after the line they are about.
                    io.stdout.write_all(&out)?;
                    io.stdout.flush()?;
                    out.clear();
                    for w in warnings {
                        writeln!(
                            io.stderr,
                            "hgframe: warning: frame at offset {}: {w}",
                            l.offset
                        )?;
                    }
                }
            }
            DecodeFormat::Blocks => {
                if index > 0 {
                    out.push(b'\n');
                }
                render::frame::frame_block_into(&mut out, ink, proto, index, &l, verbose, true);
            }
        }
        if out.len() >= 64 << 10 {
            io.stdout.write_all(&out)?;
            out.clear();
            if out.capacity() > 1 << 20 {
                out = Vec::with_capacity(128 << 10);
            }
        }
    }
    io.stdout.write_all(&out)?;
    io.stdout.flush()?;
    Ok(0)
}

/// Read a whole file of at most `limit` bytes.
fn read_bounded(path: &std::path::Path, limit: u64) -> Result<Vec<u8>> {
    let f = std::fs::File::open(path)
        .map_err(|e| Failure::Usage(format!("cannot open {}: {e}", path.display())))?;
    let mut b = Vec::new();
    f.take(limit + 1)
        .read_to_end(&mut b)
        .map_err(|e| Failure::Usage(format!("cannot read {}: {e}", path.display())))?;
    if b.len() as u64 > limit {
        return Err(Failure::Usage(format!(
            "{} is larger than {} (--max-value): not a request body hgframe reads",
            path.display(),
            size_text(limit)
        )));
    }
    Ok(b)
}

fn decode_response(
    global: &GlobalOpts,
    a: &DecodeArgs,
    proto: Proto,
    frames: impl Iterator<Item = std::result::Result<Located<Frame>, ReadError>>,
    io: &mut Out<'_>,
    hex_text: bool,
) -> Result<u8> {
    let verbose = global.verbose > 0;
    let limits = Limits {
        max_value: a.max_value,
    };
    let mut dec = match &a.request {
        Some(path) => {
            let body = read_bounded(path, a.max_value)?;
            let req = read_request_body(proto, &body);
            for p in &req.problems {
                writeln!(io.stderr, "hgframe: warning: {}: {p}", path.display())?;
            }
            let (dec, sent) = ResponseDecoder::for_request(proto, &req, limits)
                .map_err(|e| Failure::Usage(e.to_string()))?;
            if sent != body {
                writeln!(
                    io.stderr,
                    "hgframe: warning: {}: not the body a Mercurial client sends for its {} command(s); its client reactor numbers requests 1, 3, 5, ... itself, so frames are judged against those ids",
                    path.display(),
                    req.commands.len()
                )?;
            }
            if verbose {
                let cmds: Vec<String> = req
                    .commands
                    .iter()
                    .map(|c| {
                        format!(
                            "{} {}",
                            c.request_id,
                            String::from_utf8_lossy(&c.command.name)
                        )
                    })
                    .collect();
                writeln!(io.stderr, "hgframe: the request asks: {}", cmds.join(", "))?;
            }
            dec
        }
        None => ResponseDecoder::assuming_requests(proto, limits)
            .map_err(|e| Failure::Usage(e.to_string()))?,
    };
    let format = a.output();
    let mut json_buf = Vec::with_capacity(256);
    let mut data_errors = 0;
    let mut emit = |ev: &ResponseEvent, io: &mut Out<'_>| -> io::Result<()> {
        if let ResponseEvent::DataError { .. } = ev {
            data_errors += 1;
        }
        match format {
            DecodeFormat::Json => rr::write_event_json(io.stdout, proto, ev, &mut json_buf),
            DecodeFormat::Human => rr::write_event_human(io.stdout, proto, ev),
            DecodeFormat::Blocks => rr::write_event_block(io.stdout, proto, ev, verbose),
        }
    };
    let mut failure = None;
    for item in frames {
        let l = match item {
            Ok(l) => l,
            Err(e) => {
                failure = Some(read_failure(e, &a.input, hex_text));
                break;
            }
        };
        if let Err(o) = dec.push_frame(l) {
            failure = Some(over_limit(o));
            break;
        }
        while let Some(ev) = dec.poll() {
            match ev {
                Ok(ev) => emit(&ev, io)?,
                Err(o) => {
                    failure = Some(over_limit(o));
                    break;
                }
            }
        }
        if failure.is_some() {
            break;
        }
    }
    let summary = dec.summary();
    match format {
        DecodeFormat::Json => writeln!(io.stdout, "{}", rr::summary_json(&summary))?,
        DecodeFormat::Human => rr::write_summary_human(io.stdout, &summary)?,
        DecodeFormat::Blocks => rr::write_summary_block(io.stdout, &summary)?,
    }
    io.stdout.flush()?;
    if let Some(f) = failure {
        return Err(f);
    }
    Ok(if summary.refused > 0 || data_errors > 0 {
        4
    } else {
        0
    })
}

/// A body that is not frames, decoded as its content type says, streamed.
fn decode_body(
    a: &DecodeArgs,
    kind: BodyKind,
    mut r: Box<dyn Read + '_>,
    io: &mut Out<'_>,
) -> Result<u8> {
    let json_out = a.output() == DecodeFormat::Json;
    let verbose = false;
    let mut chunk = vec![0u8; 64 * 1024];
    let read = |r: &mut Box<dyn Read + '_>, buf: &mut [u8]| -> Result<usize> {
        loop {
            match r.read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                    return Err(Failure::Usage(format!("bad hex input: {e}")))
                }
                Err(e) => {
                    return Err(Failure::Usage(format!(
                        "cannot read {}: {e}",
                        a.input.display()
                    )))
                }
            }
        }
    };
    match kind {
        BodyKind::Cbor => {
            let mut d = BufferingDecoder::with_limit(a.max_value);
            let mut index = 0u64;
            let mut offset = 0u64;
            loop {
                let n = read(&mut r, &mut chunk)?;
                if n == 0 {
                    break;
                }
                if let Err(e) = d.decode(&chunk[..n]) {
                    io.stdout.flush()?;
                    if e.is_over_limit() {
                        return Err(over_limit(OverLimit {
                            what: format!("the CBOR body, value {index}"),
                            detail: e.0,
                            limit: a.max_value,
                        }));
                    }
                    return Err(Failure::Undecodable(format!(
                        "the CBOR body does not decode (value {index}, in bytes {offset}..{}): {}",
                        offset + n as u64,
                        e.python_exception()
                    )));
                }
                offset += n as u64;
                for v in d.get_available() {
                    rr::write_cbor_value(io.stdout, index, &v, json_out, verbose)?;
                    index += 1;
                }
            }
            io.stdout.flush()?;
            if d.in_progress() {
                return Err(Failure::Undecodable(format!(
                    "the CBOR body ends inside value {index} (after {offset} bytes)"
                )));
            }
            Ok(0)
        }
        BodyKind::Html => {
            // Pages are small; a page past the bound is not read whole.
            let mut page = Vec::new();
            loop {
                let n = read(&mut r, &mut chunk)?;
                if n == 0 {
                    break;
                }
                if (page.len() + n) as u64 > a.max_value {
                    return Err(over_limit(OverLimit {
                        what: "the HTML body".into(),
                        detail: format!("it is longer than {} bytes", a.max_value),
                        limit: a.max_value,
                    }));
                }
                page.extend_from_slice(&chunk[..n]);
            }
            let lines = hgframe::remote::body_summary("text/html", &page);
            rr::write_html(io.stdout, &lines, page.len() as u64, json_out)?;
            Ok(0)
        }
        BodyKind::Text | BodyKind::Other(_) => {
            if let BodyKind::Other(ct) = &kind {
                writeln!(
                    io.stderr,
                    "hgframe: warning: hgframe does not know the content type {ct:?}; showing the body as text"
                )?;
            }
            // UTF-8 sequences cut by a read are carried to the next one.
            let mut carry: Vec<u8> = Vec::new();
            let mut ends_with_newline = true;
            loop {
                let n = read(&mut r, &mut chunk)?;
                let mut buf = std::mem::take(&mut carry);
                buf.extend_from_slice(&chunk[..n]);
                if n > 0 {
                    let cut = incomplete_utf8_tail(&buf);
                    carry = buf.split_off(buf.len() - cut);
                }
                if !buf.is_empty() {
                    let text = escape_text(&buf);
                    ends_with_newline = text.ends_with('\n');
                    if json_out {
                        writeln!(
                            io.stdout,
                            "{}",
                            serde_json::json!({"event": "text", "text": text})
                        )?;
                    } else {
                        write!(io.stdout, "{text}")?;
                    }
                }
                if n == 0 {
                    break;
                }
            }
            if !json_out && !ends_with_newline {
                writeln!(io.stdout)?;
            }
            Ok(0)
        }
        BodyKind::Frames(_) => Ok(0),
    }
}

/// How many bytes at the end of `b` start a UTF-8 sequence that is not
/// complete yet (0 to 3).
fn incomplete_utf8_tail(b: &[u8]) -> usize {
    for back in 1..=3.min(b.len()) {
        let c = b[b.len() - back];
        if c & 0xc0 == 0x80 {
            continue;
        }
        let need = if c >= 0xf0 {
            4
        } else if c >= 0xe0 {
            3
        } else if c >= 0xc0 {
            2
        } else {
            1
        };
        return if need > back { back } else { 0 };
    }
    0
}
