//! Values (Python objects decoded from CBOR) as JSON and as readable
//! Python literals.

use serde_json::{json, Map, Value as J};

use crate::human::{bytes_literal_into, literal_into};
use crate::python::escape::hex;
use crate::python::value::Value;

/// JSON for a value: bytes → string when UTF-8 else `{"hex": …}`; ints →
/// numbers (strings beyond 64 bits); None → null; lists/tuples → arrays;
/// sets → `{"set": […]}`; dicts with UTF-8 bytes keys → objects, other
/// dicts → `{"map": [[k, v], …]}`; indefinite-bytestring chunks →
/// `{"chunk": …, "first": b, "last": b}`.
pub fn value_json(v: &Value) -> J {
    fn bytes_json(b: &[u8]) -> J {
        match std::str::from_utf8(b) {
            Ok(s) => J::String(s.to_string()),
            Err(_) => json!({ "hex": hex(b) }),
        }
    }
    match v {
        Value::None => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => {
            if let Ok(x) = i64::try_from(*i) {
                json!(x)
            } else if let Ok(x) = u64::try_from(*i) {
                json!(x)
            } else {
                J::String(i.to_string())
            }
        }
        Value::Bytes(b) => bytes_json(b),
        Value::Chunk { data, first, last } => {
            json!({"chunk": bytes_json(data), "first": first, "last": last})
        }
        Value::List(items) | Value::Tuple(items) => {
            J::Array(items.iter().map(value_json).collect())
        }
        Value::Set(items) => json!({ "set": items.iter().map(value_json).collect::<Vec<_>>() }),
        Value::Dict(pairs) => {
            let all_str = pairs
                .iter()
                .all(|(k, _)| k.as_bytes().is_some_and(|b| std::str::from_utf8(b).is_ok()));
            if all_str {
                let mut m = Map::new();
                for (k, v) in pairs {
                    let k = String::from_utf8_lossy(k.as_bytes().unwrap_or_default()).into_owned();
                    m.insert(k, value_json(v));
                }
                J::Object(m)
            } else {
                json!({ "map": pairs.iter().map(|(k, v)| json!([value_json(k), value_json(v)])).collect::<Vec<_>>() })
            }
        }
        Value::Str(s) => J::String(String::from_utf8_lossy(s).into_owned()),
        Value::Float(f) => json!(f),
        Value::Big(b) => J::String(b.to_decimal()),
        Value::ByteArray(b) => json!({ "bytearray": bytes_json(b) }),
        Value::Opaque(_, repr) => json!({ "object": repr }),
    }
}

/// A readable one-line form of a value (Python literal syntax).
pub fn value_text(v: &Value) -> String {
    let mut out = Vec::new();
    value_text_into(&mut out, v);
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// [`value_text`] appended to `out`.
pub fn value_text_into(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Chunk { data, first, last } => {
            let b = |x: bool| if x { &b"true"[..] } else { &b"false"[..] };
            out.extend_from_slice(b"chunk(");
            bytes_literal_into(out, data);
            out.extend_from_slice(b", first=");
            out.extend_from_slice(b(*first));
            out.extend_from_slice(b", last=");
            out.extend_from_slice(b(*last));
            out.push(b')');
        }
        other => {
            if !literal_into(out, other) {
                use std::io::Write as _;
                let _ = write!(out, "{other:?}");
            }
        }
    }
}

/// Whether bytes look like a binary node id: 20 bytes that are not
/// printable text.
pub fn is_node(b: &[u8]) -> bool {
    b.len() == 20 && std::str::from_utf8(b).map_or(true, |s| s.chars().any(|c| c.is_control()))
}

/// [`value_text`] with node ids (see [`is_node`]) as bare 40-digit hex, as
/// `send` and `decode --side response` show response objects.
pub fn value_text_nodes(v: &Value) -> String {
    let join = |items: &[Value]| {
        items
            .iter()
            .map(value_text_nodes)
            .collect::<Vec<_>>()
            .join(", ")
    };
    match v {
        Value::Bytes(b) if is_node(b) => hex(b),
        Value::List(x) => format!("[{}]", join(x)),
        Value::Tuple(x) if x.len() == 1 => format!("({},)", join(x)),
        Value::Tuple(x) => format!("({})", join(x)),
        Value::Set(x) if x.is_empty() => "set()".into(),
        Value::Set(x) => format!("{{{}}}", join(x)),
        Value::Dict(d) => format!(
            "{{{}}}",
            d.iter()
                .map(|(k, v)| format!("{}: {}", value_text_nodes(k), value_text_nodes(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Str(s) => String::from_utf8_lossy(s).into_owned(),
        other => value_text(other),
    }
}

/// A JSON string as serde_json writes it.
fn json_str<W: std::io::Write + ?Sized>(w: &mut W, s: &str) -> std::io::Result<()> {
    crate::python::cbor_text::json_string_to(w, s.as_bytes())
}
/// Bytes as [`value_json`] renders them: a string when UTF-8, else
/// `{"hex": …}`.
pub(crate) fn write_bytes_json<W: std::io::Write + ?Sized>(
    w: &mut W,
    b: &[u8],
) -> std::io::Result<()> {
    match std::str::from_utf8(b) {
        Ok(s) => json_str(w, s),
        Err(_) => {
            // through a buffer on the stack (node ids are 20 bytes: an
            // allocation each was a third of their cost), a small one (it
            // is zeroed every call)
            const HEX: &[u8; 16] = b"0123456789abcdef";
            w.write_all(b"{\"hex\":\"")?;
            let mut buf = [0u8; 128];
            for chunk in b.chunks(64) {
                for (d, &c) in buf.chunks_exact_mut(2).zip(chunk) {
                    d[0] = HEX[(c >> 4) as usize];
                    d[1] = HEX[(c & 15) as usize];
                }
                w.write_all(&buf[..2 * chunk.len()])?;
            }
            w.write_all(b"\"}")
        }
    }
}

/// Whether bytes are a JSON string's text as they are: printable ASCII
/// without `"` or `\\` (names, keys, most text), which needs neither the
/// UTF-8 check nor the escaping loop.
#[inline]
fn is_plain_json(b: &[u8]) -> bool {
    b.iter()
        .all(|&c| (0x20..0x7f).contains(&c) && c != b'"' && c != b'\\')
}

/// [`write_bytes_json`] into a buffer (the hex written in place).
pub(crate) fn write_bytes_json_vec(out: &mut Vec<u8>, b: &[u8]) {
    if is_plain_json(b) {
        out.push(b'"');
        out.extend_from_slice(b);
        out.push(b'"');
        return;
    }
    if std::str::from_utf8(b).is_ok() {
        let _ = write_bytes_json(out, b);
        return;
    }
    out.extend_from_slice(b"{\"hex\":\"");
    crate::python::escape::hex_into(out, b);
    out.extend_from_slice(b"\"}");
}

/// Write [`value_json`]'s JSON for a value straight to `w`, byte for byte
/// what serializing `value_json(v)` gives, without building it: a large
/// object (a 64 MiB file revision) is written as it is walked instead of
/// being copied into a JSON tree and a string first.
pub fn write_value_json<W: std::io::Write + ?Sized>(w: &mut W, v: &Value) -> std::io::Result<()> {
    fn seq<W: std::io::Write + ?Sized>(w: &mut W, items: &[Value]) -> std::io::Result<()> {
        w.write_all(b"[")?;
        for (i, x) in items.iter().enumerate() {
            if i > 0 {
                w.write_all(b",")?;
            }
            write_value_json(w, x)?;
        }
        w.write_all(b"]")
    }
    match v {
        Value::Bytes(b) => write_bytes_json(w, b),
        Value::Chunk { data, first, last } => {
            w.write_all(b"{\"chunk\":")?;
            write_bytes_json(w, data)?;
            write!(w, ",\"first\":{first},\"last\":{last}}}")
        }
        Value::List(items) | Value::Tuple(items) => seq(w, items),
        Value::Set(items) => {
            w.write_all(b"{\"set\":")?;
            seq(w, items)?;
            w.write_all(b"}")
        }
        Value::Dict(pairs) if keys_ascending(pairs) => {
            // Mercurial's maps: serde's sorted order is the map's own.
            w.write_all(b"{")?;
            for (n, (k, x)) in pairs.iter().enumerate() {
                if n > 0 {
                    w.write_all(b",")?;
                }
                crate::python::cbor_text::json_string_to(w, k.as_bytes().unwrap_or_default())?;
                w.write_all(b":")?;
                write_value_json(w, x)?;
            }
            w.write_all(b"}")
        }
        Value::Dict(pairs) => {
            let keys: Option<Vec<&str>> = pairs
                .iter()
                .map(|(k, _)| k.as_bytes().and_then(|b| std::str::from_utf8(b).ok()))
                .collect();
            match keys {
                Some(keys) => {
                    // serde_json's map is sorted by key; a repeated key
                    // keeps its last value.
                    let mut order: Vec<usize> = (0..pairs.len()).collect();
                    order.sort_by(|a, b| keys[*a].cmp(keys[*b]).then(b.cmp(a)));
                    order.dedup_by(|a, b| keys[*a] == keys[*b]);
                    w.write_all(b"{")?;
                    for (n, i) in order.into_iter().enumerate() {
                        if n > 0 {
                            w.write_all(b",")?;
                        }
                        json_str(w, keys[i])?;
                        w.write_all(b":")?;
                        write_value_json(w, &pairs[i].1)?;
                    }
                    w.write_all(b"}")
                }
                None => {
                    w.write_all(b"{\"map\":[")?;
                    for (n, (k, x)) in pairs.iter().enumerate() {
                        if n > 0 {
                            w.write_all(b",")?;
                        }
                        w.write_all(b"[")?;
                        write_value_json(w, k)?;
                        w.write_all(b",")?;
                        write_value_json(w, x)?;
                        w.write_all(b"]")?;
                    }
                    w.write_all(b"]}")
                }
            }
        }
        Value::Int(i) if i64::try_from(*i).is_ok() => {
            w.write_all(itoa::Buffer::new().format(*i).as_bytes())
        }
        Value::None => w.write_all(b"null"),
        Value::Bool(b) => w.write_all(if *b { b"true" } else { b"false" }),
        // Other scalars are rare: serde's own rendering.
        other => serde_json::to_writer(&mut *w, &value_json(other)).map_err(std::io::Error::from),
    }
}

/// Whether every key of a dict is a UTF-8 byte string and each is larger
/// than the one before (so none repeats, and serde_json's sorted map
/// keeps their order: `str` and byte order agree on UTF-8).
fn keys_ascending(pairs: &[(Value, Value)]) -> bool {
    let mut prev: Option<&[u8]> = None;
    for (k, _) in pairs {
        let Some(k) = k.as_bytes() else {
            return false;
        };
        if prev.is_some_and(|p| p >= k) || std::str::from_utf8(k).is_err() {
            return false;
        }
        prev = Some(k);
    }
    true
}

/// Compact JSON as serde_json's pretty printer writes the same value (two
/// spaces a level, `": "`, empty `[]`/`{}` kept on one line), every new
/// line after `prefix`, the value starting at nesting `level` on a line
/// the caller has begun. Strings are copied as they are.
pub(crate) fn reindent_json(out: &mut Vec<u8>, json: &[u8], prefix: &[u8], level: usize) {
    let newline = |out: &mut Vec<u8>, level: usize| pretty_newline(out, prefix, level);
    let mut level = level;
    let mut i = 0;
    while i < json.len() {
        let c = json[i];
        match c {
            b'"' => {
                // to the closing quote, escapes included (hex strings of
                // node ids are most of the text: found with memchr)
                let start = i;
                i += 1;
                loop {
                    match json.get(i..).and_then(|r| memchr::memchr2(b'"', b'\\', r)) {
                        Some(k) if json[i + k] == b'\\' => i += k + 2,
                        Some(k) => {
                            i += k;
                            break;
                        }
                        None => {
                            i = json.len();
                            break;
                        }
                    }
                }
                i = (i + 1).min(json.len());
                out.extend_from_slice(&json[start..i]);
                continue;
            }
            b'{' | b'[' => {
                out.push(c);
                if matches!(json.get(i + 1), Some(b'}' | b']')) {
                    out.push(json[i + 1]);
                    i += 2;
                    continue;
                }
                level += 1;
                newline(out, level);
            }
            b'}' | b']' => {
                level = level.saturating_sub(1);
                newline(out, level);
                out.push(c);
            }
            b',' => {
                out.push(b',');
                newline(out, level);
            }
            b':' => out.extend_from_slice(b": "),
            _ => out.push(c),
        }
        i += 1;
    }
}

/// A new line of pretty JSON at nesting `level`.
#[inline]
pub(crate) fn pretty_newline(out: &mut Vec<u8>, prefix: &[u8], level: usize) {
    out.push(b'\n');
    out.extend_from_slice(prefix);
    for _ in 0..level {
        out.extend_from_slice(b"  ");
    }
}

/// Bytes as [`write_value_json_pretty`] lays out [`value_json`]'s form of
/// them (a string, or `{"hex": …}` over three lines).
pub(crate) fn write_bytes_json_pretty(out: &mut Vec<u8>, b: &[u8], prefix: &[u8], level: usize) {
    if std::str::from_utf8(b).is_ok() {
        write_bytes_json_vec(out, b);
        return;
    }
    out.push(b'{');
    pretty_newline(out, prefix, level + 1);
    out.extend_from_slice(b"\"hex\": \"");
    crate::python::escape::hex_into(out, b);
    out.push(b'"');
    pretty_newline(out, prefix, level);
    out.push(b'}');
}

/// [`value_json`]'s JSON for a value as `serde_json::to_string_pretty`
/// lays it out (see [`reindent_json`] for `prefix` and `level`), written
/// as the value is walked: the common shapes (byte strings, ints, None,
/// bools, lists, dicts of UTF-8 byte-string keys) directly, anything else
/// as compact JSON re-indented.
pub(crate) fn write_value_json_pretty(out: &mut Vec<u8>, v: &Value, prefix: &[u8], level: usize) {
    match v {
        Value::Bytes(b) => write_bytes_json_pretty(out, b, prefix, level),
        Value::Int(_) | Value::None | Value::Bool(_) => {
            let _ = write_value_json(out, v);
        }
        Value::List(items) | Value::Tuple(items) => {
            if items.is_empty() {
                out.extend_from_slice(b"[]");
                return;
            }
            out.push(b'[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                pretty_newline(out, prefix, level + 1);
                write_value_json_pretty(out, x, prefix, level + 1);
            }
            pretty_newline(out, prefix, level);
            out.push(b']');
        }
        // Keys that are UTF-8 and strictly ascending (what CBOR decoded
        // from Mercurial's encoder gives): serde's sorted map, in order.
        Value::Dict(pairs)
            if pairs
                .iter()
                .all(|(k, _)| k.as_bytes().is_some_and(|b| std::str::from_utf8(b).is_ok()))
                && pairs
                    .windows(2)
                    .all(|w| w[0].0.as_bytes() < w[1].0.as_bytes()) =>
        {
            if pairs.is_empty() {
                out.extend_from_slice(b"{}");
                return;
            }
            out.push(b'{');
            for (i, (k, x)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                pretty_newline(out, prefix, level + 1);
                write_bytes_json_vec(out, k.as_bytes().unwrap_or_default());
                out.extend_from_slice(b": ");
                write_value_json_pretty(out, x, prefix, level + 1);
            }
            pretty_newline(out, prefix, level);
            out.push(b'}');
        }
        other => {
            let mut json = Vec::new();
            let _ = write_value_json(&mut json, other);
            reindent_json(out, &json, prefix, level);
        }
    }
}

/// [`value_text_nodes`] cut to about `max` characters, without rendering
/// more than that: (text, whether it was cut).
pub fn value_text_nodes_cut(v: &Value, max: usize) -> (String, bool) {
    struct Out {
        s: String,
        max: usize,
    }
    impl Out {
        fn full(&self) -> bool {
            self.s.len() > self.max
        }
        fn push(&mut self, t: &str) {
            if !self.full() {
                self.s.push_str(t);
            }
        }
    }
    fn walk(o: &mut Out, v: &Value) {
        if o.full() {
            return;
        }
        let items = |o: &mut Out, xs: &[Value]| {
            for (i, x) in xs.iter().enumerate() {
                if o.full() {
                    return;
                }
                if i > 0 {
                    o.push(", ");
                }
                walk(o, x);
            }
        };
        match v {
            Value::Bytes(b) if b.len() > o.max => {
                // Render a prefix only: never the whole of a large string.
                o.push(&value_text(&Value::Bytes(b[..o.max].to_vec())));
            }
            Value::Chunk { data, first, last } if data.len() > o.max => {
                o.push(&value_text(&Value::Chunk {
                    data: data[..o.max].to_vec(),
                    first: *first,
                    last: *last,
                }));
            }
            Value::List(x) => {
                o.push("[");
                items(o, x);
                o.push("]");
            }
            Value::Tuple(x) => {
                o.push("(");
                items(o, x);
                o.push(if x.len() == 1 { ",)" } else { ")" });
            }
            Value::Set(x) if x.is_empty() => o.push("set()"),
            Value::Set(x) => {
                o.push("{");
                items(o, x);
                o.push("}");
            }
            Value::Dict(d) => {
                o.push("{");
                for (i, (k, x)) in d.iter().enumerate() {
                    if o.full() {
                        return;
                    }
                    if i > 0 {
                        o.push(", ");
                    }
                    walk(o, k);
                    o.push(": ");
                    walk(o, x);
                }
                o.push("}");
            }
            other => o.push(&value_text_nodes(other)),
        }
    }
    let mut o = Out {
        s: String::new(),
        max,
    };
    walk(&mut o, v);
    if o.s.chars().count() > max {
        (o.s.chars().take(max).collect(), true)
    } else {
        (o.s, false)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn sample_values() -> Vec<Value> {
        let mut out = vec![
            Value::None,
            Value::Bool(true),
            Value::Int(-5),
            Value::Int(1 << 70),
            Value::Int(u64::MAX as i128),
            Value::bytes("plain"),
            Value::bytes("quote\" back\\ nl\n cr\r tab\t bs\x08 ff\x0c nul\x00 esc\x1b del\x7f é"),
            Value::Bytes(vec![0xff, 0x00, 0x10]),
            Value::Chunk {
                data: vec![0xc3],
                first: true,
                last: false,
            },
            Value::Chunk {
                data: vec![b'c'; 100],
                first: false,
                last: false,
            },
            Value::Bytes(vec![b'\x01'; 100]),
            // hex written in 256-byte pieces: more than one, and a part
            Value::Bytes((0..1000u32).map(|i| (i * 7 + 0x80) as u8).collect()),
            Value::Str("s".into()),
            Value::Set(vec![Value::Int(1), Value::bytes("x")]),
        ];
        let scalars = out.clone();
        out.push(Value::List(scalars.clone()));
        out.push(Value::Tuple(vec![Value::List(vec![]), Value::Dict(vec![])]));
        out.push(Value::dict([
            ("b", Value::Int(1)),
            ("a", Value::List(scalars.clone())),
            ("c\n", Value::bytes("v")),
        ]));
        out.push(Value::Dict(vec![
            (Value::Int(1), Value::None),
            (Value::Bytes(vec![0xff]), Value::bytes("x")),
        ]));
        // a repeated key (not from CBOR, but the form must still agree)
        out.push(Value::Dict(vec![
            (Value::bytes("k"), Value::Int(1)),
            (Value::bytes("j"), Value::Int(2)),
            (Value::bytes("k"), Value::Int(3)),
        ]));
        out
    }

    #[test]
    fn streamed_json_is_value_json() {
        let mut next = xorshift(0x2545_f491_4f6c_dd1d);
        let mut values = sample_values();
        // Keys in strictly ascending order (the walk without sorting).
        values.push(Value::dict([
            ("a", Value::Int(1)),
            ("b\"", Value::Bytes(vec![0xff; 20])),
            (
                "\u{e9}",
                Value::dict([("x", Value::None), ("y", Value::Int(-1))]),
            ),
        ]));
        values.extend((0..20_000).map(|_| random_value(&mut next, 4)));
        for v in values {
            let mut got = Vec::new();
            write_value_json(&mut got, &v).unwrap();
            let want = serde_json::to_vec(&value_json(&v)).unwrap();
            assert_eq!(
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(&want),
                "{v:?}"
            );
        }
    }

    /// A random value of every kind `value_json` knows, biased towards
    /// the shapes the pretty writer walks itself (byte strings, ints,
    /// lists, dicts with sorted UTF-8 keys).
    pub(crate) fn random_value(next: &mut impl FnMut() -> u64, depth: usize) -> Value {
        let bytes = |next: &mut dyn FnMut() -> u64| -> Vec<u8> {
            let n = (next() % 24) as usize;
            let pool: &[u8] = match next() % 3 {
                0 => b"abc{}[],:\" \\\n",
                1 => &[0, 0x1b, 0x7f, 0xc3, 0xa9, 0xff, b'x'],
                _ => b"nodes",
            };
            (0..n)
                .map(|_| pool[(next() % pool.len() as u64) as usize])
                .collect()
        };
        let leaf = depth == 0 || next().is_multiple_of(3);
        match next() % if leaf { 10 } else { 15 } {
            0 | 1 => Value::Bytes(bytes(next)),
            2 => Value::Int(next() as i64 as i128 >> (next() % 64)),
            3 => Value::Int((next() as i128) << 40),
            4 => Value::None,
            5 => Value::Bool(next().is_multiple_of(2)),
            6 => Value::Str(bytes(next)),
            7 => Value::Chunk {
                data: bytes(next),
                first: next().is_multiple_of(2),
                last: next().is_multiple_of(2),
            },
            8 => Value::Bytes((0..20).map(|_| next() as u8).collect()),
            9 => Value::Float(f64::from_bits(next())),
            10 | 11 => Value::List(
                (0..next() % 4)
                    .map(|_| random_value(next, depth - 1))
                    .collect(),
            ),
            12 => Value::Set(
                (0..next() % 3)
                    .map(|_| random_value(next, depth - 1))
                    .collect(),
            ),
            _ => {
                let mut pairs: Vec<(Value, Value)> = (0..next() % 4)
                    .map(|_| {
                        let k = match next() % 5 {
                            0 => Value::Int(next() as i8 as i128),
                            _ => Value::Bytes(bytes(next)),
                        };
                        (k, random_value(next, depth - 1))
                    })
                    .collect();
                if next().is_multiple_of(2) {
                    pairs.sort_by(|a, b| a.0.as_bytes().cmp(&b.0.as_bytes()));
                }
                Value::Dict(pairs)
            }
        }
    }

    pub(crate) use crate::python::testing::xorshift;

    /// Differential: the pretty writer against serde's pretty printer of
    /// `value_json`, on the sample values and random ones.
    #[test]
    fn pretty_json_is_serde_pretty() {
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
        let mut values = sample_values();
        values.extend((0..20_000).map(|_| random_value(&mut next, 4)));
        for v in values {
            let want = serde_json::to_string_pretty(&value_json(&v)).unwrap();
            let want: String = want.lines().map(|l| format!("    {l}\n")).collect();
            let mut got = b"    ".to_vec();
            write_value_json_pretty(&mut got, &v, b"    ", 0);
            got.push(b'\n');
            assert_eq!(String::from_utf8(got).unwrap(), want, "{v:?}");
        }
    }

    #[test]
    fn cut_text_is_a_prefix_of_the_full_text() {
        for v in sample_values() {
            let full = value_text_nodes(&v);
            for max in [0, 3, 10, 40, 1000] {
                let (cut, was_cut) = value_text_nodes_cut(&v, max);
                if was_cut {
                    assert!(full.starts_with(&cut), "{full:?} / {cut:?}");
                    assert_eq!(cut.chars().count(), max);
                } else {
                    assert_eq!(cut, full);
                }
            }
        }
        let big = Value::List(vec![Value::Bytes(vec![b'x'; 1_000_000]); 10]);
        let (cut, was_cut) = value_text_nodes_cut(&big, 50);
        assert!(was_cut && cut.len() == 50);
    }
}
