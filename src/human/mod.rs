//! Human frame strings, both ways (nom).
//!
//! Parsing follows Mercurial's `makeframefromhumanstring` for each
//! revision: the line is split on single spaces (2 times for 0001's
//! `<type> <flags> <payload>`, 5 times for `<request-id> <stream-id>
//! <stream-flags> <type> <flags> <payload>`), so the payload is the rest of
//! the line, spaces included. Ids are decimal `int()`s; stream flags, type
//! and flags are names or integers OR-ed with `|`; the payload is
//! `cbor:<python literal>` (0006) or Python-escaped bytes.
//!
//! Where Mercurial's helper would crash or silently corrupt (a type number
//! it has no table entry for raises `KeyError`; flags above 15 overwrite the
//! type nibble; out-of-range ids raise `struct.error`) we either accept and
//! warn (unknown type numbers: people send them on purpose) or reject with
//! an error that points at the field.
//!
//! [`to_human`] renders a frame back so that parsing gives identical bytes.

pub mod args;
pub mod lines;
pub mod shorthand;

use nom::character::complete::{char, digit1, multispace0, one_of};
use nom::combinator::{all_consuming, opt, recognize};
use nom::multi::many0_count;
use nom::sequence::pair;
use nom::{IResult, Parser};

use crate::python::escape::escape_decode;
use crate::python::literal::parse_literal_in;
use crate::python::value::Value;
use crate::wire::frame::Frame;
use crate::wire::proto::{CborCodec, FlagName, PayloadSyntax, Proto};

/// A line that is not a valid human frame string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct HumanError {
    /// The line as given.
    pub line: String,
    /// Byte range of the offending part of `line`.
    pub start: usize,
    pub end: usize,
    /// What is wrong.
    pub message: String,
    /// Extra help: what was expected, valid names, did-you-mean.
    pub help: Vec<String>,
}

impl HumanError {
    /// Multi-line rendering: message, the quoted line (a window around the
    /// problem when the line is long), a caret underline, help.
    pub fn render(&self) -> String {
        let (start, end) = char_span(&self.line, self.start, self.end);
        let line = self.line.replace('\t', " ");
        let col = self.line[..start].chars().count();
        let width = self.line[start..end].chars().count().max(1);
        let mut s = format!("{}\n{}", self.message, quote(&line, col, width));
        for h in &self.help {
            s.push_str("\n  = ");
            s.push_str(h);
        }
        s
    }
}

/// The widest line quoted whole in an error; longer lines are shown as a
/// window around the problem.
pub const QUOTE_WIDTH: usize = 100;

/// A line quoted under an error message with a caret under the characters
/// `col .. col + width`: `  | line\n  | ^^^`. A line longer than
/// [`QUOTE_WIDTH`] characters is cut to a window around the caret (`…`
/// marks the cuts) and the caret line names the column.
pub fn quote(line: &str, col: usize, width: usize) -> String {
    let n = line.chars().count();
    if n <= QUOTE_WIDTH {
        return format!(
            "  | {line}\n  | {}{}",
            " ".repeat(col),
            "^".repeat(width.max(1))
        );
    }
    let col = col.min(n);
    let width = width.clamp(1, QUOTE_WIDTH / 2);
    let from = col.saturating_sub(QUOTE_WIDTH / 3);
    let to = (from + QUOTE_WIDTH).min(n);
    let from = to.saturating_sub(QUOTE_WIDTH).min(from);
    let shown: String = line.chars().skip(from).take(to - from).collect();
    let (pre, post) = (
        if from > 0 { "…" } else { "" },
        if to < n { "…" } else { "" },
    );
    let caret_col = col - from + pre.chars().count();
    format!(
        "  | {pre}{shown}{post}\n  | {}{} column {}",
        " ".repeat(caret_col),
        "^".repeat(width),
        col + 1
    )
}

/// Clamp a byte span to the line and to character boundaries.
fn char_span(line: &str, start: usize, end: usize) -> (usize, usize) {
    let mut s = start.min(line.len());
    while !line.is_char_boundary(s) {
        s -= 1;
    }
    let mut e = end.clamp(s, line.len());
    while !line.is_char_boundary(e) {
        e += 1;
    }
    (s, e)
}

/// A note about a line that parsed (e.g. something Mercurial would refuse).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub start: usize,
    pub end: usize,
    pub message: String,
}

/// A parsed line: the frame plus warnings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub frame: Frame,
    pub warnings: Vec<Warning>,
}

#[derive(Clone, Copy)]
struct Field<'a> {
    text: &'a str,
    start: usize,
}

/// Split like Python's `s.split(b' ', n)`.
/// Up to six fields, on the stack (this runs once per frame line).
struct Fields<'a> {
    items: [Field<'a>; 6],
    len: usize,
}

impl<'a> std::ops::Deref for Fields<'a> {
    type Target = [Field<'a>];
    fn deref(&self) -> &[Field<'a>] {
        &self.items[..self.len]
    }
}

/// Split like Python's `s.split(b' ', n)` (n at most 5). The spaces are
/// found eight bytes at a time, up to the last split (the payload, the
/// rest of the line, is not scanned).
fn split_fields(line: &str, n: usize) -> Fields<'_> {
    let mut items = [Field { text: "", start: 0 }; 6];
    let mut len = 0;
    let n = n.min(5);
    let b = line.as_bytes();
    let mut start = 0;
    let mut base = 0;
    'scan: while len < n && base < b.len() {
        let end = (base + 8).min(b.len());
        let mut mask = space_mask(&b[base..end]);
        while mask != 0 {
            let i = base + (mask.trailing_zeros() / 8) as usize;
            // A space is ASCII: `start..i` are character boundaries.
            items[len] = Field {
                text: &line[start..i],
                start,
            };
            len += 1;
            start = i + 1;
            if len == n {
                break 'scan;
            }
            mask &= mask - 1;
        }
        base = end;
    }
    items[len] = Field {
        text: &line[start..],
        start,
    };
    Fields {
        items,
        len: len + 1,
    }
}

/// Bit 7 of byte k set where `w[k]` (at most 8 bytes) is a space.
fn space_mask(w: &[u8]) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    match <[u8; 8]>::try_from(w) {
        Ok(w) => {
            // Bytes that are zero after the XOR, exactly (no carries
            // between bytes: a byte's sum is at most 0xfe).
            let t = u64::from_le_bytes(w) ^ 0x2020_2020_2020_2020;
            !(((t & LOW7) + LOW7) | t | LOW7)
        }
        Err(_) => w
            .iter()
            .enumerate()
            .filter(|(_, &c)| c == b' ')
            .fold(0, |m, (k, _)| m | 0x80 << (8 * k)),
    }
}

const FIELDS6: [&str; 6] = [
    "request-id",
    "stream-id",
    "stream-flags",
    "type",
    "flags",
    "payload",
];
const FIELDS3: [&str; 3] = ["type", "flags", "payload"];

/// Parse one human frame string for a revision.
pub fn parse_human(proto: Proto, line: &str) -> Result<Parsed, HumanError> {
    // What `parse_human_bytes` does with text, without checking it again.
    parse_text(proto, line, None)
}

/// Parse a human frame string given as bytes, as Mercurial's helper takes
/// it: everything before the payload must be text; the payload may hold any
/// bytes (passed through unescaped).
pub fn parse_human_bytes(proto: Proto, raw: &[u8]) -> Result<Parsed, HumanError> {
    if let Ok(text) = std::str::from_utf8(raw) {
        return parse_text(proto, text, None);
    }
    let t = proto.table();
    let nfields = if t.has_streams { 6 } else { 3 };
    // Find where the payload starts (after nfields-1 single spaces).
    let mut cut = 0;
    let mut spaces = 0;
    while spaces < nfields - 1 {
        match raw[cut..].iter().position(|&b| b == b' ') {
            Some(k) => {
                cut += k + 1;
                spaces += 1;
            }
            None => {
                cut = raw.len();
                break;
            }
        }
    }
    let head = &raw[..cut];
    let payload = &raw[cut..];
    let Ok(head_text) = std::str::from_utf8(head) else {
        let line = String::from_utf8_lossy(raw).into_owned();
        let bad = head.utf8_chunks().next().map_or(0, |c| c.valid().len());
        let (start, end) = char_span(&line, bad, bad + 1);
        return Err(HumanError {
            line,
            start,
            end,
            message: "the fields before the payload must be text (UTF-8)".into(),
            help: vec!["only the payload may contain arbitrary bytes".into()],
        });
    };
    match std::str::from_utf8(payload) {
        Ok(_) => parse_text(proto, head_text, None),
        Err(_) => {
            // Keep the raw payload bytes; show the line lossily.
            let mut line = head_text.to_string();
            line.push_str(&String::from_utf8_lossy(payload));
            parse_text(proto, &line, Some((head_text.len(), payload)))
        }
    }
}

fn parse_text(
    proto: Proto,
    line: &str,
    raw_payload: Option<(usize, &[u8])>,
) -> Result<Parsed, HumanError> {
    let t = proto.table();
    let names: &[&str] = if t.has_streams { &FIELDS6 } else { &FIELDS3 };
    let fields = split_fields(line, names.len() - 1);
    let err = |start: usize, end: usize, message: String, help: Vec<String>| {
        // Positions inside a non-UTF-8 payload are raw-byte offsets that do
        // not map onto the (lossy) line: point at the whole payload then.
        let (start, end) = match raw_payload {
            Some((payload_start, _)) if end > payload_start => (payload_start, line.len()),
            _ => (start, end),
        };
        let (start, end) = char_span(line, start, end);
        HumanError {
            line: line.to_string(),
            start,
            end,
            message,
            help,
        }
    };
    if fields.len() < names.len() {
        let mut help = vec![format!(
            "a {} frame is: <{}>",
            proto.name(),
            names.join("> <")
        )];
        if fields.len() == names.len() - 1 {
            help.push(
                "an empty payload still needs the space before it (end the line with a space)"
                    .into(),
            );
        }
        if t.has_streams && split_fields(line, 2).len() == 3 && fields.len() <= 3 {
            help.push("this looks like the 3-field 0001 form; use --proto 0001, or add <request-id> <stream-id> <stream-flags> in front".into());
        }
        return Err(err(
            line.len(),
            line.len(),
            format!(
                "expected {} space-separated fields, got {}",
                names.len(),
                fields.len()
            ),
            help,
        ));
    }
    let mut warnings = Vec::new();
    let mut frame = Frame::default();
    let mut k = 0;
    if t.has_streams {
        let f = &fields[0];
        frame.request_id = parse_int_field(proto, f, "request id", 0xffff)
            .map_err(|(m, h)| err(f.start, f.start + f.text.len(), m, h))?
            as u16;
        let f = &fields[1];
        frame.stream_id = parse_int_field(proto, f, "stream id", 0xff)
            .map_err(|(m, h)| err(f.start, f.start + f.text.len(), m, h))?
            as u8;
        let f = &fields[2];
        frame.stream_flags = parse_flags(proto, f, t.stream_flags, "stream flag", None, 0xff)
            .map_err(|(s, e, m, h)| err(s, e, m, h))?;
        k = 3;
    }
    // type
    let f = &fields[k];
    let type_id = match proto.type_by_name(f.text) {
        Some(td) => td.id,
        None => {
            let n = match parse_py_int(proto, f.text) {
                Some(n) => n,
                None => {
                    let mut help = vec![format!(
                        "expected a frame type name or number; {} types: {}",
                        proto.name(),
                        t.types
                            .iter()
                            .map(|t| t.name)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )];
                    if let Some(s) = did_you_mean(f.text, t.types.iter().map(|t| t.name)) {
                        help.insert(0, format!("did you mean `{s}`?"));
                    }
                    // The newest revision that has the name.
                    let same_layout = Proto::all().rev().find(|p| {
                        !p.same_revision(proto)
                            && p.table().has_streams == t.has_streams
                            && p.type_by_name(f.text).is_some()
                    });
                    let any = Proto::all()
                        .rev()
                        .find(|p| !p.same_revision(proto) && p.type_by_name(f.text).is_some());
                    if let Some(other) = same_layout {
                        help.push(format!(
                            "`{}` is a frame type of protocol {} (use --proto {})",
                            f.text,
                            other.name(),
                            other.name()
                        ));
                    } else if let Some(other) = any {
                        let layout = if other.table().has_streams {
                            "<request-id> <stream-id> <stream-flags> <type> <flags> <payload>"
                        } else {
                            "<type> <flags> <payload>"
                        };
                        help.push(format!(
                            "`{}` is a frame type of protocol {}, whose frames read {layout} (use --proto {} with that form)",
                            f.text,
                            other.name(),
                            other.name()
                        ));
                    }
                    return Err(err(
                        f.start,
                        f.start + f.text.len(),
                        format!("unknown frame type `{}`", f.text),
                        help,
                    ));
                }
            };
            if !(0..=15).contains(&n) {
                return Err(err(
                    f.start,
                    f.start + f.text.len(),
                    format!("frame type {n} does not fit in 4 bits"),
                    vec!["expected a type number from 0 to 15".into()],
                ));
            }
            if proto.type_def(n as u8).is_none() {
                warnings.push(Warning {
                    start: f.start,
                    end: f.start + f.text.len(),
                    message: format!(
                        "type {n} is not a {} frame type (Mercurial's makeframefromhumanstring raises KeyError for it); sending it anyway",
                        proto.name()
                    ),
                });
            }
            n as u8
        }
    };
    frame.type_id = type_id;
    let f = &fields[k + 1];
    let tdname = proto.type_def(type_id).map(|t| t.name);
    frame.flags = parse_flags(proto, f, proto.flag_names(type_id), "flag", tdname, 0xf)
        .map_err(|(s, e, m, h)| err(s, e, m, h))?;
    // payload
    let f = &fields[k + 2];
    let payload_bytes = match raw_payload {
        Some((_, bytes)) => bytes,
        None => f.text.as_bytes(),
    };
    frame.payload = parse_payload(proto, payload_bytes)
        .map_err(|(s, e, m, h)| err(f.start + s, f.start + e, m, h))?;
    if frame.payload.len() > crate::wire::frame::MAX_PAYLOAD {
        return Err(err(
            f.start,
            line.len(),
            format!(
                "payload of {} bytes is larger than a frame can carry",
                frame.payload.len()
            ),
            vec![format!("at most {} bytes", crate::wire::frame::MAX_PAYLOAD)],
        ));
    }
    if !t.has_streams {
        if let Some(w) = longer_layout_hint(proto, line) {
            warnings.push(w);
        }
    }
    Ok(Parsed { frame, warnings })
}

/// A line parsed with a short layout that reads as a frame line of a
/// revision with a longer one (e.g. a 6-field line given with `--proto
/// 0001`, whose payload then swallows the other fields).
fn longer_layout_hint(proto: Proto, line: &str) -> Option<Warning> {
    let (n, _) = layout(proto);
    // Newest first: the revision a 6-field line most likely means.
    for p in Proto::all().rev().filter(|p| layout(*p).0 > n) {
        let (pn, tf) = layout(p);
        let fields = split_fields(line, pn - 1);
        if fields.len() == pn && p.type_by_name(fields[tf].text).is_some() {
            let f = &fields[tf];
            return Some(Warning {
                start: f.start,
                end: f.start + f.text.len(),
                message: format!(
                    "this line reads as a {pn}-field {p} frame line (`{}` is a {p} frame type), but as {proto} everything after the flags is payload; pass --proto {p} if that is what you meant",
                    f.text
                ),
            });
        }
    }
    None
}

type FieldErr = (String, Vec<String>);

/// Python 3 / 2 `int()` on a field (no surrounding spaces possible).
/// `int()` of Python: optional surrounding whitespace, a sign, decimal
/// digits, single `_` between digits (Python 3 only). A nom grammar.
fn py_int(underscores: bool) -> impl Fn(&str) -> IResult<&str, (bool, i64)> {
    move |i: &str| {
        let (i, _) = multispace0(i)?;
        let (i, sign) = opt(one_of("+-")).parse(i)?;
        let (i, digits) = if underscores {
            recognize(pair(digit1, many0_count(pair(char('_'), digit1)))).parse(i)?
        } else {
            digit1(i)?
        };
        let (i, _) = multispace0(i)?;
        let v = if digits.contains('_') {
            digits.replace('_', "").parse::<i64>()
        } else {
            digits.parse::<i64>()
        };
        match v {
            Ok(v) => Ok((i, (sign == Some('-'), v))),
            Err(_) => Err(nom::Err::Error(nom::error::Error::new(
                i,
                nom::error::ErrorKind::Digit,
            ))),
        }
    }
}

fn parse_py_int(proto: Proto, s: &str) -> Option<i64> {
    // The common case, plain digits (ids, flag numbers), read directly:
    // the grammar below gives the same value for them.
    if let Some(n) = plain_digits(s) {
        return Some(n);
    }
    match all_consuming(py_int(proto.py() == crate::python::Py::Three)).parse(s) {
        Ok((_, (neg, v))) => Some(if neg { -v } else { v }),
        Err(_) => None,
    }
}

/// The value of 1 to 18 ASCII digits (no sign, space or `_`), else
/// `None`.
fn plain_digits(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.is_empty() || b.len() > 18 {
        return None;
    }
    let mut n = 0i64;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n * 10 + i64::from(c - b'0');
    }
    Some(n)
}

fn parse_int_field(proto: Proto, f: &Field<'_>, what: &str, max: i64) -> Result<i64, FieldErr> {
    match parse_py_int(proto, f.text) {
        Some(n) if (0..=max).contains(&n) => Ok(n),
        Some(n) => Err((
            format!("{what} {n} is out of range"),
            vec![format!("expected a decimal integer from 0 to {max}")],
        )),
        None => Err((
            if f.text.is_empty() {
                format!("empty {what} (two spaces in a row?)")
            } else {
                format!("{what} `{}` is not a decimal integer", f.text)
            },
            vec![format!("expected a decimal integer from 0 to {max}")],
        )),
    }
}

/// `name|name|3` → OR of values. Error: (start, end, message, help).
fn parse_flags(
    proto: Proto,
    f: &Field<'_>,
    names: &[FlagName],
    what: &str,
    type_name: Option<&str>,
    max: u8,
) -> Result<u8, (usize, usize, String, Vec<String>)> {
    // One name, the common case (a name holds no `|`: it is the only
    // item, and the value the loop below would give).
    if let Some(n) = names.iter().find(|n| n.name == f.text) {
        return Ok(n.value);
    }
    let mut value: i64 = 0;
    let text = f.text;
    // Items between `|`s (like `text.split('|')`), found on the bytes (a
    // byte loop: items are short): `|` is ASCII, so every cut is a
    // character boundary.
    let (mut from, mut done) = (0, false);
    while !done {
        let to = text.as_bytes()[from..]
            .iter()
            .position(|&c| c == b'|')
            .map_or(text.len(), |k| from + k);
        done = to == text.len();
        let item = &text[from..to];
        let (s, e) = (f.start + from, f.start + to);
        from = to + 1;
        if let Some(n) = names.iter().find(|n| n.name == item) {
            value |= n.value as i64;
            continue;
        }
        match parse_py_int(proto, item) {
            Some(n) if (0..=max as i64).contains(&n) => value |= n,
            Some(n) => {
                return Err((
                    s,
                    e,
                    format!("{what} value {n} does not fit"),
                    vec![format!(
                        "expected a name or an integer from 0 to {max}{}",
                        if max == 0xf {
                            " (flags share a byte with the type: Mercurial would silently change the type)"
                        } else {
                            ""
                        }
                    )],
                ))
            }
            None => {
                let valid: Vec<&str> = names.iter().map(|n| n.name).collect();
                let mut help = Vec::new();
                if let Some(s) = did_you_mean(item, valid.iter().copied()) {
                    help.push(format!("did you mean `{s}`?"));
                }
                let ctx = match type_name {
                    Some(t) => format!(" for {t}"),
                    None => String::new(),
                };
                if valid.is_empty() {
                    help.push(format!("no {what} names exist{ctx}: use 0 or a number"));
                } else {
                    help.push(format!(
                        "valid {what}s{ctx}: {} (or a number; join several with |)",
                        valid.join(", ")
                    ));
                }
                if let Some(t) = type_name {
                    let others: Vec<&str> = proto
                        .table()
                        .types
                        .iter()
                        .filter(|td| td.name != t && td.flags.iter().any(|n| n.name == item))
                        .map(|td| td.name)
                        .collect();
                    if !others.is_empty() {
                        help.push(format!("`{item}` is a flag of {}", others.join(", ")));
                    }
                }
                return Err((
                    s,
                    e,
                    if item.is_empty() {
                        format!("empty {what}")
                    } else {
                        format!("unknown {what} `{item}`{ctx}")
                    },
                    help,
                ));
            }
        }
    }
    Ok(value as u8)
}

/// Payload: `cbor:<literal>` (when the revision has it) or escaped bytes.
/// Error positions are relative to the payload text.
fn parse_payload(
    proto: Proto,
    text: &[u8],
) -> Result<Vec<u8>, (usize, usize, String, Vec<String>)> {
    if proto.table().payload_syntax == PayloadSyntax::EscapedOrCbor {
        if let Some(lit) = text.strip_prefix(b"cbor:") {
            let py = proto.py();
            // The common literals straight to bytes (python::literal_cbor);
            // anything else, errors included, through the full parser.
            if py == crate::python::Py::Three && proto.table().cbor == CborCodec::Cborutil {
                let mut out = Vec::with_capacity(lit.len() + 9);
                if crate::python::literal_cbor::literal_to_cbor(lit, &mut out).is_some() {
                    return Ok(out);
                }
            }
            // Python 3 Mercurial decodes the literal as latin-1 before
            // literal_eval; Python 2's literal_eval reads the bytes, which
            // the parser takes one char per byte.
            let lit: std::borrow::Cow<str> = match (py, std::str::from_utf8(lit)) {
                (crate::python::Py::Three, Ok(s)) => s.into(),
                _ => lit.iter().map(|&b| b as char).collect::<String>().into(),
            };
            // Error positions are in `lit`; the caller's are raw bytes.
            let raw_pos = |p: usize| -> usize {
                match py {
                    crate::python::Py::Two => lit.get(..p).map_or(p, |s| s.chars().count()),
                    crate::python::Py::Three => p,
                }
            };
            let v = parse_literal_in(py, &lit).map_err(|e| {
                (
                    5 + raw_pos(e.pos),
                    5 + raw_pos(e.pos) + 1,
                    format!("bad cbor: literal: {}", e.message),
                    vec![match py {
                        crate::python::Py::Two => "cbor: takes a Python 2 literal ('x' is bytes, u'x' text, no sets), e.g. cbor:{b'name': b'heads'}".into(),
                        crate::python::Py::Three => "cbor: takes a Python literal, e.g. cbor:{b'name': b'heads'}".into(),
                    }],
                )
            })?;
            return proto.encode_cbor(&v).map_err(|e| {
                (
                    5,
                    text.len(),
                    format!("cannot CBOR-encode this value: {e}"),
                    encode_hints(proto, &e),
                )
            });
        }
    }
    escape_decode(text).map_err(|e| {
        (
            e.pos(),
            (e.pos() + 4).min(text.len()),
            format!("bad escape in payload: {e}"),
            vec!["payload escapes are Python's: \\xNN, \\n, \\t, \\r, \\0, \\\\ ...".into()],
        )
    })
}

/// What to do about a value the revision's CBOR encoder refuses.
fn encode_hints(proto: Proto, err: &str) -> Vec<String> {
    let mut h = Vec::new();
    if proto.py() == crate::python::Py::Two && err.contains("unicode") {
        h.push("on Python 2 u'...' is text, which this Mercurial's CBOR encoder refuses: write b'...' or '...'".into());
    }
    h
}

/// Closest valid name within edit distance 2 (or a prefix match).
pub fn did_you_mean<'a>(given: &str, valid: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let mut best: Option<(usize, &str)> = None;
    for v in valid {
        let d = levenshtein(given, v);
        let ok = d <= 2 || (given.len() >= 3 && v.starts_with(given));
        if ok && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, v));
        }
    }
    best.map(|(_, v)| v)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + (ca != cb) as usize)
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The field count and the index of the type field in a revision's
/// human strings.
fn layout(proto: Proto) -> (usize, usize) {
    if proto.table().has_streams {
        (6, 3)
    } else {
        (3, 0)
    }
}

/// Guess the revision from frame lines, or the default revision when they
/// do not decide (see [`decide_proto`]). Returns the revision and why.
pub fn infer_proto<'a>(lines: impl IntoIterator<Item = &'a str>) -> (Proto, String) {
    prefer_proto(lines).unwrap_or_else(|| {
        (
            Proto::DEFAULT,
            format!(
                "no revision-specific type name seen; defaulting to {}",
                Proto::DEFAULT
            ),
        )
    })
}

/// As [`decide_proto`], but a type name several revisions share (with the
/// same layout) picks the newest of them, saying so: `command-request` is
/// 0005's and 0006's, and 0006 is assumed. Only a local choice: against a
/// server, its detected revision decides instead.
pub fn prefer_proto<'a>(lines: impl IntoIterator<Item = &'a str>) -> Option<(Proto, String)> {
    let lines: Vec<&str> = lines.into_iter().collect();
    if let Some(d) = decide_proto(lines.iter().copied()) {
        return Some(d);
    }
    for line in lines {
        let mut found: Vec<(Proto, &str)> = Vec::new();
        for p in Proto::all() {
            let (n, tf) = layout(p);
            let fields = split_fields(line, n - 1);
            if fields.len() == n && p.type_by_name(fields[tf].text).is_some() {
                found.push((p, fields[tf].text));
            }
        }
        let Some(&(newest, name)) = found.last() else {
            continue;
        };
        // Only when the name means the same bytes in each (same layout,
        // same type id): then which of them is a question for the server.
        let id = newest.type_by_name(name).map(|t| t.id);
        if found
            .iter()
            .any(|(p, _)| layout(*p) != layout(newest) || p.type_by_name(name).map(|t| t.id) != id)
        {
            continue;
        }
        let names: Vec<&str> = found.iter().map(|(p, _)| p.name()).collect();
        let (_, older) = names.split_last().unwrap_or((&"", &[]));
        let hint = older
            .iter()
            .filter_map(|o| {
                let p: Proto = o.parse().ok()?;
                let r = crate::wire::proto::RELEASES
                    .iter()
                    .find(|r| std::ptr::eq(r.table, p.table()))?;
                Some(format!(
                    "--proto {o} or --hg {}.{} for Mercurial {}",
                    r.last.0, r.last.1, r.versions
                ))
            })
            .collect::<Vec<_>>();
        return Some((
            newest,
            format!(
                "`{name}` is a frame type of {}; {newest}, the newest, assumed{}",
                names.join(" and "),
                if hint.is_empty() {
                    String::new()
                } else {
                    format!("; {}", hint.join("; "))
                }
            ),
        ));
    }
    None
}

/// The revision the frame lines decide, and why: the first line whose
/// type name (in the type field of a revision's layout) belongs to exactly
/// one revision.
pub fn decide_proto<'a>(lines: impl IntoIterator<Item = &'a str>) -> Option<(Proto, String)> {
    for line in lines {
        let mut found: Vec<(Proto, &str)> = Vec::new();
        for p in Proto::all() {
            let (n, tf) = layout(p);
            let fields = split_fields(line, n - 1);
            if fields.len() == n && p.type_by_name(fields[tf].text).is_some() {
                found.push((p, fields[tf].text));
            }
        }
        let [(p, name)] = found[..] else {
            continue;
        };
        // Say where the name was read when a revision of another layout
        // knows it too.
        let other_layout =
            Proto::all().any(|q| layout(q) != layout(p) && q.type_by_name(name).is_some());
        let place = match (other_layout, layout(p).0) {
            (false, _) => String::new(),
            (true, 3) => " in the first of 3 fields".to_string(),
            (true, n) => format!(" with {n} fields"),
        };
        return Some((p, format!("`{name}`{place} is a {p} frame type")));
    }
    None
}

/// Render a frame as a human string that parses back to identical bytes.
pub fn to_human(proto: Proto, f: &Frame) -> String {
    let mut out = Vec::new();
    to_human_into(&mut out, proto, f);
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// [`to_human`] appended to `out` (no `core::fmt`, no string per part:
/// `decode --format human` writes millions of these).
pub fn to_human_into(out: &mut Vec<u8>, proto: Proto, f: &Frame) {
    let t = proto.table();
    let num =
        |out: &mut Vec<u8>, n: u64| out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    if t.has_streams {
        num(out, f.request_id.into());
        out.push(b' ');
        num(out, f.stream_id.into());
        out.push(b' ');
        flags_human_into(out, t.stream_flags, f.stream_flags);
        out.push(b' ');
    }
    match proto.type_def(f.type_id) {
        Some(td) => {
            out.extend_from_slice(td.name.as_bytes());
            out.push(b' ');
            flags_human_into(out, td.flags, f.flags);
        }
        None => {
            num(out, f.type_id.into());
            out.push(b' ');
            num(out, f.flags.into());
        }
    }
    out.push(b' ');
    payload_human_into(out, proto, &f.payload);
}

fn flags_human_into(out: &mut Vec<u8>, names: &[FlagName], value: u8) {
    if value == 0 {
        out.push(b'0');
        return;
    }
    let mut rest = value;
    let mut first = true;
    for n in names {
        if value & n.value != 0 && rest & n.value != 0 {
            if !first {
                out.push(b'|');
            }
            first = false;
            out.extend_from_slice(n.name.as_bytes());
            rest &= !n.value;
        }
    }
    if rest != 0 {
        if !first {
            out.push(b'|');
        }
        out.extend_from_slice(itoa::Buffer::new().format(rest).as_bytes());
    }
}

/// `cbor:<literal>` when the payload is exactly one CBOR value that our
/// encoder reproduces byte for byte and the literal parser reads back (at
/// most [`MAX_NESTING`](crate::python::literal::MAX_NESTING) levels deep),
/// else escaped raw bytes.
pub fn payload_human(proto: Proto, payload: &[u8]) -> String {
    let mut out = Vec::new();
    payload_human_into(&mut out, proto, payload);
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// [`payload_human`] appended to `out`.
pub fn payload_human_into(out: &mut Vec<u8>, proto: Proto, payload: &[u8]) {
    let cbor_syntax = proto.table().payload_syntax == PayloadSyntax::EscapedOrCbor;
    if cbor_syntax && !payload.is_empty() {
        // Common payloads straight from their bytes (python::cbor_text), with
        // the bound decode_cbor_one applies; the rest through a value.
        if proto.table().cbor != CborCodec::Cbor2Canonical {
            let bound = (payload.len() as u64)
                .saturating_mul(crate::python::cbor::ITEM_COST)
                .max(1 << 20);
            let mark = out.len();
            out.extend_from_slice(b"cbor:");
            if crate::python::cbor_text::canonical_literal_into(out, payload, bound) {
                return;
            }
            out.truncate(mark);
        }
        if let Some(v) = proto
            .decode_cbor_one(payload)
            .filter(|v| nesting(v) <= crate::python::literal::MAX_NESTING)
        {
            let mark = out.len();
            out.extend_from_slice(b"cbor:");
            if literal_into(out, &v) && proto.encode_cbor(&v).ok().as_deref() == Some(payload) {
                return;
            }
            out.truncate(mark);
        }
    }
    let mark = out.len();
    crate::python::escape::escape_bytes_into(out, payload);
    if cbor_syntax && out[mark..].starts_with(b"cbor:") {
        // `\x63` is `c`: the payload is bytes that read like the prefix.
        out.splice(mark..mark + 1, *b"\\x63");
    }
}

/// How many brackets deep a value's literal goes (iteratively: values can
/// be nested far deeper than the stack allows recursion).
fn nesting(v: &Value) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(v, 0usize)];
    while let Some((v, d)) = stack.pop() {
        match v {
            Value::List(x) | Value::Tuple(x) | Value::Set(x) => {
                deepest = deepest.max(d + 1);
                stack.extend(x.iter().map(|c| (c, d + 1)));
            }
            Value::Dict(pairs) => {
                deepest = deepest.max(d + 1);
                for (k, val) in pairs {
                    stack.push((k, d + 1));
                    stack.push((val, d + 1));
                }
            }
            _ => {}
        }
    }
    deepest
}

/// A Python literal for a value, if it has one.
pub fn to_literal(v: &Value) -> Option<String> {
    let mut out = Vec::new();
    literal_into(&mut out, v).then(|| ascii_string(out))
}

/// Text the literal writers made (ASCII only: everything else is escaped).
fn ascii_string(b: Vec<u8>) -> String {
    String::from_utf8(b).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// [`to_literal`] appended to `out`: `false` (and `out` as it was) when
/// the value has no literal. Written straight into one buffer, without
/// `core::fmt` or a string per item: `decode` renders millions of these.
pub fn literal_into(out: &mut Vec<u8>, v: &Value) -> bool {
    let mark = out.len();
    let ok = write_literal(out, v);
    if !ok {
        out.truncate(mark);
    }
    ok
}

fn write_literal(out: &mut Vec<u8>, v: &Value) -> bool {
    let items = |out: &mut Vec<u8>, items: &[Value]| {
        for (i, x) in items.iter().enumerate() {
            if i > 0 {
                out.extend_from_slice(b", ");
            }
            if !write_literal(out, x) {
                return false;
            }
        }
        true
    };
    match v {
        Value::None => out.extend_from_slice(b"None"),
        Value::Bool(true) => out.extend_from_slice(b"True"),
        Value::Bool(false) => out.extend_from_slice(b"False"),
        Value::Int(i) => out.extend_from_slice(itoa::Buffer::new().format(*i).as_bytes()),
        Value::Big(b) => out.extend_from_slice(b.to_decimal().as_bytes()),
        Value::Bytes(b) => bytes_literal_into(out, b),
        Value::Str(t) => return text_literal_into(out, t),
        Value::Float(f) if f.is_nan() => return false,
        Value::Float(f) if f.is_infinite() => {
            out.extend_from_slice(if *f > 0.0 { b"1e400" } else { b"-1e400" })
        }
        Value::Float(f) => out.extend_from_slice(crate::python::json::py_float_repr(*f).as_bytes()),
        Value::Chunk { .. } | Value::ByteArray(_) | Value::Opaque(..) => return false,
        Value::List(x) => {
            out.push(b'[');
            if !items(out, x) {
                return false;
            }
            out.push(b']');
        }
        Value::Tuple(x) => {
            out.push(b'(');
            if !items(out, x) {
                return false;
            }
            if x.len() == 1 {
                out.push(b',');
            }
            out.push(b')');
        }
        Value::Set(x) if x.is_empty() => out.extend_from_slice(b"set()"),
        Value::Set(x) => {
            out.push(b'{');
            if !items(out, x) {
                return false;
            }
            out.push(b'}');
        }
        Value::Dict(pairs) => {
            out.push(b'{');
            for (i, (k, v)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(b", ");
                }
                if !write_literal(out, k) {
                    return false;
                }
                out.extend_from_slice(b": ");
                if !write_literal(out, v) {
                    return false;
                }
            }
            out.push(b'}');
        }
    }
    true
}

/// `u'...'` with escapes both Pythons read alike (`None` for text that
/// is not UTF-8 with surrogates allowed).
pub fn text_literal(t: &[u8]) -> Option<String> {
    let mut out = Vec::new();
    text_literal_into(&mut out, t).then(|| ascii_string(out))
}

/// [`text_literal`] appended to `out` (`false`, `out` unchanged, for text
/// that is not UTF-8 with surrogates allowed).
pub fn text_literal_into(out: &mut Vec<u8>, t: &[u8]) -> bool {
    const H: &[u8; 16] = b"0123456789abcdef";
    let mark = out.len();
    out.extend_from_slice(b"u'");
    let mut pos = 0;
    while pos < t.len() {
        let Some((n, cp)) = crate::python::json::utf8_char(&t[pos..]) else {
            out.truncate(mark);
            return false;
        };
        pos += n;
        let hexes = |out: &mut Vec<u8>, lead: &[u8], digits: u32| {
            out.extend_from_slice(lead);
            for i in (0..digits).rev() {
                out.push(H[((cp >> (4 * i)) & 15) as usize]);
            }
        };
        match cp {
            0x5c => out.extend_from_slice(b"\\\\"),
            0x27 => out.extend_from_slice(b"\\'"),
            0x0a => out.extend_from_slice(b"\\n"),
            0x0d => out.extend_from_slice(b"\\r"),
            0x09 => out.extend_from_slice(b"\\t"),
            0x20..=0x7e => out.push(cp as u8),
            0..=0xff => hexes(out, b"\\x", 2),
            0x100..=0xffff => hexes(out, b"\\u", 4),
            _ => hexes(out, b"\\U", 8),
        }
    }
    out.push(b'\'');
    true
}

/// `b'...'` with Python-style escapes.
pub fn bytes_literal(b: &[u8]) -> String {
    let mut out = Vec::with_capacity(b.len() + 3);
    bytes_literal_into(&mut out, b);
    ascii_string(out)
}

/// [`bytes_literal`] appended to `out`.
pub fn bytes_literal_into(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(b"b'");
    crate::python::escape::BYTES_LITERAL.write(out, b);
    out.push(b'\'');
}

#[cfg(test)]
mod tests {
    /// Found by the `human` fuzz target: a payload nested deeper than the
    /// literal parser reads (200 levels) was rendered as `cbor:[[[…]]]`,
    /// which does not parse back. Now every rendering parses back to the
    /// same bytes.
    #[test]
    fn deep_payloads_render_to_lines_that_parse_back() {
        use crate::wire::frame::Frame;
        for n in [1usize, 199, 200, 201, 5000] {
            let mut payload = vec![0x81; n];
            payload.push(0x40);
            let f = Frame::new(1, 1, payload.clone()).with_ids(1, 1, 0);
            let line = super::to_human(Proto::P0006, &f);
            assert_eq!(
                line.contains("cbor:"),
                n <= 200,
                "{n}: {}",
                &line[..line.len().min(80)]
            );
            let back = super::parse_human(Proto::P0006, &line)
                .unwrap_or_else(|e| panic!("{n}: {}", e.render()))
                .frame;
            assert_eq!(back.payload, payload, "{n}");
        }
    }

    use super::*;
    use crate::python::escape::hex;

    fn enc(p: Proto, s: &str) -> String {
        hex(&parse_human(p, s).unwrap().frame.encode(p).unwrap())
    }

    #[test]
    fn mercurial_table_4a() {
        let p = Proto::P0006;
        assert_eq!(enc(p, "1 1 0 1 0 "), "0000000100010010");
        assert_eq!(enc(p, "2 4 0 1 0 foo"), "0300000200040010666f6f");
        assert_eq!(
            enc(p, "1 1 0 1 0 cbor:-342542"),
            "05000001000100103a00053a0d"
        );
        assert_eq!(
            enc(p, "1 1 stream-begin text-output 0 cbor:[{b'msg': b'foo %s', b'args': [b'arg'], b'labels': [b'label']}]"),
            "250000010001016081a344617267738143617267466c6162656c7381456c6162656c436d736746666f6f202573"
        );
        assert_eq!(
            enc(p, "1 2 stream-begin stream-settings eos cbor:b\"identity\""),
            "0900000100020192486964656e74697479"
        );
    }

    /// The splitter (spaces found eight bytes at a time) against Python's
    /// `split(' ', n)` written plainly, and the digit fast path against the
    /// grammar, on random lines of spaces, digits, `|`, `_`, signs and
    /// non-ASCII text.
    #[test]
    fn fast_field_reading_agrees_with_the_plain_rules() {
        let mut next = crate::python::testing::xorshift(0x2545_f491_4f6c_dd1d);
        let alphabet = [
            " ", "  ", "1", "0", "9", "_", "+", "-", "|", "\t", "é", "☃", "ab",
        ];
        for _ in 0..20_000 {
            let len = next() % 40;
            let line: String = (0..len)
                .map(|_| alphabet[next() as usize % alphabet.len()])
                .collect();
            for n in 0..=5 {
                let want: Vec<(usize, &str)> = {
                    let mut v = Vec::new();
                    let mut start = 0;
                    for (i, piece) in line.splitn(n + 1, ' ').enumerate() {
                        if i > 0 {
                            start += 1;
                        }
                        v.push((start, piece));
                        start += piece.len();
                    }
                    v
                };
                let got: Vec<(usize, &str)> = split_fields(&line, n)
                    .iter()
                    .map(|f| (f.start, f.text))
                    .collect();
                assert_eq!(got, want, "{line:?} {n}");
            }
            for f in line.split(' ') {
                for py in [crate::python::Py::Two, crate::python::Py::Three] {
                    let grammar = all_consuming(py_int(py == crate::python::Py::Three))
                        .parse(f)
                        .ok()
                        .map(|(_, (neg, v))| if neg { -v } else { v });
                    if let Some(v) = plain_digits(f) {
                        assert_eq!(Some(v), grammar, "{f:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn old_revisions() {
        assert_eq!(
            enc(Proto::P0001, r"command-argument 0 \x03\x00\x04\x00fooval1"),
            "0b00002003000400666f6f76616c31"
        );
        assert_eq!(
            enc(
                Proto::P0002,
                "1 1 stream-begin command-name have-args command1"
            ),
            "0800000100010112636f6d6d616e6431"
        );
        // no cbor: in 0002
        assert_eq!(
            enc(Proto::P0002, "1 1 0 1 0 cbor:1"),
            "060000010001001063626f723a31"
        );
    }

    #[test]
    fn errors_point_at_fields() {
        let e = parse_human(Proto::P0001, "command-name have-arg foo").unwrap_err();
        assert_eq!((e.start, e.end), (13, 21));
        assert!(
            e.help[0].contains("did you mean `have-args`"),
            "{:?}",
            e.help
        );
        let r = e.render();
        assert!(r.contains("              ^^^^^^^^"), "{r}");
        let e = parse_human(Proto::P0006, "1 1 0 command-name 0 x").unwrap_err();
        assert!(
            e.help
                .iter()
                .any(|h| h.contains("protocol 0002 (use --proto 0002)")),
            "{:?}",
            e.help
        );
        let e = parse_human(Proto::P0006, "1 1 stream-begin command-request new").unwrap_err();
        assert!(e.message.contains("expected 6"));
        let e = parse_human(Proto::P0006, "70000 1 0 1 1 x").unwrap_err();
        assert!(e.message.contains("out of range"));
        assert!(parse_human(Proto::P0006, "1 1 0 1 16 x").is_err());
        let w = parse_human(Proto::P0006, "1 1 0 4 0 x").unwrap();
        assert_eq!(w.warnings.len(), 1);
    }

    #[test]
    fn human_roundtrip() {
        let p = Proto::P0006;
        for line in [
            "1 1 stream-begin command-request new|have-data cbor:{b'name': b'x'}",
            r"3 1 0 command-request continuation \xa1AbA3DnameHcommand3",
            "1 1 0 command-data eos \\x63bor:",
            "5 3 stream-begin|encoded|8 4 7 \\x00\\\\",
        ] {
            let f = parse_human(p, line).unwrap().frame;
            let back = to_human(p, &f);
            let f2 = parse_human(p, &back).unwrap().frame;
            assert_eq!(f, f2, "{line} -> {back}");
        }
    }

    #[test]
    fn inference() {
        assert_eq!(infer_proto(["command-name eos x"]).0, Proto::P0001);
        assert_eq!(infer_proto(["1 1 0 command-name eos x"]).0, Proto::P0002);
        assert_eq!(
            infer_proto(["1 1 0 command-data eos x", "1 1 0 command-request new x"]).0,
            Proto::P0006
        );
        assert_eq!(infer_proto(["1 1 0 command-data eos x"]).0, Proto::P0006);
    }
}
