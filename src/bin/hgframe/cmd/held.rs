//! Holding a `reflect --raw` body until its end is known.
//!
//! A debugreflect body is all or nothing: a frame that makes the server
//! raise, late in the input, means the client gets HTTP 500 and none of
//! the body. So the body cannot be printed as it is built. Held in memory
//! it would cost its whole size in RAM (a 1 GB body, 1 GB); instead, past
//! [`SPILL_AT`] bytes, its full blocks move to an anonymous temporary file
//! (`tempfile::tempfile`: unlinked from the start, gone with the process
//! however it ends) and are copied to stdout once the body is complete.
//! The page cache holds them, which the kernel can write back and reclaim;
//! the process itself stays at a few MiB whatever the body's size.
//!
//! When no temporary file can be made or written (no `TMPDIR`, a full
//! disk), the rest of the body stays in memory, as before: the output is
//! the same either way.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};

use hgframe::reflect::{Http500, ReflectBody};
use hgframe::session::Step;

/// Full blocks held in memory before the temporary file is made; from
/// then on each block moves there once it is full.
pub const SPILL_AT: usize = 1 << 20;

/// A `reflect --raw` body being built: its first bytes perhaps in a
/// temporary file, the rest in memory.
pub struct HeldBody {
    body: ReflectBody,
    /// The temporary file and how many bytes it holds (whole blocks).
    file: Option<(File, u64)>,
    /// The temporary file failed: hold the rest in memory.
    in_memory: bool,
}

impl HeldBody {
    pub fn new(body: ReflectBody) -> Self {
        HeldBody {
            body,
            file: None,
            in_memory: false,
        }
    }

    /// Add one step, moving full blocks to the temporary file when enough
    /// are held.
    pub fn push(&mut self, step: &Step) {
        self.body.push(step);
        if self.in_memory {
            return;
        }
        let sealed = self.body.sealed_blocks();
        let due = match self.file {
            Some(_) => !sealed.is_empty(),
            None => sealed.iter().map(Vec::len).sum::<usize>() >= SPILL_AT,
        };
        if due {
            if let Err(_e) = self.spill() {
                // Keep what did not reach the file in memory; the bytes the
                // file holds are counted, so a partial write is ignored.
                self.in_memory = true;
            }
        }
    }

    fn spill(&mut self) -> io::Result<()> {
        if self.file.is_none() {
            self.file = Some((tempfile::tempfile()?, 0));
        }
        let (file, len) = self.file.as_mut().expect("the file was just made");
        let mut written = 0;
        let mut result = Ok(());
        for b in self.body.sealed_blocks() {
            if let Err(e) = file.write_all(b) {
                result = Err(e);
                break;
            }
            *len += b.len() as u64;
            written += 1;
        }
        self.body.forget_sealed(written);
        result
    }

    /// The whole body written to `out`, or the 500 a server answers.
    pub fn finish(self, out: &mut dyn Write) -> Result<io::Result<()>, Http500> {
        let blocks = self.body.finish_blocks()?;
        Ok(write_all(self.file, blocks, out))
    }
}

fn write_all(
    file: Option<(File, u64)>,
    blocks: Vec<Vec<u8>>,
    out: &mut dyn Write,
) -> io::Result<()> {
    if let Some((mut f, len)) = file {
        f.seek(SeekFrom::Start(0))?;
        let mut f = f.take(len);
        let mut buf = vec![0u8; 256 << 10];
        let mut copied = 0u64;
        loop {
            let n = match f.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            out.write_all(&buf[..n])?;
            copied += n as u64;
        }
        if copied != len {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "the temporary file holding the body gave back {copied} of its {len} bytes"
                ),
            ));
        }
    }
    for b in blocks {
        out.write_all(&b)?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hgframe::reactor::ReactorOptions;
    use hgframe::session::{Responder, Session};
    use hgframe::Proto;

    /// The body through the temporary file is the body held in memory,
    /// and the file was used.
    #[test]
    fn a_spilled_body_is_the_body() {
        let proto = Proto::DEFAULT;
        // 40k frames of a 200-byte payload: a body of several blocks.
        let mut input = Vec::new();
        for i in 0..40_000u32 {
            let f = hgframe::wire::frame::Frame {
                request_id: 1 + (i % 1000) as u16,
                stream_id: 1,
                stream_flags: if i == 0 { 1 } else { 0 },
                type_id: 2,
                flags: 0,
                payload: vec![b'x'; 200],
            };
            f.encode_into(proto, &mut input).unwrap();
        }
        let run = |spill: bool| {
            let mut s = Session::new(proto, ReactorOptions::default(), Responder::default());
            s.push_bytes(&input);
            s.finish_input();
            let mut held = HeldBody::new(ReflectBody::new(proto));
            held.in_memory = !spill;
            while let Some(st) = s.poll() {
                held.push(&st);
            }
            let used = held.file.as_ref().map_or(0, |f| f.1);
            let mut out = Vec::new();
            held.finish(&mut out).unwrap().unwrap();
            (out, used)
        };
        let (spilled, used) = run(true);
        let (memory, unused) = run(false);
        assert!(used >= SPILL_AT as u64, "the file held {used} bytes");
        assert_eq!(unused, 0);
        assert!(memory.len() > 2 * SPILL_AT, "{}", memory.len());
        assert!(spilled == memory, "the bodies differ");
    }
}
