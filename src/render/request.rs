//! `--dry-run` and `--curl`: a request shown instead of sent.

use std::io::{self, Write};

use crate::python::escape::hex;
use crate::render::frame_line;
use crate::wire::frame::{LengthMode, SliceDecoder};
use crate::wire::proto::Proto;

/// `--dry-run`: the request as text.
pub fn write_request(
    w: &mut dyn Write,
    proto: Proto,
    url: &str,
    extra: &[String],
    body: &[u8],
) -> io::Result<()> {
    let mt = proto.table().media_type;
    writeln!(w, "POST {url}")?;
    writeln!(w, "Accept: {mt}")?;
    writeln!(w, "Content-Type: {mt}")?;
    for h in extra {
        writeln!(w, "{h}")?;
    }
    writeln!(w, "Content-Length: {}", body.len())?;
    writeln!(w)?;
    for item in SliceDecoder::new(proto, LengthMode::Correct, body) {
        match item {
            Ok(l) => {
                let f = l.frame.to_owned();
                writeln!(w, "{}", frame_line(proto, &f, true))?;
                let mut b = Vec::new();
                f.encode_into(proto, &mut b).ok();
                writeln!(w, "  hex {}", hex(&b))?;
            }
            Err(e) => writeln!(w, "{e}")?,
        }
    }
    Ok(())
}

/// `--curl`: an equivalent command line.
pub fn write_curl(
    w: &mut dyn Write,
    proto: Proto,
    url: &str,
    extra: &[String],
    body: &[u8],
) -> io::Result<()> {
    let mt = proto.table().media_type;
    let mut printf = String::new();
    for b in body {
        printf.push_str(&format!("\\{b:03o}"));
    }
    write!(
        w,
        "printf '{printf}' | curl -sS -X POST -H 'Accept: {mt}' -H 'Content-Type: {mt}'"
    )?;
    for h in extra {
        write!(w, " -H '{}'", h.replace('\'', "'\\''"))?;
    }
    writeln!(w, " --data-binary @- '{}'", url.replace('\'', "'\\''"))
}
