//! `hgframe decode`: wire bytes (binary or hex) to frames, as blocks,
//! human strings or JSON lines, streamed.

use std::io::{self, Read};

use hgframe::human::to_human;
use hgframe::render;
use hgframe::wire::frame::{FrameReader, LengthMode, ReadError};
use hgframe::Proto;

use super::{open_input, Io, Result};
use crate::args::{DecodeArgs, DecodeFormat, GlobalOpts};
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

pub fn run(global: &GlobalOpts, a: DecodeArgs, io: &mut Io<'_>) -> Result<u8> {
    let proto = global.proto.unwrap_or(Proto::DEFAULT);
    if global.verbose > 0 {
        let why = if global.proto.is_some() {
            format!(" ({})", super::proto_origin(global))
        } else {
            let others: Vec<&str> = Proto::all()
                .filter(|p| *p != proto)
                .map(|p| p.name())
                .collect();
            let (last, rest) = others.split_last().unwrap_or((&"", &[]));
            format!(
                " (the default; use --proto for {} or {last}, or --hg VERSION)",
                rest.join(", ")
            )
        };
        writeln!(io.stderr, "hgframe: decoding as protocol {proto}{why}")?;
    }
    if a.input.as_os_str() == "-" {
        io.note_stdin(if a.hex_input {
            "hex text"
        } else {
            "binary frames"
        })?;
    }
    let mut input = open_input(&a.input, io.stdin)?;
    // Hex text given as binary (`encode | decode`) decodes as nonsense:
    // say what it looks like (peeking does not consume it).
    let hex_text = !a.hex_input
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
                let hint = if hex_text {
                    "the input is hex text: decode it with --hex-input (e.g. hgframe encode ... | hgframe decode --hex-input)"
                } else {
                    "the input ends inside a frame; was it cut short, or is it another protocol revision (--proto)?"
                };
                return Err(Failure::Undecodable(format!("{e}\n  = {hint}")));
            }
            Err(ReadError::Io(e)) if e.kind() == io::ErrorKind::InvalidData => {
                return Err(Failure::Usage(format!("bad hex input: {e}")))
            }
            Err(ReadError::Io(e)) => {
                return Err(Failure::Usage(format!(
                    "cannot read {}: {e}",
                    a.input.display()
                )))
            }
        };
        let format = a.output();
        if format == DecodeFormat::Json {
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
        } else if format == DecodeFormat::Human {
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
