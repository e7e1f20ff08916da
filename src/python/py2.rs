//! Python 2.7 details that show in the texts of exceptions Mercurial 4.6
//! and 4.7 raise: the UTF-8 codec's errors (and its `replace` handler),
//! the ASCII codec's encode errors, `repr()` of one character, and the
//! type names C code puts in its messages.
//!
//! Python 2 (a "wide" build, as pyenv builds it on Linux) decodes UTF-8
//! leniently: encoded surrogates (`\xed\xa0\x80`) are accepted and stay
//! separate code points. Text values ([`Value::Str`]) hold such UTF-8, so
//! their code points are what Python's `unicode` holds.

use super::value::Value;

/// Where Python 2's UTF-8 decoder stops: byte range and reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utf8Error {
    pub start: usize,
    pub end: usize,
    pub reason: &'static str,
}

/// `utf8_code_length` of Python 2.7: 0 for bytes that start nothing.
fn code_length(b: u8) -> usize {
    match b {
        0x00..=0x7f => 1,
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => 0,
    }
}

/// One step of `PyUnicode_DecodeUTF8`: the code point at `s` and its
/// length, or the error there.
fn step(b: &[u8], s: usize) -> Result<(u32, usize), Utf8Error> {
    let ch = b[s];
    if ch < 0x80 {
        return Ok((ch as u32, 1));
    }
    let n = code_length(ch);
    let cont = |k: usize| b.get(s + k).is_some_and(|&c| c & 0xc0 == 0x80);
    if s + n > b.len() {
        let mut end = s + 1;
        let mut k = 1;
        while s + k < b.len() && cont(k) {
            end += 1;
            k += 1;
        }
        return Err(Utf8Error {
            start: s,
            end,
            reason: "unexpected end of data",
        });
    }
    let bad = |end: usize| {
        Err(Utf8Error {
            start: s,
            end,
            reason: "invalid continuation byte",
        })
    };
    match n {
        0 => Err(Utf8Error {
            start: s,
            end: s + 1,
            reason: "invalid start byte",
        }),
        2 => {
            if !cont(1) {
                return bad(s + 1);
            }
            Ok((((ch as u32 & 0x1f) << 6) | (b[s + 1] as u32 & 0x3f), 2))
        }
        3 => {
            if !cont(1) || !cont(2) || (ch == 0xe0 && b[s + 1] < 0xa0) {
                return bad(s + 1 + cont(1) as usize);
            }
            Ok((
                ((ch as u32 & 0x0f) << 12)
                    | ((b[s + 1] as u32 & 0x3f) << 6)
                    | (b[s + 2] as u32 & 0x3f),
                3,
            ))
        }
        _ => {
            if !cont(1)
                || !cont(2)
                || !cont(3)
                || (ch == 0xf0 && b[s + 1] < 0x90)
                || (ch == 0xf4 && b[s + 1] > 0x8f)
            {
                let extra = if cont(1) { 1 + cont(2) as usize } else { 0 };
                return bad(s + 1 + extra);
            }
            Ok((
                ((ch as u32 & 0x07) << 18)
                    | ((b[s + 1] as u32 & 0x3f) << 12)
                    | ((b[s + 2] as u32 & 0x3f) << 6)
                    | (b[s + 3] as u32 & 0x3f),
                4,
            ))
        }
    }
}

/// `b.decode('utf-8')`: the code points, or where and why it fails.
pub fn utf8_decode(b: &[u8]) -> Result<Vec<u32>, Utf8Error> {
    let mut out = Vec::with_capacity(b.len());
    let mut s = 0;
    while s < b.len() {
        let (c, n) = step(b, s)?;
        out.push(c);
        s += n;
    }
    Ok(out)
}

/// The `UnicodeDecodeError` text of a failed [`utf8_decode`].
pub fn utf8_error_text(b: &[u8], e: &Utf8Error) -> String {
    if e.end - e.start == 1 {
        format!(
            "'utf8' codec can't decode byte 0x{:02x} in position {}: {}",
            b[e.start], e.start, e.reason
        )
    } else {
        format!(
            "'utf8' codec can't decode bytes in position {}-{}: {}",
            e.start,
            e.end - 1,
            e.reason
        )
    }
}

/// `b.decode('utf-8', 'replace')`, as a Rust string (a surrogate, which
/// Rust strings cannot hold, becomes U+FFFD too).
pub fn utf8_decode_replace(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len());
    let mut s = 0;
    while s < b.len() {
        match step(b, s) {
            Ok((c, n)) => {
                out.push(char::from_u32(c).unwrap_or('\u{fffd}'));
                s += n;
            }
            Err(e) => {
                out.push('\u{fffd}');
                s = e.end;
            }
        }
    }
    out
}

/// The code points of a text value (UTF-8 that Python 2 decoded, so
/// valid but for surrogates).
pub fn code_points(s: &[u8]) -> Vec<u32> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match step(s, i) {
            Ok((c, n)) => {
                out.push(c);
                i += n;
            }
            Err(_) => {
                out.push(0xfffd);
                i += 1;
            }
        }
    }
    out
}

/// `\xNN`, `\uNNNN` or `\UNNNNNNNN` as Python 2's unicode repr writes a
/// code point.
fn unicode_escape(c: u32) -> String {
    if c < 0x100 {
        format!("\\x{c:02x}")
    } else if c < 0x10000 {
        format!("\\u{c:04x}")
    } else {
        format!("\\U{c:08x}")
    }
}

/// `repr()` of a one-character `str` (`unicode: false`, the character is
/// a byte) or `unicode`.
pub fn char_repr(c: u32, unicode: bool) -> String {
    let body = match c {
        0x27 => return if unicode { "u\"'\"" } else { "\"'\"" }.into(),
        0x5c => "\\\\".to_string(),
        0x09 => "\\t".into(),
        0x0a => "\\n".into(),
        0x0d => "\\r".into(),
        0x20..=0x7e => char::from_u32(c).map(String::from).unwrap_or_default(),
        _ if unicode => unicode_escape(c),
        _ => format!("\\x{c:02x}"),
    };
    format!("{}'{body}'", if unicode { "u" } else { "" })
}

/// What `s.encode('ascii')` raises for the code points of a `unicode`,
/// if anything (the first run of characters it cannot encode).
pub fn ascii_encode_error(cps: &[u32]) -> Option<String> {
    let start = cps.iter().position(|&c| c >= 0x80)?;
    let end = start + cps[start..].iter().take_while(|&&c| c >= 0x80).count();
    Some(if end - start == 1 {
        format!(
            "'ascii' codec can't encode character u'{}' in position {start}: ordinal not in range(128)",
            unicode_escape(cps[start])
        )
    } else {
        format!(
            "'ascii' codec can't encode characters in position {start}-{}: ordinal not in range(128)",
            end - 1
        )
    })
}

/// The C-level type name (`tp_name`) of a value cbor2 decodes, as C
/// functions put it in their messages: `datetime.datetime`,
/// `_sre.SRE_Pattern`, `instance` for the old-style `email` message.
pub fn tp_name(v: &Value) -> &'static str {
    match v {
        Value::Opaque("datetime", _) => "datetime.datetime",
        Value::Opaque("SRE_Pattern", _) => "_sre.SRE_Pattern",
        // A reference into the container being built: a list or a dict.
        Value::Opaque("cyclic", _) => "list",
        other => other.type_name_in(super::Py::Two),
    }
}

/// Whether the value's type is a class written in Python (cbor2's types,
/// `Decimal`, `Fraction`, `UUID`): C functions say "does not support
/// indexing" and "must be convertible to a buffer" of those.
pub fn is_python_class(v: &Value) -> bool {
    matches!(
        v,
        Value::Opaque(
            "CBORTag" | "CBORSimpleValue" | "UndefinedType" | "Decimal" | "Fraction" | "UUID",
            _
        )
    )
}

/// What a C function taking a string or buffer argument raises for a
/// value of another type: `FUNC() argument 1 must be string or buffer,
/// not TYPE`.
pub fn not_a_buffer(func: &str, v: &Value) -> String {
    if is_python_class(v) {
        format!(
            "{func}() argument 1 must be convertible to a buffer, not {}",
            tp_name(v)
        )
    } else {
        let t = if matches!(v, Value::None) {
            "None"
        } else {
            tp_name(v)
        };
        format!("{func}() argument 1 must be string or buffer, not {t}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(b: &[u8]) -> String {
        utf8_error_text(b, &utf8_decode(b).unwrap_err())
    }

    #[test]
    fn utf8_errors_read_as_python_2_7_writes_them() {
        // Each checked against Python 2.7.18.
        for (b, want) in [
            (
                &b"\xe2\x82"[..],
                "'utf8' codec can't decode bytes in position 0-1: unexpected end of data",
            ),
            (
                b"\xe9",
                "'utf8' codec can't decode byte 0xe9 in position 0: unexpected end of data",
            ),
            (
                b"\xe9x",
                "'utf8' codec can't decode byte 0xe9 in position 0: unexpected end of data",
            ),
            (
                b"\xc3x",
                "'utf8' codec can't decode byte 0xc3 in position 0: invalid continuation byte",
            ),
            (
                b"\x80",
                "'utf8' codec can't decode byte 0x80 in position 0: invalid start byte",
            ),
            (
                b"\xf0\x90\x80",
                "'utf8' codec can't decode bytes in position 0-2: unexpected end of data",
            ),
            (
                b"\xf0\xff",
                "'utf8' codec can't decode byte 0xf0 in position 0: unexpected end of data",
            ),
            (
                b"\xe0\x80\x80",
                "'utf8' codec can't decode bytes in position 0-1: invalid continuation byte",
            ),
            (
                b"\xf4\x90\x80\x80",
                "'utf8' codec can't decode bytes in position 0-2: invalid continuation byte",
            ),
        ] {
            assert_eq!(err(b), want, "{b:?}");
        }
        assert_eq!(utf8_decode(b"\xed\xa0\x80").unwrap(), vec![0xd800]);
        assert_eq!(utf8_decode(b"\xf0\x90\x80\x80").unwrap(), vec![0x10000]);
        assert_eq!(utf8_decode_replace(b"x\xe0\x80\x80y"), "x\u{fffd}\u{fffd}y");
    }

    #[test]
    fn reprs_and_encode_errors() {
        assert_eq!(char_repr('a' as u32, false), "'a'");
        assert_eq!(char_repr(0, false), "'\\x00'");
        assert_eq!(char_repr('\'' as u32, false), "\"'\"");
        assert_eq!(char_repr(0xe9, true), "u'\\xe9'");
        assert_eq!(char_repr(0x100, true), "u'\\u0100'");
        assert_eq!(
            ascii_encode_error(&[0x63, 0xe9]).unwrap(),
            "'ascii' codec can't encode character u'\\xe9' in position 1: ordinal not in range(128)"
        );
        assert_eq!(
            ascii_encode_error(&[0xe9, 0x100, 0x61]).unwrap(),
            "'ascii' codec can't encode characters in position 0-1: ordinal not in range(128)"
        );
        assert_eq!(ascii_encode_error(&[0x61]), None);
        assert_eq!(
            not_a_buffer("b2a_hex", &Value::None),
            "b2a_hex() argument 1 must be string or buffer, not None"
        );
        assert_eq!(
            not_a_buffer("b2a_hex", &Value::Opaque("CBORTag", String::new())),
            "b2a_hex() argument 1 must be convertible to a buffer, not CBORTag"
        );
    }
}
