//! Reading lines of human text (frame lines, transcripts, REPL scripts):
//! one rule everywhere. A line is text: bytes that are not UTF-8 are
//! reported with the line and the byte offset (raw bytes go in frames as
//! `\xNN` escapes), and a line longer than [`MAX_LINE`] is refused before
//! it is held whole, so no input makes memory grow without bound.

use std::io::BufRead;

/// The longest line read: a 16 MiB payload (the largest a frame holds)
/// written as `\xNN` escapes, with room to spare.
pub const MAX_LINE: usize = 80 * 1024 * 1024;

/// Why a line cannot be read as text.
#[derive(Debug, thiserror::Error)]
pub enum LineError {
    /// The bytes are not UTF-8.
    #[error("not UTF-8: byte {offset} of the line is 0x{byte:02x}\n  = human frame strings are text: write such bytes as \\x{byte:02x} escapes")]
    NotUtf8 { offset: usize, byte: u8 },
    /// The line is longer than [`MAX_LINE`].
    #[error("the line is longer than {max} bytes (is this a text file?)")]
    TooLong { max: usize },
    /// The line is longer than [`MAX_LINE`] and no end of line follows
    /// within as many bytes again: the input is not lines (`/dev/zero`, a
    /// binary file); nothing after it can be read as one.
    #[error("the line is longer than {max} bytes and no end of line follows in {max} more (is this a text file?); reading stopped")]
    NoEnd { max: usize },
    /// Reading failed.
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
}

/// The text of a line, or where it stops being UTF-8.
pub fn text_of(bytes: &[u8]) -> Result<&str, LineError> {
    std::str::from_utf8(bytes).map_err(|e| not_utf8(bytes, e))
}

/// [`text_of`] for a line read into its own buffer: the bytes become the
/// text (checked once, not copied).
pub fn into_text(bytes: Vec<u8>) -> Result<String, LineError> {
    String::from_utf8(bytes).map_err(|e| not_utf8(e.as_bytes(), e.utf8_error()))
}

fn not_utf8(bytes: &[u8], e: std::str::Utf8Error) -> LineError {
    let offset = e.valid_up_to();
    LineError::NotUtf8 {
        offset,
        byte: bytes[offset],
    }
}

/// Read one line (without its `\n` or `\r\n`) into `buf`, at most
/// `max` bytes; `Ok(false)` at the end of input.
pub fn read_line(r: &mut dyn BufRead, buf: &mut Vec<u8>, max: usize) -> Result<bool, LineError> {
    buf.clear();
    let mut any = false;
    loop {
        let chunk = match r.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        if chunk.is_empty() {
            break;
        }
        any = true;
        let (take, done) = match memchr::memchr(b'\n', chunk) {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        if buf.len() + take > max.saturating_add(2) {
            // Skip the rest of the line so a caller may go on after it,
            // but not forever: input without line ends is not lines.
            r.consume(take);
            if !done && !skip_line(r, max)? {
                return Err(LineError::NoEnd { max });
            }
            return Err(LineError::TooLong { max });
        }
        buf.extend_from_slice(&chunk[..take]);
        r.consume(take);
        if done {
            break;
        }
    }
    if buf.ends_with(b"\n") {
        buf.pop();
        if buf.ends_with(b"\r") {
            buf.pop();
        }
    }
    if buf.len() > max {
        return Err(LineError::TooLong { max });
    }
    Ok(any)
}

/// Skip to the end of the line, reading at most `limit` bytes: `false`
/// when no line end came within them.
fn skip_line(r: &mut dyn BufRead, limit: usize) -> Result<bool, LineError> {
    let mut skipped = 0usize;
    loop {
        let chunk = match r.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        if chunk.is_empty() {
            return Ok(true);
        }
        match memchr::memchr(b'\n', chunk) {
            Some(i) => {
                r.consume(i + 1);
                return Ok(true);
            }
            None => {
                let n = chunk.len();
                r.consume(n);
                skipped += n;
                if skipped > limit {
                    return Ok(false);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Input with no line ends (`/dev/zero`) stops reading: it was skipped
    /// forever, a line at a time that never ended.
    #[test]
    fn input_without_line_ends_stops_reading() {
        let mut endless = std::io::BufReader::new(std::io::repeat(0));
        let mut b = Vec::new();
        match read_line(&mut endless, &mut b, 1000) {
            Err(LineError::NoEnd { max: 1000 }) => {}
            other => panic!("{other:?}"),
        }
        // A long line that does end is skipped, and reading goes on.
        let mut r: &[u8] = b"xxxxxxxxxxxxxxxxxxxx\nnext\n";
        assert!(matches!(
            read_line(&mut r, &mut b, 8),
            Err(LineError::TooLong { max: 8 })
        ));
        assert!(read_line(&mut r, &mut b, 8).unwrap());
        assert_eq!(b, b"next");
    }

    #[test]
    fn lines_are_bounded_and_checked() {
        let mut r: &[u8] = b"one\r\ntw\xffo\n\nxxxxxxxxxxxx\nlast";
        let mut b = Vec::new();
        assert!(read_line(&mut r, &mut b, 8).unwrap());
        assert_eq!(text_of(&b).unwrap(), "one");
        assert!(read_line(&mut r, &mut b, 8).unwrap());
        match text_of(&b) {
            Err(LineError::NotUtf8 { offset, byte }) => assert_eq!((offset, byte), (2, 0xff)),
            other => panic!("{other:?}"),
        }
        assert!(read_line(&mut r, &mut b, 8).unwrap());
        assert!(b.is_empty());
        assert!(matches!(
            read_line(&mut r, &mut b, 8),
            Err(LineError::TooLong { max: 8 })
        ));
        // the long line was skipped: reading goes on after it
        assert!(read_line(&mut r, &mut b, 8).unwrap());
        assert_eq!(b, b"last");
        assert!(!read_line(&mut r, &mut b, 8).unwrap());
    }
}
