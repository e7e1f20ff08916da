//! Standard output without colour: the printers' style escapes removed on
//! the way out.
//!
//! The printers write styles as CSI sequences (`ESC [ … letter`) and escape
//! every control byte of the data they show, so an ESC on stdout is always
//! the start of a style. anstream's stripper parses every byte through a
//! terminal state machine and hands the text between escapes to stdout one
//! piece at a time — standard output is line-buffered, so that was a write
//! system call per line and a quarter of `decode`'s time (profiled). This
//! one finds ESC with `memchr`, copies the rest of a chunk into one buffer
//! and writes it in one call; text without escapes (the renderers that know
//! colour is off write none) costs a scan.

use std::io::{self, Write};

/// `inner` with every `ESC … letter` sequence removed, even when one is
/// split between two writes.
pub struct StripEscapes<W: Write> {
    inner: W,
    /// Inside a sequence: its bytes are dropped up to an ASCII letter.
    in_escape: bool,
    scratch: Vec<u8>,
}

impl<W: Write> StripEscapes<W> {
    pub fn new(inner: W) -> Self {
        StripEscapes {
            inner,
            in_escape: false,
            scratch: Vec::new(),
        }
    }
}

impl<W: Write> Write for StripEscapes<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut rest = buf;
        if !self.in_escape && memchr::memchr(0x1b, rest).is_none() {
            self.inner.write_all(rest)?;
            return Ok(buf.len());
        }
        self.scratch.clear();
        while !rest.is_empty() {
            if self.in_escape {
                match rest.iter().position(|c| c.is_ascii_alphabetic()) {
                    Some(i) => {
                        rest = &rest[i + 1..];
                        self.in_escape = false;
                    }
                    None => rest = &[],
                }
            } else {
                match memchr::memchr(0x1b, rest) {
                    Some(i) => {
                        self.scratch.extend_from_slice(&rest[..i]);
                        rest = &rest[i + 1..];
                        self.in_escape = true;
                    }
                    None => {
                        self.scratch.extend_from_slice(rest);
                        rest = &[];
                    }
                }
            }
        }
        self.inner.write_all(&self.scratch)?;
        if self.scratch.capacity() > 1 << 20 {
            self.scratch = Vec::new();
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strip(chunks: &[&[u8]]) -> Vec<u8> {
        let mut w = StripEscapes::new(Vec::new());
        for c in chunks {
            w.write_all(c).unwrap();
        }
        w.inner
    }

    #[test]
    fn removes_styles_even_split_between_writes() {
        let styled = b"\x1b[1m\x1b[36mframe 1\x1b[0m \x1b[2m@ offset 0\x1b[0m\nplain\n";
        assert_eq!(strip(&[styled]), b"frame 1 @ offset 0\nplain\n");
        for cut in 0..styled.len() {
            let (a, b) = styled.split_at(cut);
            assert_eq!(strip(&[a, b]), b"frame 1 @ offset 0\nplain\n", "{cut}");
        }
        assert_eq!(
            strip(&[b"no escapes \\x1b at all"]),
            b"no escapes \\x1b at all"
        );
        // What anstream (the stripper before this one) leaves of the same.
        let mut old = anstream::StripStream::new(Vec::new());
        old.write_all(styled).unwrap();
        assert_eq!(old.into_inner(), strip(&[styled]));
    }
}
