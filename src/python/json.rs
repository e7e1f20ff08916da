//! The two JSON encoders debugreflect endpoints use, byte for byte.
//!
//! * 0001/0002 servers ran Python 2 and used `json.dumps(obj,
//!   sort_keys=True, separators=(', ', ': '))`: bytes are decoded as UTF-8
//!   (invalid UTF-8 raises, which the server turns into HTTP 500) and
//!   everything outside printable ASCII is `\uXXXX`.
//! * 0006 (Mercurial 5.0+ on Python 3) uses `templatefilters.json`: bytes go
//!   through UTF-8b (`encoding.toutf8b`: invalid bytes become U+DC80..U+DCFF)
//!   and `jsonescape(paranoid=True)`: `<` `>` as `\u003c` `\u003e`,
//!   non-ASCII as `\uXXXX` (surrogate pairs beyond the BMP). It never fails
//!   on bytes; it fails on non-bytes dict keys.

use crate::python::value::{py_sorted_by, Value};
use crate::python::Py;

/// How a revision's debugreflect endpoint renders actions as JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonFlavor {
    /// Python 2 `json.dumps(obj, sort_keys=True, separators=(', ', ': '))`.
    Python2,
    /// Mercurial's `templatefilters.json` (UTF-8b, paranoid `<` `>` escapes).
    Mercurial,
}

/// The server's JSON encoder raised: a Mercurial server answers HTTP 500.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonError {
    #[error("bytes are not valid UTF-8 (Python 2's json.dumps raises UnicodeDecodeError): {0}")]
    NotUtf8(String),
    #[error(
        "dict key of type {0} cannot be rendered (templatefilters.json only handles bytes keys)"
    )]
    BadKey(&'static str),
    #[error("cannot sort dict keys: {0}")]
    Unorderable(String),
    #[error("value of type {0} cannot be rendered")]
    BadValue(&'static str),
    /// Python 2's `json.dumps` raises `TypeError: … is not JSON serializable`.
    #[error("TypeError: a {0} is not JSON serializable (Python 2's json.dumps)")]
    NotSerializable(&'static str),
    /// Mercurial's recursive renderer hits Python's recursion limit.
    #[error(
        "RecursionError: maximum recursion depth exceeded (values nested deeper than {0} levels)"
    )]
    TooDeep(usize),
}

/// Encode with the given flavor.
pub fn to_json(flavor: JsonFlavor, v: &Value) -> Result<Vec<u8>, JsonError> {
    let limit = match flavor {
        JsonFlavor::Python2 => Depth::PY2_DUMPS,
        JsonFlavor::Mercurial => Depth::PY3_TEMPLATEFILTERS,
    };
    to_json_within(flavor, limit, v)
}

/// Where the server's Python hits its recursion limit rendering nested
/// values: measured per encoder and Python, with nested lists and nested
/// maps under `args` against live servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Depth {
    /// The deepest nesting level that renders.
    pub max: usize,
    /// A non-empty dict needs one frame more than its values do (Python 2:
    /// the sort-key or key-escaping call it makes for each key).
    pub dict_needs_one_more: bool,
}

impl Depth {
    /// Python 2's `json.dumps` (4.8.2: 966 nested lists, 965 nested maps).
    pub const PY2_DUMPS: Depth = Depth {
        max: 970,
        dict_needs_one_more: true,
    };
    /// `templatefilters.json` on Python 2 (5.0.2: 969 lists, 968 maps).
    pub const PY2_TEMPLATEFILTERS: Depth = Depth {
        max: 973,
        dict_needs_one_more: true,
    };
    /// `templatefilters.json` on Python 3 (6.0: 485 lists or maps).
    pub const PY3_TEMPLATEFILTERS: Depth = Depth {
        max: HG_JSON_MAX_DEPTH,
        dict_needs_one_more: false,
    };

    fn check(self, v: &Value, depth: usize) -> Result<(), JsonError> {
        // A dict's values are one level down; its own per-key call one more.
        let extra = match v {
            Value::Dict(d) if self.dict_needs_one_more && !d.is_empty() => 2,
            _ => 0,
        };
        if depth + extra > self.max {
            return Err(JsonError::TooDeep(self.max));
        }
        Ok(())
    }
}

/// Encode with the given flavor, raising where the server's Python hits
/// its recursion limit (`limit` depends on the Python, so the caller's
/// flavour knows it).
pub fn to_json_within(flavor: JsonFlavor, limit: Depth, v: &Value) -> Result<Vec<u8>, JsonError> {
    let mut out = Vec::new();
    to_json_within_into(flavor, limit, v, &mut out)?;
    Ok(out)
}

/// [`to_json_within`] appended to `out` (on an error `out` keeps what
/// was written before it).
pub fn to_json_within_into(
    flavor: JsonFlavor,
    limit: Depth,
    v: &Value,
    out: &mut Vec<u8>,
) -> Result<(), JsonError> {
    match flavor {
        JsonFlavor::Python2 => py2(v, out, 1, limit),
        JsonFlavor::Mercurial => hg(v, out, 1, limit),
    }
}

fn sorted_bytes_keys(pairs: &[(Value, Value)]) -> Result<Vec<&(Value, Value)>, JsonError> {
    // sorted(d.items()): keys are distinct, so only keys are compared.
    let v: Vec<&(Value, Value)> = pairs.iter().collect();
    py_sorted_by(v, |a, b| a.0.py_lt(&b.0)).map_err(|e| JsonError::Unorderable(e.0))
}

/// How deep `templatefilters.json` recurses in a debugreflect request
/// before Python's recursion limit (1000 frames, two per level, below the
/// server's own frames): measured against Mercurial 6.0's `hg serve`.
pub const HG_JSON_MAX_DEPTH: usize = 489;

fn hg(v: &Value, out: &mut Vec<u8>, depth: usize, limit: Depth) -> Result<(), JsonError> {
    limit.check(v, depth)?;
    match v {
        Value::None => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Value::Bytes(b) | Value::Chunk { data: b, .. } => {
            out.push(b'"');
            hg_escape(b, out);
            out.push(b'"');
        }
        Value::Dict(pairs) => {
            let sorted = sorted_bytes_keys(pairs)?;
            out.push(b'{');
            for (n, (k, val)) in sorted.into_iter().enumerate() {
                let Some(kb) = k.as_bytes() else {
                    return Err(JsonError::BadKey(k.type_name()));
                };
                if n > 0 {
                    out.extend_from_slice(b", ");
                }
                out.push(b'"');
                hg_escape(kb, out);
                out.extend_from_slice(b"\": ");
                hg(val, out, depth + 1, limit)?;
            }
            out.push(b'}');
        }
        Value::List(items) | Value::Tuple(items) | Value::Set(items) => {
            out.push(b'[');
            for (n, i) in items.iter().enumerate() {
                if n > 0 {
                    out.extend_from_slice(b", ");
                }
                hg(i, out, depth + 1, limit)?;
            }
            out.push(b']');
        }
        Value::Str(_)
        | Value::Float(_)
        | Value::Big(_)
        | Value::ByteArray(_)
        | Value::Opaque(..) => return Err(JsonError::BadValue(v.type_name())),
    }
    Ok(())
}

/// Length of a valid UTF-8 sequence at the start of `b`, surrogates allowed
/// (Python's `surrogatepass`), with its code point.
pub(crate) fn utf8_char(b: &[u8]) -> Option<(usize, u32)> {
    let lead = *b.first()?;
    let (len, init) = match lead {
        0x00..=0x7f => return Some((1, lead as u32)),
        0xc2..=0xdf => (2, (lead & 0x1f) as u32),
        0xe0..=0xef => (3, (lead & 0x0f) as u32),
        0xf0..=0xf4 => (4, (lead & 0x07) as u32),
        _ => return None,
    };
    if b.len() < len {
        return None;
    }
    let mut cp = init;
    for &c in &b[1..len] {
        if c & 0xc0 != 0x80 {
            return None;
        }
        cp = cp << 6 | (c & 0x3f) as u32;
    }
    let min = [0, 0, 0x80, 0x800, 0x10000][len];
    if cp < min || cp > 0x10ffff {
        return None;
    }
    Some((len, cp))
}

/// `encoding.toutf8b` as code points.
fn utf8b_codepoints(s: &[u8]) -> Vec<u32> {
    let mut out = Vec::with_capacity(s.len());
    let mut pos = 0;
    while pos < s.len() {
        let lead = s[pos];
        // getutf8char: how many bytes to try comes from the first nibble.
        let want = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 4][(lead >> 4) as usize];
        if want == 0 {
            out.push(lead as u32);
            pos += 1;
            continue;
        }
        let end = (pos + want).min(s.len());
        match utf8_char(&s[pos..end]) {
            Some((len, cp)) if len == end - pos => {
                if (0xdc00..=0xdcff).contains(&cp) {
                    // existing U+DCxx: re-escape its first byte
                    out.push(0xdc00 + lead as u32);
                    pos += 1;
                } else {
                    out.push(cp);
                    pos += len;
                }
            }
            _ => {
                out.push(0xdc00 + lead as u32);
                pos += 1;
            }
        }
    }
    out
}

fn push_u(out: &mut Vec<u8>, unit: u32) {
    out.extend_from_slice(format!("\\u{unit:04x}").as_bytes());
}

fn push_cp_escaped(out: &mut Vec<u8>, cp: u32) {
    if cp > 0xffff {
        let c = cp - 0x10000;
        push_u(out, 0xd800 + (c >> 10));
        push_u(out, 0xdc00 + (c & 0x3ff));
    } else {
        push_u(out, cp);
    }
}

/// `encoding.jsonescape(s, paranoid=True)`.
pub fn hg_escape(s: &[u8], out: &mut Vec<u8>) {
    let ascii = s.is_ascii();
    let cps: Vec<u32> = if ascii {
        Vec::new()
    } else {
        utf8b_codepoints(s)
    };
    let iter: Box<dyn Iterator<Item = u32>> = if ascii {
        Box::new(s.iter().map(|&b| b as u32))
    } else {
        Box::new(cps.into_iter())
    };
    for cp in iter {
        match cp {
            0x22 => out.extend_from_slice(b"\\\""),
            0x5c => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x09 => out.extend_from_slice(b"\\t"),
            0x0a => out.extend_from_slice(b"\\n"),
            0x0c => out.extend_from_slice(b"\\f"),
            0x0d => out.extend_from_slice(b"\\r"),
            0x3c | 0x3e => push_u(out, cp),
            0x20..=0x7e => out.push(cp as u8),
            _ => push_cp_escaped(out, cp),
        }
    }
}

fn py2(v: &Value, out: &mut Vec<u8>, depth: usize, limit: Depth) -> Result<(), JsonError> {
    limit.check(v, depth)?;
    match v {
        Value::None => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Value::Big(b) => out.extend_from_slice(b.to_decimal().as_bytes()),
        Value::Float(f) => out.extend_from_slice(py2_floatstr(*f).as_bytes()),
        Value::Bytes(b) | Value::Chunk { data: b, .. } | Value::Str(b) => py2_string(b, out)?,
        Value::Dict(pairs) => {
            // sorted(dct.items(), key=lambda kv: kv[0]) with Python 2's
            // mixed-type ordering, then each key made a string.
            let items: Vec<&(Value, Value)> = pairs.iter().collect();
            let sorted = py_sorted_by(items, |a, b| a.0.py2_lt(&b.0))
                .map_err(|e| JsonError::Unorderable(e.0))?;
            out.push(b'{');
            for (n, (k, val)) in sorted.into_iter().enumerate() {
                if n > 0 {
                    out.extend_from_slice(b", ");
                }
                match k {
                    Value::Bytes(b) | Value::Chunk { data: b, .. } | Value::Str(b) => {
                        py2_string(b, out)?
                    }
                    Value::Float(f) => {
                        out.push(b'"');
                        out.extend_from_slice(py2_floatstr(*f).as_bytes());
                        out.push(b'"');
                    }
                    Value::None | Value::Bool(_) | Value::Int(_) | Value::Big(_) => {
                        out.push(b'"');
                        py2(k, out, depth + 1, limit)?;
                        out.push(b'"');
                    }
                    other => return Err(JsonError::BadKey(other.type_name_in(Py::Two))),
                }
                out.extend_from_slice(b": ");
                py2(val, out, depth + 1, limit)?;
            }
            out.push(b'}');
        }
        Value::List(items) | Value::Tuple(items) => {
            out.push(b'[');
            for (n, i) in items.iter().enumerate() {
                if n > 0 {
                    out.extend_from_slice(b", ");
                }
                py2(i, out, depth + 1, limit)?;
            }
            out.push(b']');
        }
        Value::Set(_) | Value::ByteArray(_) | Value::Opaque(..) => {
            return Err(JsonError::NotSerializable(v.type_name_in(Py::Two)))
        }
    }
    Ok(())
}

/// `json.encoder.floatstr` on Python 2.7: `NaN`, `Infinity`,
/// `-Infinity`, else `repr(f)` (the shortest digits that round-trip,
/// exponent form when the decimal point is left of -4 or right of 16).
pub fn py2_floatstr(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    py_float_repr(f)
}

/// Python's `repr(float)` (2.7 and 3.x agree).
pub fn py_float_repr(f: f64) -> String {
    let e = format!("{:e}", f.abs());
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let sign = if f.is_sign_negative() { "-" } else { "" };
    let decpt = exp + 1;
    if -4 < decpt && decpt <= 16 {
        let n = digits.len() as i32;
        let s = if decpt <= 0 {
            format!("0.{}{}", "0".repeat((-decpt) as usize), digits)
        } else if decpt >= n {
            format!("{}{}.0", digits, "0".repeat((decpt - n) as usize))
        } else {
            format!(
                "{}.{}",
                &digits[..decpt as usize],
                &digits[decpt as usize..]
            )
        };
        format!("{sign}{s}")
    } else {
        let m = if digits.len() > 1 {
            format!("{}.{}", &digits[..1], &digits[1..])
        } else {
            digits.clone()
        };
        let x = decpt - 1;
        format!(
            "{sign}{m}e{}{:02}",
            if x < 0 { '-' } else { '+' },
            x.unsigned_abs()
        )
    }
}

/// Python 2 `encode_basestring_ascii` of a `str` (UTF-8 decoded first;
/// Python 2's codec lets encoded surrogates through).
fn py2_string(b: &[u8], out: &mut Vec<u8>) -> Result<(), JsonError> {
    out.push(b'"');
    let mut pos = 0;
    while pos < b.len() {
        let Some((len, cp)) = utf8_char(&b[pos..]) else {
            return Err(JsonError::NotUtf8(crate::python::escape::escape_bytes(b)));
        };
        pos += len;
        match cp {
            0x22 => out.extend_from_slice(b"\\\""),
            0x5c => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x09 => out.extend_from_slice(b"\\t"),
            0x0a => out.extend_from_slice(b"\\n"),
            0x0c => out.extend_from_slice(b"\\f"),
            0x0d => out.extend_from_slice(b"\\r"),
            0x20..=0x7e => out.push(cp as u8),
            _ => push_cp_escaped(out, cp),
        }
    }
    out.push(b'"');
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hgs(b: &[u8]) -> String {
        let mut o = Vec::new();
        hg_escape(b, &mut o);
        String::from_utf8(o).unwrap()
    }

    #[test]
    fn mercurial_doctests() {
        assert_eq!(
            hgs(b"escape characters: \0 \x0b \x7f"),
            "escape characters: \\u0000 \\u000b \\u007f"
        );
        assert_eq!(
            hgs(b"escape boundary: \x7e \x7f \xc2\x80"),
            "escape boundary: ~ \\u007f \\u0080"
        );
        assert_eq!(hgs(b"a weird byte: \xdd"), "a weird byte: \\udcdd");
        assert_eq!(hgs(b"utf-8: caf\xc3\xa9"), "utf-8: caf\\u00e9");
        assert_eq!(hgs(b"non-BMP: \xf0\x9d\x84\x9e"), "non-BMP: \\ud834\\udd1e");
        assert_eq!(hgs(b"<foo@example.org>"), "\\u003cfoo@example.org\\u003e");
        assert_eq!(hgs(b"\xed\xb0\x80"), "\\udced\\udcb0\\udc80");
        assert_eq!(hgs(b"\xed\xa0\x80"), "\\ud800");
    }

    #[test]
    fn python2_dumps() {
        let v = Value::dict([("k", Value::bytes(&b"caf\xc3\xa9<b>\x00"[..]))]);
        assert_eq!(
            to_json(JsonFlavor::Python2, &v).unwrap(),
            b"{\"k\": \"caf\\u00e9<b>\\u0000\"}".to_vec()
        );
        assert!(to_json(JsonFlavor::Python2, &Value::bytes(&b"\xff"[..])).is_err());
        // non-bytes keys render, sorted the Python 2 way
        let v = Value::Dict(vec![
            (Value::bytes("b"), Value::Int(1)),
            (Value::Int(2), Value::Int(2)),
            (Value::None, Value::Int(3)),
            (Value::bytes("a"), Value::Int(4)),
        ]);
        assert_eq!(
            to_json(JsonFlavor::Python2, &v).unwrap(),
            b"{\"null\": 3, \"2\": 2, \"a\": 4, \"b\": 1}".to_vec()
        );
        assert!(to_json(JsonFlavor::Python2, &Value::Set(vec![Value::Int(1)])).is_err());
    }

    #[test]
    fn float_repr() {
        for (f, s) in [
            (1.5, "1.5"),
            (1.0, "1.0"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (0.0001, "0.0001"),
            (1e-5, "1e-05"),
            (-0.0, "-0.0"),
            (0.1, "0.1"),
            (2.71, "2.71"),
            (1e300, "1e+300"),
            (123456789.123, "123456789.123"),
            (5.960464477539063e-08, "5.960464477539063e-08"),
        ] {
            assert_eq!(py_float_repr(f), s, "{f}");
        }
        assert_eq!(py2_floatstr(f64::NAN), "NaN");
        assert_eq!(py2_floatstr(f64::NEG_INFINITY), "-Infinity");
    }
}

/// Parse JSON as a debugreflect endpoint writes it, back into values:
/// strings become bytes (UTF-8, with Mercurial's UTF-8b escapes `\udc80` ..
/// `\udcff` turned back into the raw bytes they stand for), integers ints,
/// objects dicts with bytes keys, arrays lists.
pub fn parse_reflect_json(s: &[u8]) -> Result<Value, String> {
    let mut p = JsonParser { s, i: 0 };
    p.ws();
    let v = p.value(0)?;
    p.ws();
    if p.i != s.len() {
        return Err(format!("trailing bytes at {}", p.i));
    }
    Ok(v)
}

struct JsonParser<'a> {
    s: &'a [u8],
    i: usize,
}

impl JsonParser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn err<T>(&self, what: &str) -> Result<T, String> {
        Err(format!("{what} at byte {}", self.i))
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, String> {
        if depth > 200 {
            return self.err("too deeply nested");
        }
        self.ws();
        match self.s.get(self.i) {
            Some(b'{') => {
                self.i += 1;
                let mut d = crate::python::value::DictBuilder::new(crate::python::Py::Three);
                self.ws();
                if self.eat(b'}') {
                    return Ok(Value::Dict(d.into_pairs()));
                }
                loop {
                    self.ws();
                    let k = self.string()?;
                    self.ws();
                    if !self.eat(b':') {
                        return self.err("expected ':'");
                    }
                    let v = self.value(depth + 1)?;
                    d.insert(k, v);
                    self.ws();
                    if self.eat(b'}') {
                        return Ok(Value::Dict(d.into_pairs()));
                    }
                    if !self.eat(b',') {
                        return self.err("expected ',' or '}'");
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                let mut l = Vec::new();
                self.ws();
                if self.eat(b']') {
                    return Ok(Value::List(l));
                }
                loop {
                    l.push(self.value(depth + 1)?);
                    self.ws();
                    if self.eat(b']') {
                        return Ok(Value::List(l));
                    }
                    if !self.eat(b',') {
                        return self.err("expected ',' or ']'");
                    }
                }
            }
            Some(b'"') => self.string(),
            Some(b't') if self.s[self.i..].starts_with(b"true") => {
                self.i += 4;
                Ok(Value::Bool(true))
            }
            Some(b'f') if self.s[self.i..].starts_with(b"false") => {
                self.i += 5;
                Ok(Value::Bool(false))
            }
            Some(b'n') if self.s[self.i..].starts_with(b"null") => {
                self.i += 4;
                Ok(Value::None)
            }
            Some(b'-' | b'0'..=b'9') => {
                let start = self.i;
                self.i += 1;
                while matches!(self.s.get(self.i), Some(b'0'..=b'9')) {
                    self.i += 1;
                }
                let t = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("");
                t.parse::<i128>()
                    .map(Value::Int)
                    .map_err(|_| format!("bad number {t:?}"))
            }
            _ => self.err("expected a JSON value"),
        }
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let h = self
            .s
            .get(self.i..self.i + 4)
            .ok_or("truncated \\u escape")?;
        let v = u32::from_str_radix(std::str::from_utf8(h).map_err(|e| e.to_string())?, 16)
            .map_err(|_| "bad \\u escape".to_string())?;
        self.i += 4;
        Ok(v)
    }

    fn string(&mut self) -> Result<Value, String> {
        if !self.eat(b'"') {
            return self.err("expected a string");
        }
        let mut out = Vec::new();
        loop {
            let Some(&c) = self.s.get(self.i) else {
                return self.err("unterminated string");
            };
            self.i += 1;
            match c {
                b'"' => return Ok(Value::Bytes(out)),
                b'\\' => {
                    let Some(&e) = self.s.get(self.i) else {
                        return self.err("unterminated escape");
                    };
                    self.i += 1;
                    match e {
                        b'"' | b'\\' | b'/' => out.push(e),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let u = self.hex4()?;
                            let cp = if (0xd800..0xdc00).contains(&u)
                                && self.s[self.i..].starts_with(b"\\u")
                            {
                                let save = self.i;
                                self.i += 2;
                                let lo = self.hex4()?;
                                if (0xdc00..0xe000).contains(&lo) {
                                    0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00)
                                } else {
                                    self.i = save;
                                    u
                                }
                            } else {
                                u
                            };
                            if (0xdc80..=0xdcff).contains(&cp) {
                                // UTF-8b: a raw byte
                                out.push((cp - 0xdc00) as u8);
                            } else {
                                let mut buf = [0u8; 4];
                                match char::from_u32(cp) {
                                    Some(ch) => {
                                        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes())
                                    }
                                    None => {
                                        // a lone surrogate: its surrogatepass UTF-8
                                        out.extend_from_slice(&[
                                            0xe0 | (cp >> 12) as u8,
                                            0x80 | ((cp >> 6) & 0x3f) as u8,
                                            0x80 | (cp & 0x3f) as u8,
                                        ]);
                                    }
                                }
                            }
                        }
                        _ => return self.err("bad escape"),
                    }
                }
                _ => out.push(c),
            }
        }
    }
}

#[cfg(test)]
mod parse_tests {
    use super::*;

    #[test]
    fn roundtrips_mercurial_json() {
        for b in [
            &b"caf\xc3\xa9 <x> \xff\x00 \xf0\x9d\x84\x9e \xed\xa0\x80"[..],
            b"plain",
            b"",
        ] {
            let v = Value::dict([("k", Value::bytes(b))]);
            let j = to_json(JsonFlavor::Mercurial, &v).unwrap();
            assert_eq!(
                parse_reflect_json(&j).unwrap(),
                v,
                "{}",
                String::from_utf8_lossy(&j)
            );
        }
        assert!(parse_reflect_json(b"[1, ").is_err());
    }
}
