//! Byte escaping in both directions.
//!
//! [`escape_decode`] is Python's `codecs.escape_decode` (Python 2's
//! `string_escape`), which Mercurial's human-string helper applies to raw
//! payloads. [`escape_bytes`] is the inverse used for display and for
//! `--format human`: its output always decodes back to the same bytes.

use std::fmt::Write;

/// Why an escaped payload could not be decoded (Python raises `ValueError`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EscapeError {
    /// `\x` not followed by two hex digits.
    #[error("invalid \\x escape at position {pos}: expected two hex digits after \\x")]
    BadHex { pos: usize },
    /// A lone backslash at the very end.
    #[error("trailing \\ at position {pos}: a backslash must be followed by a character (write \\\\ for a backslash)")]
    Trailing { pos: usize },
}

impl EscapeError {
    pub fn pos(&self) -> usize {
        match self {
            EscapeError::BadHex { pos } | EscapeError::Trailing { pos } => *pos,
        }
    }
}

fn hexval(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Python's `codecs.escape_decode`: `\\ \' \" \a \b \f \n \r \t \v`,
/// `\<newline>` (removed), octal `\o`, `\oo`, `\ooo` (truncated to a byte),
/// `\xhh`; any other escape is kept as backslash plus character.
pub fn escape_decode(s: &[u8]) -> Result<Vec<u8>, EscapeError> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c != b'\\' {
            out.push(c);
            i += 1;
            continue;
        }
        let pos = i;
        i += 1;
        let Some(&e) = s.get(i) else {
            return Err(EscapeError::Trailing { pos });
        };
        i += 1;
        match e {
            b'\n' => {}
            b'\\' => out.push(b'\\'),
            b'\'' => out.push(b'\''),
            b'"' => out.push(b'"'),
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b't' => out.push(b'\t'),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b'v' => out.push(0x0b),
            b'a' => out.push(0x07),
            b'0'..=b'7' => {
                let mut v: u32 = (e - b'0') as u32;
                for _ in 0..2 {
                    match s.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            v = v * 8 + (d - b'0') as u32;
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push(v as u8);
            }
            b'x' => {
                let h = s.get(i).and_then(|&c| hexval(c));
                let l = s.get(i + 1).and_then(|&c| hexval(c));
                match (h, l) {
                    (Some(h), Some(l)) => {
                        out.push(h << 4 | l);
                        i += 2;
                    }
                    _ => return Err(EscapeError::BadHex { pos }),
                }
            }
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    Ok(out)
}

/// Escape bytes for display: printable ASCII as is, `\\`, `\n`, `\r`, `\t`,
/// everything else `\xNN`. `escape_decode(escape_bytes(b)) == b`.
pub fn escape_bytes(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len());
    for &c in b {
        match c {
            b'\\' => s.push_str("\\\\"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            0x20..=0x7e => s.push(c as char),
            _ => {
                let _ = write!(s, "\\x{c:02x}");
            }
        }
    }
    s
}

/// How each byte is written by one escaping scheme: up to 8 bytes each,
/// built at compile time. [`EscapeTable::write`] copies 8 bytes per input
/// byte into room made beforehand and moves on by the real length, with no
/// branch per byte: binary node ids are mostly escapes, and `decode`
/// writes millions of them.
pub struct EscapeTable {
    bytes: [[u8; 8]; 256],
    len: [u8; 256],
    /// The bytes written as themselves.
    plain: [bool; 256],
}

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

impl EscapeTable {
    /// `\\`, `\n`, `\r`, `\t`, `\xNN` for other bytes outside printable
    /// ASCII, and `quote` (when not 0) as backslash and itself; each
    /// backslash written `backslashes` times (2 inside a JSON string).
    pub const fn new(quote: u8, backslashes: usize) -> Self {
        let mut bytes = [[0u8; 8]; 256];
        let mut len = [0u8; 256];
        let mut plain_bytes = [false; 256];
        let mut c = 0;
        while c < 256 {
            let b = c as u8;
            let mut e = [0u8; 8];
            let mut n = 0;
            let named = match b {
                b'\\' => b'\\',
                b'\n' => b'n',
                b'\r' => b'r',
                b'\t' => b't',
                _ => 0,
            };
            let plain = b >= 0x20 && b <= 0x7e && b != b'\\' && (quote == 0 || b != quote);
            if plain {
                e[0] = b;
                n = 1;
                plain_bytes[c] = true;
            } else if quote != 0 && b == quote {
                // The quote is escaped once, by the outer syntax itself.
                e[0] = b'\\';
                e[1] = b;
                n = 2;
            } else {
                let mut k = 0;
                while k < backslashes {
                    e[n] = b'\\';
                    n += 1;
                    k += 1;
                }
                if named == b'\\' {
                    let mut k = 0;
                    while k < backslashes {
                        e[n] = b'\\';
                        n += 1;
                        k += 1;
                    }
                } else if named != 0 {
                    e[n] = named;
                    n += 1;
                } else {
                    e[n] = b'x';
                    e[n + 1] = HEX_DIGITS[(b >> 4) as usize];
                    e[n + 2] = HEX_DIGITS[(b & 15) as usize];
                    n += 3;
                }
            }
            bytes[c] = e;
            len[c] = n as u8;
            c += 1;
        }
        EscapeTable {
            bytes,
            len,
            plain: plain_bytes,
        }
    }

    /// `b` escaped, appended to `out`.
    pub fn write(&self, out: &mut Vec<u8>, b: &[u8]) {
        // Text with nothing to escape is copied in one piece (binary
        // bytes fail the test at once, usually on the first byte).
        if b.iter().all(|&c| self.plain[c as usize]) {
            out.extend_from_slice(b);
            return;
        }
        // 4 KiB of input at a time: the room made is 8 bytes per input
        // byte, so a 16 MiB payload never costs 128 MiB.
        for piece in b.chunks(4096) {
            let start = out.len();
            out.resize(start + piece.len() * 8, 0);
            let dst = &mut out[start..];
            let mut n = 0;
            for &c in piece {
                if let Some(d) = dst.get_mut(n..n + 8) {
                    d.copy_from_slice(&self.bytes[c as usize]);
                }
                n += self.len[c as usize] as usize;
            }
            out.truncate(start + n);
        }
    }

    /// The length of `b` escaped.
    pub fn len_of(&self, b: &[u8]) -> usize {
        b.iter().map(|&c| self.len[c as usize] as usize).sum()
    }
}

/// [`escape_bytes`]'s scheme.
pub static DISPLAY: EscapeTable = EscapeTable::new(0, 1);

/// The inside of a Python `b'...'` literal (`\'` too).
pub static BYTES_LITERAL: EscapeTable = EscapeTable::new(b'\'', 1);

/// [`escape_bytes`]'s text as the inside of a JSON string (its
/// backslashes doubled, `"` escaped).
pub static DISPLAY_IN_JSON: EscapeTable = EscapeTable::new(b'"', 2);

/// [`escape_bytes`] appended to `out`.
pub fn escape_bytes_into(out: &mut Vec<u8>, b: &[u8]) {
    DISPLAY.write(out, b);
}

/// The length of `escape_bytes(b)`.
pub fn escaped_len(b: &[u8]) -> usize {
    DISPLAY.len_of(b)
}

/// The first `max` characters of `escape_bytes(b)` and the length of the
/// whole escaped text, without escaping more than is shown.
pub fn escape_bytes_prefix(b: &[u8], max: usize) -> (String, usize) {
    let escaped_len = |c: u8| match c {
        b'\\' | b'\n' | b'\r' | b'\t' => 2,
        0x20..=0x7e => 1,
        _ => 4,
    };
    let total: usize = b.iter().map(|&c| escaped_len(c)).sum();
    let mut taken = 0;
    let mut n = 0;
    for &c in b {
        if n + escaped_len(c) > max {
            break;
        }
        n += escaped_len(c);
        taken += 1;
    }
    let mut s = escape_bytes(&b[..taken]);
    // A partial escape to fill the window exactly, as cutting the whole
    // escaped text would.
    if taken < b.len() && n < max {
        let next = escape_bytes(&b[taken..taken + 1]);
        s.push_str(&next[..max - n]);
    }
    (s, total)
}

/// Lowercase hex appended to `out` (a table lookup per byte into room
/// made beforehand).
pub fn hex_into(out: &mut Vec<u8>, b: &[u8]) {
    static PAIRS: [[u8; 2]; 256] = {
        let mut t = [[0u8; 2]; 256];
        let mut i = 0;
        while i < 256 {
            t[i] = [HEX_DIGITS[i >> 4], HEX_DIGITS[i & 15]];
            i += 1;
        }
        t
    };
    let start = out.len();
    out.resize(start + 2 * b.len(), 0);
    for (d, &c) in out[start..].chunks_exact_mut(2).zip(b) {
        d.copy_from_slice(&PAIRS[c as usize]);
    }
}

/// Lowercase hex.
pub fn hex(b: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for &c in b {
        s.push(DIGITS[(c >> 4) as usize] as char);
        s.push(DIGITS[(c & 0xf) as usize] as char);
    }
    s
}

/// Why a hex string could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HexError {
    #[error("invalid hex digit {ch:?} at position {pos}: expected 0-9, a-f or A-F")]
    BadDigit { pos: usize, ch: char },
    #[error("odd number of hex digits ({count}): every byte needs two")]
    Odd { count: usize },
}

/// Read hex, ignoring ASCII whitespace (so `xxd -p` output works).
pub fn unhex(s: &str) -> Result<Vec<u8>, HexError> {
    let mut out = Vec::with_capacity(s.len() / 2);
    let mut pending: Option<u8> = None;
    let mut count = 0;
    for (pos, ch) in s.char_indices() {
        if ch.is_ascii_whitespace() {
            continue;
        }
        let v = (ch.is_ascii())
            .then(|| hexval(ch as u8))
            .flatten()
            .ok_or(HexError::BadDigit { pos, ch })?;
        count += 1;
        match pending.take() {
            None => pending = Some(v),
            Some(h) => out.push(h << 4 | v),
        }
    }
    if pending.is_some() {
        return Err(HexError::Odd { count });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_into_a_buffer_is_escape_bytes() {
        let all: Vec<u8> = (0..=255u8).chain(*b"ab\\\n\r\t ~").collect();
        for b in [
            &all[..],
            b"",
            b"plain",
            b"plain text ~!",
            b"\\",
            b"\xff",
            b"x\"y",
        ] {
            let mut out = b">".to_vec();
            escape_bytes_into(&mut out, b);
            assert_eq!(&out[1..], escape_bytes(b).as_bytes());
            assert_eq!(escaped_len(b), escape_bytes(b).len());
            let mut json = Vec::new();
            DISPLAY_IN_JSON.write(&mut json, b);
            assert_eq!(
                String::from_utf8(json).unwrap(),
                serde_json::to_string(&escape_bytes(b))
                    .unwrap()
                    .trim_matches('"')
            );
        }
        let long: Vec<u8> = all.iter().copied().cycle().take(10_000).collect();
        let mut out = Vec::new();
        escape_bytes_into(&mut out, &long);
        assert_eq!(out, escape_bytes(&long).as_bytes());
        let mut out = b"x".to_vec();
        hex_into(&mut out, &long);
        assert_eq!(&out[1..], hex(&long).as_bytes());
    }

    #[test]
    fn python_escapes() {
        assert_eq!(
            escape_decode(br"a\x41\n\t\\\0\101\q").unwrap(),
            b"aA\n\t\\\0A\\q"
        );
        assert_eq!(escape_decode(br"\777").unwrap(), vec![0xff]);
        assert_eq!(escape_decode(b"a\\\nb").unwrap(), b"ab");
        assert_eq!(escape_decode(br"\xZZ"), Err(EscapeError::BadHex { pos: 0 }));
        assert_eq!(
            escape_decode(br"ab\"),
            Err(EscapeError::Trailing { pos: 2 })
        );
        assert_eq!(escape_decode(br"\x4"), Err(EscapeError::BadHex { pos: 0 }));
    }

    #[test]
    fn display_roundtrip() {
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(escape_decode(escape_bytes(&all).as_bytes()).unwrap(), all);
    }

    #[test]
    fn hex_roundtrip() {
        assert_eq!(unhex("00 ff\nAb").unwrap(), vec![0, 0xff, 0xab]);
        assert!(unhex("0g").is_err());
        assert!(unhex("abc").is_err());
    }
}
