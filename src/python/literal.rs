//! The Python-literal subset behind `cbor:` payloads (nom).
//!
//! Mercurial evaluates the text after `cbor:` with `ast.literal_eval` and
//! CBOR-encodes the result. This parser accepts what `literal_eval` accepts
//! and Mercurial's tests use, under either Python ([`parse_literal_in`]):
//!
//! * Python 3 (Mercurial 5.0+): bytes literals (`b'..'`, `b".."`, raw,
//!   triple quoted, adjacent ones concatenated), ints in any base with `_`
//!   and a unary sign, `None`, `True`, `False`, lists, tuples, dicts, sets
//!   and `set()`; leading whitespace is fine.
//! * Python 2 (Mercurial 4.x): `'x'` is a byte string and `u'x'` text
//!   (raw bytes inside quotes are taken as they are), `017` is octal, `10L`
//!   a long, no `_` in numbers, a sign only folded into a number literal
//!   (`-5`; `+5`, `--5` and `-(5)` are malformed), no set literals and no
//!   `set()`, leading whitespace an `IndentationError`. The text is given
//!   one char per byte (Latin-1), as Python 2 reads a byte string.
//!
//! `str`/text and float literals parse (Python accepts them) and are
//! rejected later by `cborutil`'s encoder, as Mercurial 4.8+ rejects them
//! (4.6/4.7's `cbor2` encodes them). Errors carry the byte position so the
//! caller can draw a caret.

use nom::branch::alt;
use nom::bytes::complete::{tag, take_while, take_while1};
use nom::character::complete::{char, one_of};
use nom::combinator::{opt, recognize};
use nom::error::{ErrorKind, ParseError};
use nom::{Err, IResult, Parser};

use crate::python::value::{BigInt, DictBuilder, SetBuilder, Value};
use crate::python::Py;

/// A literal that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct LiteralError {
    /// Byte offset in the literal text.
    pub pos: usize,
    pub message: String,
}

#[derive(Debug)]
struct PErr<'a> {
    input: &'a str,
    // Static for the common backtracking failures: no allocation.
    msg: std::borrow::Cow<'static, str>,
}

impl<'a> ParseError<&'a str> for PErr<'a> {
    fn from_error_kind(input: &'a str, kind: ErrorKind) -> Self {
        PErr {
            input,
            msg: format!("unexpected input ({kind:?})").into(),
        }
    }
    fn append(_: &'a str, _: ErrorKind, other: Self) -> Self {
        other
    }
}

type Res<'a, T> = IResult<&'a str, T, PErr<'a>>;

fn fail<T>(input: &str, msg: impl Into<std::borrow::Cow<'static, str>>) -> Res<'_, T> {
    Err(Err::Error(PErr {
        input,
        msg: msg.into(),
    }))
}

fn cut<T>(input: &str, msg: impl Into<std::borrow::Cow<'static, str>>) -> Res<'_, T> {
    Err(Err::Failure(PErr {
        input,
        msg: msg.into(),
    }))
}

/// Whitespace and `#` comments.
fn ws(mut i: &str) -> Res<'_, ()> {
    if !matches!(
        i.as_bytes().first(),
        Some(b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'#')
    ) {
        return Ok((i, ()));
    }
    loop {
        let t = i.trim_start_matches([' ', '\t', '\n', '\r', '\x0c']);
        if let Some(rest) = t.strip_prefix('#') {
            i = rest.trim_start_matches(|c| c != '\n');
        } else {
            return Ok((t, ()));
        }
    }
}

/// Parse a whole literal (what follows `cbor:`) with Python 3's rules.
pub fn parse_literal(text: &str) -> Result<Value, LiteralError> {
    parse_literal_in(Py::Three, text)
}

fn py2() -> bool {
    PY.with(|p| p.get()) == Py::Two
}

/// Parse a whole literal with the rules of a Python version (see the
/// module docs; for Python 2 pass the bytes one char per byte).
pub fn parse_literal_in(py: Py, text: &str) -> Result<Value, LiteralError> {
    DEPTH.with(|d| d.set(0));
    PY.with(|p| p.set(py));
    let pos = |rest: &str| text.len() - rest.len();
    let run = || -> Res<'_, Value> {
        if py == Py::Two && text.starts_with([' ', '\t', '\x0c']) {
            return cut(
                text,
                "IndentationError: unexpected indent (Python 2 refuses whitespace before the literal)",
            );
        }
        let (i, _) = ws(text)?;
        if i.is_empty() {
            return cut(
                i,
                "empty literal: expected a Python value such as b'x', 1, [..] or {..}",
            );
        }
        let (i, v) = testlist(i)?;
        let (i, _) = ws(i)?;
        if !i.is_empty() {
            return cut(
                i,
                "unexpected text after the value (only one literal is allowed; join items with commas inside [..])",
            );
        }
        Ok((i, v))
    };
    match run() {
        Ok((_, v)) => Ok(v),
        Err(Err::Error(e)) | Err(Err::Failure(e)) => Err(LiteralError {
            pos: pos(e.input),
            message: e.msg.into_owned(),
        }),
        Err(Err::Incomplete(_)) => Err(LiteralError {
            pos: text.len(),
            message: "incomplete literal".into(),
        }),
    }
}

/// `a, b, c` at top level makes a tuple (as in Python).
fn testlist(i: &str) -> Res<'_, Value> {
    let (mut i, first) = expr(i)?;
    let mut items = vec![first];
    let mut tuple = false;
    loop {
        let (j, _) = ws(i)?;
        let Some(j) = j.strip_prefix(',') else { break };
        tuple = true;
        let (j, _) = ws(j)?;
        i = j;
        if j.is_empty() {
            break;
        }
        let (j, v) = expr(j)?;
        items.push(v);
        i = j;
    }
    Ok((
        i,
        if tuple {
            Value::Tuple(items)
        } else {
            items.pop().unwrap_or(Value::None)
        },
    ))
}

fn expr(i: &str) -> Res<'_, Value> {
    let (i, _) = ws(i)?;
    if i.is_empty() {
        return cut(i, "expected a value here");
    }
    if let Some(rest) = i.strip_prefix('-').or_else(|| i.strip_prefix('+')) {
        let neg = i.starts_with('-');
        let (rest, _) = ws(rest)?;
        if py2() && (!neg || !rest.starts_with(|c: char| c.is_ascii_digit() || c == '.')) {
            // Python 2's parser folds only `-<number literal>`; literal_eval
            // refuses any other unary operation.
            return cut(
                i,
                "ValueError: malformed string (Python 2's literal_eval takes a sign only as `-` right before a number)",
            );
        }
        return match number(rest) {
            Ok((r, Value::Int(n))) => Ok((r, Value::Int(if neg { -n } else { n }))),
            Ok((r, Value::Big(mut b))) => {
                b.neg = neg != b.neg;
                Ok((r, Value::Big(b)))
            }
            Ok((r, Value::Float(f))) => Ok((r, Value::Float(if neg { -f } else { f }))),
            Ok((r, v)) => Ok((r, v)),
            Err(_) => cut(rest, "a unary sign must be followed by a number"),
        };
    }
    // Dispatch on the first character (no failed attempts to unwind).
    let first = i.as_bytes()[0];
    let direct = match first {
        b'\'' | b'"' => Some(strings(i)),
        b'0'..=b'9' | b'.' => Some(number(i)),
        b'[' => Some(list(i)),
        b'(' => Some(paren(i)),
        b'{' => Some(brace(i)),
        _ => None,
    };
    if let Some(r) = direct {
        return r.or_else(|e| match e {
            Err::Error(_) => cut(
                i,
                "expected a value: b'bytes', an int, None, True, False, [list], (tuple), {dict} or {set}",
            ),
            other => Err(other),
        });
    }
    alt((strings, keyword)).parse(i).or_else(|e| match e {
        Err::Error(_) => cut(
            i,
            "expected a value: b'bytes', an int, None, True, False, [list], (tuple), {dict} or {set}",
        ),
        other => Err(other),
    })
}

fn keyword(i: &str) -> Res<'_, Value> {
    let (rest, word) = take_while1(|c: char| c.is_ascii_alphanumeric() || c == '_')(i)?;
    match word {
        "None" => Ok((rest, Value::None)),
        "True" => Ok((rest, Value::Bool(true))),
        "False" => Ok((rest, Value::Bool(false))),
        "set" | "frozenset" if py2() => cut(
            i,
            "ValueError: malformed string (Python 2's literal_eval has no sets)",
        ),
        "set" => {
            let (r, _) = ws(rest)?;
            let Some(r) = r.strip_prefix('(') else {
                return cut(
                    rest,
                    "only set() (an empty set) is allowed; write {a, b} for others",
                );
            };
            let (r, _) = ws(r)?;
            match r.strip_prefix(')') {
                Some(r) => Ok((r, Value::Set(Vec::new()))),
                None => cut(
                    r,
                    "only set() (an empty set) is allowed; write {a, b} for others",
                ),
            }
        }
        "null" | "none" | "true" | "false" | "nil" => cut(
            i,
            format!("unknown name {word:?}: Python spells these None, True and False"),
        ),
        _ if word.starts_with(|c: char| c.is_ascii_digit()) => fail(i, "not a keyword"),
        _ => {
            // A string prefix followed by a quote is handled by `strings`.
            cut(
                i,
                format!("unknown name {word:?}: only literals are allowed (no variables or calls)"),
            )
        }
    }
}

fn digits_with_underscores(pred: fn(char) -> bool) -> impl Fn(&str) -> Res<'_, &str> {
    move |i: &str| {
        let (mut rest, _) = take_while1(pred)(i)?;
        if py2() && rest.starts_with('_') {
            return cut(rest, "SyntaxError: Python 2 has no underscores in numbers");
        }
        while let Some(r) = rest.strip_prefix('_') {
            match take_while1::<_, _, PErr>(pred)(r) {
                Ok((r2, _)) => rest = r2,
                Err(_) => return cut(r, "an underscore in a number must be followed by a digit"),
            }
        }
        Ok((rest, &i[..i.len() - rest.len()]))
    }
}

fn number(i: &str) -> Res<'_, Value> {
    let digit_start = i.starts_with(|c: char| c.is_ascii_digit());
    let dot_start = i.starts_with('.') && i[1..].starts_with(|c: char| c.is_ascii_digit());
    if !digit_start && !dot_start {
        return fail(i, "not a number");
    }
    let lower = i.get(..2).map(|s| s.to_ascii_lowercase());
    let radix = match lower.as_deref() {
        Some("0x") => Some((16, (|c: char| c.is_ascii_hexdigit()) as fn(char) -> bool)),
        Some("0o") => Some((8, (|c: char| ('0'..='7').contains(&c)) as fn(char) -> bool)),
        Some("0b") => Some((2, (|c: char| c == '0' || c == '1') as fn(char) -> bool)),
        _ => None,
    };
    if let Some((radix, pred)) = radix {
        let r = &i[2..];
        let r = if py2() {
            r
        } else {
            r.strip_prefix('_').unwrap_or(r)
        };
        let (rest, ds) = digits_with_underscores(pred)(r)
            .or_else(|_| cut(r, format!("expected base-{radix} digits")))?;
        return to_int(i, rest, &ds.replace('_', ""), radix);
    }
    let (rest, ds) = digits_with_underscores(|c| c.is_ascii_digit())(i)?;
    // floats: Python accepts them; the CBOR encoder will not.
    let (rest2, frac) = opt(recognize(|i| {
        let (i, _) = char('.')(i)?;
        let (i, _) = take_while(|c: char| c.is_ascii_digit() || c == '_')(i)?;
        Ok((i, ()))
    }))
    .parse(rest)?;
    let (rest3, exp) = opt(recognize(|i| {
        let (i, _) = one_of("eE")(i)?;
        let (i, _) = opt(one_of("+-")).parse(i)?;
        take_while1(|c: char| c.is_ascii_digit())(i)
    }))
    .parse(rest2)?;
    if rest3.starts_with(['j', 'J']) {
        return cut(
            i,
            "complex numbers are not supported by Mercurial's CBOR encoder",
        );
    }
    if frac.is_some() || exp.is_some() {
        let text = &i[..i.len() - rest3.len()];
        let f: f64 = text.replace('_', "").parse().unwrap_or(f64::NAN);
        return Ok((rest3, Value::Float(f)));
    }
    if py2() && ds.len() > 1 && ds.starts_with('0') {
        // Python 2: a leading zero makes an octal literal.
        if ds.contains(['8', '9']) {
            return cut(
                i,
                "SyntaxError: invalid token (an octal literal with 8 or 9)",
            );
        }
        return to_int(i, rest, ds, 8);
    }
    if ds.len() > 1 && ds.starts_with('0') && ds.chars().any(|c| c != '0' && c != '_') {
        return cut(
            i,
            "leading zeros in decimal integer literals are not permitted (Python syntax); use 0o for octal",
        );
    }
    to_int(i, rest, &ds.replace('_', ""), 10)
}

fn to_int<'a>(start: &'a str, rest: &'a str, digits: &str, radix: u32) -> Res<'a, Value> {
    // Python 2's long suffix.
    let rest = match rest.strip_prefix(['L', 'l']) {
        Some(r) if py2() => r,
        _ => rest,
    };
    if rest.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
        return cut(rest, "invalid character in a number");
    }
    match BigInt::parse(false, digits, radix) {
        Some(v) => Ok((rest, v)),
        None => cut(start, "invalid digits in a number"),
    }
}

/// One or more adjacent string literals (implicit concatenation).
fn strings(i: &str) -> Res<'_, Value> {
    let (mut rest, (mut is_bytes, mut acc)) = string_lit(i)?;
    loop {
        let (r, _) = ws(rest)?;
        // Only a quote or a string prefix can start another literal.
        if !matches!(
            r.as_bytes().first(),
            Some(b'\'' | b'"' | b'b' | b'B' | b'r' | b'R' | b'u' | b'U' | b'f' | b'F')
        ) {
            break;
        }
        match string_lit(r) {
            Ok((r2, (b, data))) => {
                if b != is_bytes {
                    if !py2() {
                        return cut(r, "cannot mix bytes and nonbytes literals");
                    }
                    // Python 2 joins str and unicode into unicode, decoding
                    // the str as ASCII.
                    let bytes_part = if is_bytes { &acc } else { &data };
                    if !bytes_part.is_ascii() {
                        return cut(
                            r,
                            "UnicodeDecodeError: a non-ASCII byte string next to a unicode literal",
                        );
                    }
                    is_bytes = false;
                }
                acc.extend(data);
                rest = r2;
            }
            Err(Err::Error(_)) => break,
            Err(e) => return Err(e),
        }
    }
    if is_bytes {
        Ok((rest, Value::Bytes(acc)))
    } else {
        Ok((rest, Value::Str(acc)))
    }
}

/// Push a code point as UTF-8 (surrogates encoded as Python 2 does).
fn push_cp(out: &mut Vec<u8>, cp: u32) {
    match char::from_u32(cp) {
        Some(c) => {
            let mut b = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
        }
        None => out.extend_from_slice(&[
            0xe0 | (cp >> 12) as u8,
            0x80 | ((cp >> 6) & 0x3f) as u8,
            0x80 | (cp & 0x3f) as u8,
        ]),
    }
}

/// Text escapes `\xhh`, `\uXXXX`, `\UXXXXXXXX` and octal, as code
/// points: (code point, length of the escape), or `None` when malformed.
fn text_escape(b: &[u8]) -> Option<Option<(u32, usize)>> {
    let hexn = |n: usize| -> Option<(u32, usize)> {
        let h = b.get(2..2 + n)?;
        let s = std::str::from_utf8(h).ok()?;
        if !s.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        Some((u32::from_str_radix(s, 16).ok()?, 2 + n))
    };
    match b.get(1)? {
        b'x' => Some(hexn(2)),
        b'u' => Some(hexn(4)),
        b'U' => Some(hexn(8).filter(|(cp, _)| *cp <= 0x10ffff)),
        b'0'..=b'7' => {
            let mut k = 1;
            let mut v = 0u32;
            while k < 4 && matches!(b.get(k), Some(b'0'..=b'7')) {
                v = v * 8 + (b[k] - b'0') as u32;
                k += 1;
            }
            Some(Some((v, k)))
        }
        _ => None,
    }
}

/// A single string literal: (is bytes, content bytes).
fn string_lit(i: &str) -> Res<'_, (bool, Vec<u8>)> {
    let (r, prefix) = take_while(|c: char| c.is_ascii_alphabetic())(i)?;
    if prefix.len() > 2 || !(r.starts_with('\'') || r.starts_with('"')) {
        return fail(i, "not a string");
    }
    let mut p = [0u8; 2];
    for (d, c) in p.iter_mut().zip(prefix.bytes()) {
        *d = c.to_ascii_lowercase();
    }
    let py2 = py2();
    let (is_bytes, raw) = match (&p[..prefix.len()], py2) {
        (b"", false) | (b"u", _) => (false, false),
        (b"", true) => (true, false),
        (b"r", false) => (false, true),
        (b"r", true) => (true, true),
        (b"ur", true) => (false, true),
        (b"b", _) => (true, false),
        (b"br", _) | (b"rb", false) => (true, true),
        (b"rb", true) => return cut(i, "SyntaxError: Python 2 has no rb'' literals (write br'')"),
        (b"f" | b"fr" | b"rf", _) => return cut(i, "f-strings are not literals"),
        _ => return fail(i, "not a string"),
    };
    let q = if r.starts_with("'''") {
        "'''"
    } else if r.starts_with("\"\"\"") {
        "\"\"\""
    } else {
        &r[..1]
    };
    let body_start = &r[q.len()..];
    let mut out = Vec::new();
    let mut j = 0;
    let b = body_start.as_bytes();
    let qb = q.as_bytes()[0];
    loop {
        // Copy the run of plain characters up to the next one that matters.
        let run = b[j..]
            .iter()
            .position(|&c| c == qb || c == b'\\' || c == b'\n' || c >= 0x80)
            .unwrap_or(b.len() - j);
        out.extend_from_slice(&b[j..j + run]);
        j += run;
        if j >= b.len() {
            return cut(r, "unterminated string literal: no closing quote");
        }
        if b[j] == qb && b[j..].starts_with(q.as_bytes()) {
            break;
        }
        let c = b[j];
        if c == b'\n' && q.len() == 1 {
            return cut(
                &body_start[j..],
                "unterminated string literal: newline before the closing quote",
            );
        }
        if c >= 0x80 && is_bytes && !py2 {
            return cut(
                &body_start[j..],
                "bytes can only contain ASCII literal characters (write non-ASCII bytes as \\xNN)",
            );
        }
        if c == b'\\' {
            let Some(&e) = b.get(j + 1) else {
                return cut(r, "unterminated string literal: no closing quote");
            };
            if raw && py2 && !is_bytes && matches!(e, b'u' | b'U') {
                // Python 2's ur'' still reads \u and \U escapes.
                match text_escape(&b[j..]) {
                    Some(Some((cp, n))) => {
                        push_cp(&mut out, cp);
                        j += n;
                        continue;
                    }
                    _ => {
                        return cut(
                            &body_start[j..],
                            "truncated \\uXXXX escape in a unicode literal",
                        )
                    }
                }
            }
            if raw {
                // backslash and the whole next character, kept as written
                let ch_len = body_start[j + 1..]
                    .chars()
                    .next()
                    .map_or(1, |c| c.len_utf8());
                if py2 && is_bytes {
                    out.push(b'\\');
                    out.push(latin1_byte(&body_start[j + 1..]));
                    j += 1 + ch_len;
                    continue;
                }
                if e >= 0x80 && is_bytes {
                    return cut(
                        &body_start[j + 1..],
                        "bytes can only contain ASCII literal characters (write non-ASCII bytes as \\xNN)",
                    );
                }
                out.extend_from_slice(&b[j..j + 1 + ch_len]);
                j += 1 + ch_len;
                continue;
            }
            let is_ascii_escape = e.is_ascii();
            if !is_ascii_escape {
                out.push(b'\\');
                j += 1;
                continue;
            }
            if !is_bytes {
                // Text: escapes make code points.
                match text_escape(&b[j..]) {
                    Some(Some((cp, n))) => {
                        push_cp(&mut out, cp);
                        j += n;
                        continue;
                    }
                    Some(None) => {
                        return cut(
                            &body_start[j..],
                            "truncated \\xXX / \\uXXXX / \\UXXXXXXXX escape",
                        )
                    }
                    None if e == b'N' => return cut(
                        &body_start[j..],
                        "\\N{...} escapes are not supported here: write the character or \\uXXXX",
                    ),
                    None => {}
                }
            }
            // Reuse the escape decoder on the escape sequence alone.
            let seq_len = match e {
                b'x' => 4,
                b'0'..=b'7' => {
                    let mut k = 2;
                    while k < 4 && matches!(b.get(j + k), Some(b'0'..=b'7')) {
                        k += 1;
                    }
                    k
                }
                _ => 2,
            };
            let seq = &b[j..(j + seq_len).min(b.len())];
            // `\xNN`, the common escape (node ids are 20 of them), without
            // a decoder call and its allocation.
            if let [b'\\', b'x', h, l] = seq {
                let hv = |c: u8| (c as char).to_digit(16);
                if let (Some(h), Some(l)) = (hv(*h), hv(*l)) {
                    out.push((h << 4 | l) as u8);
                    j += 4;
                    continue;
                }
            }
            match crate::python::escape::escape_decode(seq) {
                Ok(bytes) => out.extend(bytes),
                Err(_) => {
                    return cut(
                        &body_start[j..],
                        "invalid \\x escape: expected two hex digits after \\x",
                    )
                }
            }
            j += seq.len();
            continue;
        }
        // copy one character (Python 2 bytes: the byte it stands for)
        let ch_len = body_start[j..].chars().next().map_or(1, |c| c.len_utf8());
        if py2 && is_bytes {
            out.push(latin1_byte(&body_start[j..]));
        } else {
            out.extend_from_slice(&b[j..j + ch_len]);
        }
        j += ch_len;
    }
    Ok((&body_start[j + q.len()..], (is_bytes, out)))
}

/// The byte a char of Python 2 source text stands for (the text holds one
/// char per byte; anything above U+00FF cannot occur there).
fn latin1_byte(s: &str) -> u8 {
    s.chars().next().map_or(0, |c| c as u32 as u8)
}

fn comma_separated<'a, T>(
    i: &'a str,
    close: char,
    item: impl FnMut(&'a str) -> Res<'a, T>,
) -> Res<'a, (Vec<T>, bool)> {
    let mut out = Vec::new();
    let (r, trailing_comma) = comma_separated_each(i, close, item, |v| out.push(v))?;
    Ok((r, (out, trailing_comma)))
}

/// [`comma_separated`] handing each item to `each` as it is parsed (a set
/// keeps only its distinct members, not every item of the text first).
fn comma_separated_each<'a, T>(
    mut i: &'a str,
    close: char,
    mut item: impl FnMut(&'a str) -> Res<'a, T>,
    mut each: impl FnMut(T),
) -> Res<'a, bool> {
    let mut trailing_comma = false;
    loop {
        let (r, _) = ws(i)?;
        if let Some(r) = r.strip_prefix(close) {
            return Ok((r, trailing_comma));
        }
        if r.is_empty() {
            return cut(r, format!("missing closing {close:?}"));
        }
        let (r, v) = item(r)?;
        each(v);
        let (r, _) = ws(r)?;
        if let Some(r2) = r.strip_prefix(',') {
            trailing_comma = true;
            i = r2;
        } else if let Some(r2) = r.strip_prefix(close) {
            return Ok((r2, false));
        } else if r.is_empty() {
            return cut(r, format!("missing closing {close:?}"));
        } else {
            return cut(r, format!("expected ',' or {close:?}"));
        }
    }
}

/// CPython's parser refuses more than 200 nested brackets.
pub const MAX_NESTING: usize = 200;

thread_local! {
    static DEPTH: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    /// The Python whose rules the parse in progress follows.
    static PY: std::cell::Cell<Py> = const { std::cell::Cell::new(Py::Three) };
}

/// Track bracket nesting; error like CPython past [`MAX_NESTING`].
fn nested<'a, T>(i: &'a str, f: impl FnOnce(&'a str) -> Res<'a, T>) -> Res<'a, T> {
    let d = DEPTH.with(|d| {
        d.set(d.get() + 1);
        d.get()
    });
    let r = if d > MAX_NESTING {
        cut(i, "too many nested parentheses (Python allows 200 levels)")
    } else {
        f(i)
    };
    DEPTH.with(|d| d.set(d.get() - 1));
    r
}

fn list(i: &str) -> Res<'_, Value> {
    nested(i, list_inner)
}

fn paren(i: &str) -> Res<'_, Value> {
    nested(i, paren_inner)
}

fn brace(i: &str) -> Res<'_, Value> {
    nested(i, brace_inner)
}

fn list_inner(i: &str) -> Res<'_, Value> {
    let (i, _) = tag("[")(i)?;
    let (i, (items, _)) = comma_separated(i, ']', expr)?;
    Ok((i, Value::List(items)))
}

fn paren_inner(i: &str) -> Res<'_, Value> {
    let (i, _) = tag("(")(i)?;
    let (i, (mut items, trailing)) = comma_separated(i, ')', expr)?;
    if items.len() == 1 && !trailing {
        return Ok((i, items.pop().unwrap_or(Value::None)));
    }
    Ok((i, Value::Tuple(items)))
}

fn brace_inner(i: &str) -> Res<'_, Value> {
    let (start, _) = tag("{")(i)?;
    let (r, _) = ws(start)?;
    if let Some(r) = r.strip_prefix('}') {
        return Ok((r, Value::Dict(Vec::new())));
    }
    // Decide dict or set from the first item.
    let (after_first, first) = expr(r)?;
    let (probe, _) = ws(after_first)?;
    if let Some(after_colon) = probe.strip_prefix(':') {
        let (rest, v) = expr(after_colon)?;
        let mut pairs = vec![(first, v)];
        let (i, (more, _)) = match ws(rest)?.0.strip_prefix(',') {
            Some(r) => comma_separated(r, '}', |i| {
                let (i, k) = expr(i)?;
                let (i, _) = ws(i)?;
                let Some(i) = i.strip_prefix(':') else {
                    return cut(i, "expected ':' between a dict key and its value");
                };
                let (i, v) = expr(i)?;
                Ok((i, (k, v)))
            })?,
            None => match ws(rest)?.0.strip_prefix('}') {
                Some(r) => (r, (Vec::new(), false)),
                None if ws(rest)?.0.is_empty() => return cut(ws(rest)?.0, "missing closing '}'"),
                None => return cut(ws(rest)?.0, "expected ',' or '}'"),
            },
        };
        pairs.extend(more);
        let mut d = DictBuilder::new(PY.with(|p| p.get()));
        for (k, v) in pairs {
            if let Err(e) = k.check_hashable() {
                return cut(
                    start,
                    format!("{e} (a dict key must be bytes, an int, None, a bool or a tuple)"),
                );
            }
            d.insert(k, v);
        }
        Ok((i, Value::Dict(d.into_pairs())))
    } else {
        if py2() {
            return cut(
                i,
                "ValueError: malformed string (Python 2's literal_eval has no set literals)",
            );
        }
        // Members go into the set as they are parsed, so a repeated one is
        // dropped at once (a 79 MB line of members was held whole, then
        // again in the set). Python reads the whole literal before it
        // builds the set: an unhashable member is reported only once the
        // text has parsed, as before.
        let mut s = SetBuilder::new(PY.with(|p| p.get()));
        let mut unhashable = None;
        let mut add = |v: Value| {
            if unhashable.is_some() {
                return;
            }
            match v.check_hashable() {
                Ok(()) => s.add(v),
                Err(e) => unhashable = Some(e),
            }
        };
        add(first);
        let i = match probe.strip_prefix(',') {
            Some(r) => comma_separated_each(r, '}', expr, &mut add)?.0,
            None => match probe.strip_prefix('}') {
                Some(r) => r,
                None if probe.is_empty() => return cut(probe, "missing closing '}'"),
                None => return cut(probe, "expected ',' or '}'"),
            },
        };
        if let Some(e) = unhashable {
            return cut(start, format!("{e} (set members must be hashable)"));
        }
        Ok((i, Value::Set(s.into_items())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::python::cbor::encode;
    use crate::python::escape::hex;

    fn enc(s: &str) -> String {
        hex(&encode(&parse_literal(s).unwrap()).unwrap())
    }

    #[test]
    fn mercurial_vectors() {
        assert_eq!(enc("15"), "0f");
        assert_eq!(enc("-342542"), "3a00053a0d");
        assert_eq!(enc("b'foo'"), "43666f6f");
        assert_eq!(
            enc("[None, True, False, 42, b'foo']"),
            "85f6f5f4182a43666f6f"
        );
        assert_eq!(
            enc("{b'foo': b'val1', b'bar': b'val2'}"),
            "a2436261724476616c3243666f6f4476616c31"
        );
        assert_eq!(enc("b\"identity\""), "486964656e74697479");
        assert_eq!(enc("b'a' b\"b\""), "426162");
        assert_eq!(enc("1_000"), "1903e8");
        assert_eq!(enc("0x1f"), "181f");
        assert_eq!(enc("(1,)"), "8101");
        assert_eq!(enc("1, 2"), "820102");
        assert_eq!(enc("set()"), "d9010280");
        assert_eq!(enc(" {1: b'a', True: b'b'}"), "a10141 62".replace(' ', ""));
        assert_eq!(enc(r"b'\x00\n'"), "42000a");
        assert_eq!(enc(r"rb'\x00'"), "445c783030");
    }

    #[test]
    fn errors_have_positions() {
        let e = parse_literal("{b'a': }").unwrap_err();
        assert_eq!(e.pos, 7);
        let e = parse_literal("[1, 2").unwrap_err();
        assert!(e.message.contains("missing closing"), "{e:?}");
        assert!(parse_literal("b'caf\u{e9}'").is_err());
        assert!(parse_literal("01").is_err());
        assert!(parse_literal("foo").is_err());
        assert!(encode(&parse_literal("'str'").unwrap()).is_err());
        assert!(encode(&parse_literal("1.5").unwrap()).is_err());
        assert!(parse_literal("{[1]: 2}").is_err());
        assert!(
            encode(&parse_literal("340282366920938463463374607431768211456").unwrap()).is_err()
        );
    }

    fn py2(s: &str) -> Result<Value, LiteralError> {
        parse_literal_in(Py::Two, s)
    }

    #[test]
    fn python2_rules() {
        assert_eq!(py2("'x'").unwrap(), Value::bytes("x"));
        assert_eq!(py2("u'x'").unwrap(), Value::Str(b"x".to_vec()));
        assert_eq!(py2("'caf\u{e9}'").unwrap(), Value::bytes(&b"caf\xe9"[..]));
        assert_eq!(
            py2("u'caf\\xe9'").unwrap(),
            Value::Str("caf\u{e9}".as_bytes().to_vec())
        );
        assert_eq!(py2("017").unwrap(), Value::Int(15));
        assert_eq!(py2("10L").unwrap(), Value::Int(10));
        assert_eq!(py2("-5").unwrap(), Value::Int(-5));
        assert!(py2("+5").is_err());
        assert!(py2("--1").is_err());
        assert!(py2("1_000").is_err());
        assert!(py2("08").is_err());
        assert!(py2(" 1").is_err());
        assert!(py2("{1, 2}").is_err());
        assert!(py2("set()").is_err());
        assert!(py2("rb'x'").is_err());
        assert_eq!(py2("b'a' u'b'").unwrap(), Value::Str(b"ab".to_vec()));
        assert_eq!(py2("ur'\\n'").unwrap(), Value::Str(b"\\n".to_vec()));
        let d = py2("{b'a': 1, u'a': 2}").unwrap();
        assert_eq!(d, Value::Dict(vec![(Value::bytes("a"), Value::Int(2))]));
        assert!(matches!(
            py2("340282366920938463463374607431768211456").unwrap(),
            Value::Big(_)
        ));
    }
}
