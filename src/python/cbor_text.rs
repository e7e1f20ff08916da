//! Payloads rendered straight from their CBOR bytes: the Python literal
//! (`render::value::value_text_into`'s text) and the JSON
//! (`render::value::write_value_json`'s bytes, the value schema of
//! `render::value::value_json`) of a payload written while its bytes are
//! walked, with no [`Value`] built and nothing allocated. It lives in this
//! bottom layer (it knows only CBOR, Python literals and JSON) so that the
//! human-string printer can use it as well as the renderers.
//!
//! `decode` spent a quarter of its time building `Value`s (and freeing
//! them) only to print them. This walk answers only for the shapes the
//! decoder's own fast path (`cbor::fast_value`) answers for — one definite
//! value of ints, byte strings, bools, None, lists of at most 1024 items
//! and maps of at most 64 entries with byte-string keys, none repeated, at
//! most 16 levels deep — because for those the decoded value is known
//! without Mercurial's map/set semantics: no duplicate keys to merge, no
//! sets, no indefinite lengths, no integer chunks, no memory bound to hit.
//! Anything else gives `None` and the caller renders through the `Value`
//! path, so the output is the same bytes either way (a differential test
//! below checks that on random CBOR).
//!
//! [`Value`]: crate::python::value::Value

use super::cbor::ITEM_COST;
use super::escape::{hex_into, BYTES_LITERAL};

/// Deepest nesting the walk follows (as `cbor::fast_value`).
const MAX_DEPTH: usize = 16;
/// Most items of a list (as `cbor::fast_value`).
const MAX_ITEMS: u64 = 1024;
/// Most entries of a map (as `cbor::fast_value`).
const MAX_ENTRIES: usize = 64;

/// One item's head: major type, argument, header length.
#[derive(Clone, Copy)]
struct Head {
    major: u8,
    sub: u8,
    arg: u64,
    len: usize,
}

#[inline]
fn head(b: &[u8]) -> Option<Head> {
    let initial = *b.first()?;
    let (major, sub) = (initial >> 5, initial & 0x1f);
    let (arg, len) = match sub {
        0..=23 => (sub as u64, 1),
        24 => (*b.get(1)? as u64, 2),
        25 => (u16::from_be_bytes([*b.get(1)?, *b.get(2)?]) as u64, 3),
        26 => (u32::from_be_bytes(b.get(1..5)?.try_into().ok()?) as u64, 5),
        27 => (u64::from_be_bytes(b.get(1..9)?.try_into().ok()?), 9),
        _ if major == 7 => (0, 1),
        _ => return None,
    };
    Some(Head {
        major,
        sub,
        arg,
        len,
    })
}

/// Whether the head's argument is written in the fewest bytes (what
/// Mercurial's encoder writes).
fn minimal(h: Head) -> bool {
    match h.len {
        1 => true,
        2 => h.arg >= 24,
        3 => h.arg > 0xff,
        5 => h.arg > 0xffff,
        _ => h.arg > 0xffff_ffff,
    }
}

/// The bytes of a byte string item and the item's length.
#[inline]
fn bytes_item(b: &[u8], h: Head) -> Option<(&[u8], usize)> {
    let end = h.len.checked_add(usize::try_from(h.arg).ok()?)?;
    Some((b.get(h.len..end)?, end))
}

/// The length of one item of the accepted shapes (`None` for any other),
/// with `canonical` also requiring Mercurial's encoding of it (shortest
/// heads, map keys in sorted order).
fn check(b: &[u8], depth: usize, canonical: bool) -> Option<usize> {
    if depth > MAX_DEPTH {
        return None;
    }
    let h = head(b)?;
    if canonical && !minimal(h) {
        return None;
    }
    match h.major {
        0 | 1 => Some(h.len),
        2 => bytes_item(b, h).map(|(_, n)| n),
        4 => {
            if h.arg > MAX_ITEMS {
                return None;
            }
            let mut pos = h.len;
            for _ in 0..h.arg {
                pos += check(b.get(pos..)?, depth + 1, canonical)?;
            }
            Some(pos)
        }
        5 => {
            let n = usize::try_from(h.arg).ok().filter(|n| *n <= MAX_ENTRIES)?;
            let mut keys: [&[u8]; MAX_ENTRIES] = [&[]; MAX_ENTRIES];
            let mut pos = h.len;
            for i in 0..n {
                let rest = b.get(pos..)?;
                let kh = head(rest)?;
                if kh.major != 2 || (canonical && !minimal(kh)) {
                    return None;
                }
                let (k, used) = bytes_item(rest, kh)?;
                if keys[..i].contains(&k) {
                    return None;
                }
                if canonical && i > 0 && keys[i - 1] > k {
                    return None;
                }
                keys[i] = k;
                pos += used;
                pos += check(b.get(pos..)?, depth + 1, canonical)?;
            }
            Some(pos)
        }
        7 => matches!(h.sub, 20..=22).then_some(1),
        _ => None,
    }
}

/// Whether `payload` is exactly one value of the shapes this module
/// renders, within a memory bound of `limit` (the bound the `Value` path
/// applies: below it, its own fast path answers). `canonical`: also
/// encoded exactly as Mercurial encodes the value.
pub fn accepts(payload: &[u8], limit: u64, canonical: bool) -> bool {
    within(payload, limit) && check(payload, 0, canonical) == Some(payload.len())
}

/// Not empty and small enough that the `Value` path's fast path would
/// answer under `limit` (and so no bound is hit).
fn within(payload: &[u8], limit: u64) -> bool {
    !payload.is_empty() && (payload.len() as u64).saturating_mul(ITEM_COST + 1) <= limit
}

/// The Python literal of a payload that is one value of the accepted
/// shapes (see [`accepts`]) appended to `out`: `{b'name': b'heads'}`.
/// `false` (and `out` as it was) for any other payload.
pub fn literal_into(out: &mut Vec<u8>, payload: &[u8], limit: u64) -> bool {
    literal_checked(out, payload, limit, false)
}

/// [`literal_into`] only for a payload that is also exactly what
/// Mercurial's encoder writes for its value (`cbor:` human strings must
/// encode back to the same bytes).
pub fn canonical_literal_into(out: &mut Vec<u8>, payload: &[u8], limit: u64) -> bool {
    literal_checked(out, payload, limit, true)
}

fn literal_checked(out: &mut Vec<u8>, payload: &[u8], limit: u64, canonical: bool) -> bool {
    if !within(payload, limit) {
        return false;
    }
    // Checked as it is written (one walk): a payload found unusual half
    // way is taken back.
    let mark = out.len();
    if write_literal(out, payload, 0, canonical) != Some(payload.len()) {
        out.truncate(mark);
        return false;
    }
    true
}

/// What a walk of a payload of one or more values (a CBOR sequence, as
/// `decodeall` reads it) made of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Walked {
    /// Every value was of the accepted shapes: its text is written.
    Written,
    /// A shape left to the `Value` path (nothing written).
    Other,
    /// Not CBOR Mercurial's decoder reads (nothing written): a top-level
    /// item starts with a byte `decodeitem` or the decoder's idle state
    /// refuses whatever follows (see [`refused_at_top`]), and every value
    /// before it is of the accepted shapes, so `decodeall` raises there.
    /// Within the memory bound ([`within`]), so it is not the bound that
    /// stops the `Value` path either: the caller needs no second walk to
    /// learn that the payload does not decode.
    NotCbor,
}

/// Whether Mercurial's decoder raises at an item starting with `initial`
/// when it stands where a top-level value starts (the decoder idle,
/// nothing open): a text string (`string major type not supported`), a
/// simple value other than False, True and None (`special type N not
/// allowed`; floats included: `decodeitem` reads no further), or a break
/// (`unhandled special state`).
fn refused_at_top(initial: u8) -> bool {
    match initial >> 5 {
        3 => true,
        7 => !matches!(initial & 0x1f, 20..=22),
        _ => false,
    }
}

/// Walk a sequence of values, writing each with `write` and `sep`
/// between them; on any failure `out` is left as it was.
fn walk_sequence(
    out: &mut Vec<u8>,
    payload: &[u8],
    limit: u64,
    sep: &[u8],
    write: impl Fn(&mut Vec<u8>, &[u8]) -> Option<usize>,
) -> Walked {
    if !within(payload, limit) {
        return Walked::Other;
    }
    let mark = out.len();
    let mut pos = 0;
    while pos < payload.len() {
        if pos > 0 {
            out.extend_from_slice(sep);
        }
        match write(out, &payload[pos..]) {
            Some(n) => pos += n,
            None => {
                out.truncate(mark);
                return if refused_at_top(payload[pos]) {
                    Walked::NotCbor
                } else {
                    Walked::Other
                };
            }
        }
    }
    Walked::Written
}

/// The Python literals of a payload of one or more values of the accepted
/// shapes (a CBOR sequence, as `decodeall` reads it) appended to `out`,
/// `sep` between them (`1 ; 2`). Nothing written for any other payload,
/// and [`Walked`] says whether it is CBOR at all.
pub fn literals_into(out: &mut Vec<u8>, payload: &[u8], limit: u64, sep: &[u8]) -> Walked {
    walk_sequence(out, payload, limit, sep, |out, b| {
        write_literal(out, b, 0, false)
    })
}

/// The JSON of each value of a payload of one or more values of the
/// accepted shapes, comma-separated (the inside of `"cbor":[…]`), appended
/// to `out`. Nothing written for any other payload, and [`Walked`] says
/// whether it is CBOR at all.
pub fn jsons_into(out: &mut Vec<u8>, payload: &[u8], limit: u64) -> Walked {
    walk_sequence(out, payload, limit, b",", |out, b| write_json(out, b, 0))
}

/// Whether the key `k` (the `i`th of its map, after `keys[..i]`) repeats
/// one before it; `sorted` says whether the keys so far were in
/// increasing order (then a larger key cannot repeat one), and is updated.
#[inline]
fn repeats(keys: &[&[u8]], k: &[u8], sorted: &mut bool) -> bool {
    if let Some(last) = keys.last() {
        if *sorted && *last < k {
            return false;
        }
        *sorted = false;
        return keys.contains(&k);
    }
    false
}

/// Write one item of an accepted shape (checking it, `canonical` as in
/// [`check`]); its length, `None` for any other.
fn write_literal(out: &mut Vec<u8>, b: &[u8], depth: usize, canonical: bool) -> Option<usize> {
    if depth > MAX_DEPTH {
        return None;
    }
    let h = head(b)?;
    if canonical && !minimal(h) {
        return None;
    }
    match h.major {
        0 => {
            out.extend_from_slice(itoa::Buffer::new().format(h.arg).as_bytes());
            Some(h.len)
        }
        1 => {
            neg_int(out, h.arg);
            Some(h.len)
        }
        2 => {
            let (s, n) = bytes_item(b, h)?;
            out.extend_from_slice(b"b'");
            BYTES_LITERAL.write(out, s);
            out.push(b'\'');
            Some(n)
        }
        4 => {
            if h.arg > MAX_ITEMS {
                return None;
            }
            out.push(b'[');
            let mut pos = h.len;
            for i in 0..h.arg {
                if i > 0 {
                    out.extend_from_slice(b", ");
                }
                pos += write_literal(out, b.get(pos..)?, depth + 1, canonical)?;
            }
            out.push(b']');
            Some(pos)
        }
        5 => {
            // Keys in strictly ascending order (Mercurial's) cannot repeat:
            // only the key before is needed. Any other order is walked
            // again from the map's start, every key kept.
            let n = usize::try_from(h.arg).ok().filter(|n| *n <= MAX_ENTRIES)?;
            let mark = out.len();
            out.push(b'{');
            let mut pos = h.len;
            let mut prev: Option<&[u8]> = None;
            for i in 0..n {
                if i > 0 {
                    out.extend_from_slice(b", ");
                }
                let rest = b.get(pos..)?;
                let kh = head(rest)?;
                if kh.major != 2 || (canonical && !minimal(kh)) {
                    return None;
                }
                let (k, used) = bytes_item(rest, kh)?;
                if prev.is_some_and(|p| p >= k) {
                    if canonical {
                        return None;
                    }
                    out.truncate(mark);
                    return write_literal_map_unsorted(out, b, h, depth);
                }
                prev = Some(k);
                out.extend_from_slice(b"b'");
                BYTES_LITERAL.write(out, k);
                out.extend_from_slice(b"': ");
                pos += used;
                pos += write_literal(out, b.get(pos..)?, depth + 1, canonical)?;
            }
            out.push(b'}');
            Some(pos)
        }
        7 => {
            out.extend_from_slice(match h.sub {
                20 => b"False",
                21 => b"True",
                22 => b"None",
                _ => return None,
            });
            Some(1)
        }
        _ => None,
    }
}

/// A map of [`write_literal`] (not canonical) whose keys are not in
/// strictly ascending order: every key kept, a repeated one refused
/// (Python's dict rules are the `Value` path's).
fn write_literal_map_unsorted(out: &mut Vec<u8>, b: &[u8], h: Head, depth: usize) -> Option<usize> {
    let n = usize::try_from(h.arg).ok().filter(|n| *n <= MAX_ENTRIES)?;
    let mut keys: [&[u8]; MAX_ENTRIES] = [&[]; MAX_ENTRIES];
    let mut sorted = true;
    out.push(b'{');
    let mut pos = h.len;
    for i in 0..n {
        if i > 0 {
            out.extend_from_slice(b", ");
        }
        let rest = b.get(pos..)?;
        let kh = head(rest)?;
        if kh.major != 2 {
            return None;
        }
        let (k, used) = bytes_item(rest, kh)?;
        if repeats(&keys[..i], k, &mut sorted) {
            return None;
        }
        keys[i] = k;
        out.extend_from_slice(b"b'");
        BYTES_LITERAL.write(out, k);
        out.extend_from_slice(b"': ");
        pos += used;
        pos += write_literal(out, b.get(pos..)?, depth + 1, false)?;
    }
    out.push(b'}');
    Some(pos)
}

/// The JSON of a payload that is one value of the accepted shapes (see
/// [`accepts`]) in `render::value::value_json`'s schema
/// appended to `out`. `false` (and `out` as it was) for any other payload.
pub fn json_into(out: &mut Vec<u8>, payload: &[u8], limit: u64) -> bool {
    if !within(payload, limit) {
        return false;
    }
    let mark = out.len();
    if write_json(out, payload, 0) != Some(payload.len()) {
        out.truncate(mark);
        return false;
    }
    true
}

/// CBOR's negative int `-1 - arg` in decimal: as an `i64` when it is one
/// (itoa's 128-bit path costs three times as much).
fn neg_int(out: &mut Vec<u8>, arg: u64) {
    // Small ones (one-byte heads) are most: written digit by digit.
    if arg < 99 {
        let n = arg as u8 + 1;
        if n < 10 {
            out.extend_from_slice(&[b'-', b'0' + n]);
        } else {
            out.extend_from_slice(&[b'-', b'0' + n / 10, b'0' + n % 10]);
        }
        return;
    }
    let mut buf = itoa::Buffer::new();
    let text = match i64::try_from(arg) {
        Ok(a) => buf.format(-a - 1),
        Err(_) => buf.format(-(arg as i128) - 1),
    };
    out.extend_from_slice(text.as_bytes());
}

/// Whether bytes are printable ASCII without `"` or `\\`: UTF-8, and a
/// JSON string's text as they are (most keys and names).
#[inline]
fn plain_json(b: &[u8]) -> bool {
    b.iter()
        .all(|&c| (0x20..0x7f).contains(&c) && c != b'"' && c != b'\\')
}

/// A JSON string of UTF-8 text, escaped as serde_json escapes it.
pub fn json_string(out: &mut Vec<u8>, b: &[u8]) {
    // Most strings (keys, names) need no escape: copied in one piece.
    if b.iter().all(|&c| c >= 0x20 && c != b'"' && c != b'\\') {
        out.reserve(b.len() + 2);
        out.push(b'"');
        out.extend_from_slice(b);
        out.push(b'"');
        return;
    }
    // Writing to a Vec cannot fail.
    let _ = json_string_to(out, b);
}

/// [`json_string`] to any writer (the one place JSON strings are escaped
/// by hand: the renderers' value writer calls it too).
pub fn json_string_to<W: std::io::Write + ?Sized>(w: &mut W, b: &[u8]) -> std::io::Result<()> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    w.write_all(b"\"")?;
    let mut start = 0;
    for (i, &c) in b.iter().enumerate() {
        let esc: &[u8] = match c {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => &[],
            _ => continue,
        };
        w.write_all(&b[start..i])?;
        if esc.is_empty() {
            w.write_all(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(c >> 4) as usize],
                HEX[(c & 15) as usize],
            ])?;
        } else {
            w.write_all(esc)?;
        }
        start = i + 1;
    }
    w.write_all(&b[start..])?;
    w.write_all(b"\"")
}

/// Bytes as `value_json` shows them: a string when UTF-8, else
/// `{"hex": …}`.
fn json_bytes(out: &mut Vec<u8>, s: &[u8]) {
    if plain_json(s) {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s);
        out.push(b'"');
    } else if std::str::from_utf8(s).is_ok() {
        json_string(out, s);
    } else {
        out.extend_from_slice(b"{\"hex\":\"");
        hex_into(out, s);
        out.extend_from_slice(b"\"}");
    }
}

/// Write one item of an accepted shape as JSON (checking it); its length,
/// `None` for any other.
fn write_json(out: &mut Vec<u8>, b: &[u8], depth: usize) -> Option<usize> {
    if depth > MAX_DEPTH {
        return None;
    }
    let h = head(b)?;
    match h.major {
        0 => {
            // serde_json writes u64 numbers as they are.
            out.extend_from_slice(itoa::Buffer::new().format(h.arg).as_bytes());
            Some(h.len)
        }
        1 => {
            // Below i64 (and not a u64): value_json makes it a string.
            if h.arg > i64::MAX as u64 {
                out.push(b'"');
                neg_int(out, h.arg);
                out.push(b'"');
            } else {
                neg_int(out, h.arg);
            }
            Some(h.len)
        }
        2 => {
            let (s, n) = bytes_item(b, h)?;
            json_bytes(out, s);
            Some(n)
        }
        4 => {
            if h.arg > MAX_ITEMS {
                return None;
            }
            out.push(b'[');
            let mut pos = h.len;
            for i in 0..h.arg {
                if i > 0 {
                    out.push(b',');
                }
                pos += write_json(out, b.get(pos..)?, depth + 1)?;
            }
            out.push(b']');
            Some(pos)
        }
        5 => write_json_map(out, b, h, depth),
        7 => {
            out.extend_from_slice(match h.sub {
                20 => b"false",
                21 => b"true",
                22 => b"null",
                _ => return None,
            });
            Some(1)
        }
        _ => None,
    }
}

/// A map as `value_json` shows it: an object sorted by key when every key
/// is UTF-8, else `{"map": [[k, v], …]}` in order. Mercurial writes keys
/// sorted, so the object is written as the entries come, knowing only the
/// key before; a map whose keys are not UTF-8 and strictly ascending is
/// walked again from its start by [`write_json_map_unordered`].
fn write_json_map(out: &mut Vec<u8>, b: &[u8], h: Head, depth: usize) -> Option<usize> {
    let n = usize::try_from(h.arg).ok().filter(|n| *n <= MAX_ENTRIES)?;
    let mark = out.len();
    out.push(b'{');
    let mut pos = h.len;
    let mut prev: Option<&[u8]> = None;
    for i in 0..n {
        let rest = b.get(pos..)?;
        let kh = head(rest)?;
        if kh.major != 2 {
            return None;
        }
        let (k, used) = bytes_item(rest, kh)?;
        if prev.is_some_and(|p| p >= k) || !(plain_json(k) || std::str::from_utf8(k).is_ok()) {
            out.truncate(mark);
            return write_json_map_unordered(out, b, h, depth);
        }
        prev = Some(k);
        pos += used;
        if i > 0 {
            out.push(b',');
        }
        json_string(out, k);
        out.push(b':');
        pos += write_json(out, b.get(pos..)?, depth + 1)?;
    }
    out.push(b'}');
    Some(pos)
}

/// [`write_json_map`] for any order of keys: every key and where its
/// value starts kept (a repeated key, or keys to sort, need them all).
fn write_json_map_unordered(out: &mut Vec<u8>, b: &[u8], h: Head, depth: usize) -> Option<usize> {
    let n = usize::try_from(h.arg).ok().filter(|n| *n <= MAX_ENTRIES)?;
    // Keys and where their values start.
    let mut entries: [(&[u8], usize); MAX_ENTRIES] = [(&[], 0); MAX_ENTRIES];
    let mark = out.len();
    out.push(b'{');
    let mut pos = h.len;
    let mut in_order = true;
    for i in 0..n {
        let rest = b.get(pos..)?;
        let kh = head(rest)?;
        if kh.major != 2 {
            return None;
        }
        let (k, used) = bytes_item(rest, kh)?;
        if in_order && (i > 0 && entries[i - 1].0 >= k || std::str::from_utf8(k).is_err()) {
            in_order = false;
        }
        pos += used;
        entries[i] = (k, pos);
        if in_order {
            if i > 0 {
                out.push(b',');
            }
            json_string(out, k);
            out.push(b':');
            pos += write_json(out, b.get(pos..)?, depth + 1)?;
        } else {
            pos += check(b.get(pos..)?, depth + 1, false)?;
        }
    }
    if in_order {
        out.push(b'}');
        return Some(pos);
    }
    out.truncate(mark);
    let entries = &mut entries[..n];
    // Repeated keys follow Python's dict rules: the Value path's.
    for i in 1..n {
        if entries[..i].iter().any(|e| e.0 == entries[i].0) {
            return None;
        }
    }
    if entries.iter().all(|e| std::str::from_utf8(e.0).is_ok()) {
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        out.push(b'{');
        for (i, (k, at)) in entries.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            json_string(out, k);
            out.push(b':');
            write_json(out, b.get(*at..)?, depth + 1)?;
        }
        out.push(b'}');
    } else {
        out.extend_from_slice(b"{\"map\":[");
        for (i, (k, at)) in entries.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.push(b'[');
            json_bytes(out, k);
            out.push(b',');
            write_json(out, b.get(*at..)?, depth + 1)?;
            out.push(b']');
        }
        out.extend_from_slice(b"]}");
    }
    Some(pos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::python::cbor::{decode_all_limited, encode};
    use crate::python::value::Value;
    use crate::render::value::{value_text_into, write_value_json};

    const LIMIT: u64 = 64 << 20;

    /// What the `Value` path gives for a payload: (literal, JSON), or
    /// `None` when it does not decode to exactly one value.
    fn by_value(b: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
        let vals = decode_all_limited(b, LIMIT).ok()?;
        let [v] = &vals[..] else { return None };
        let mut text = Vec::new();
        value_text_into(&mut text, v);
        let mut json = Vec::new();
        write_value_json(&mut json, v).unwrap();
        Some((text, json))
    }

    fn direct(b: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
        let mut text = b"> ".to_vec();
        let mut json = b"> ".to_vec();
        let t = literal_into(&mut text, b, LIMIT);
        let j = json_into(&mut json, b, LIMIT);
        assert_eq!(t, j, "{b:02x?}");
        if !t {
            assert_eq!((&text[..], &json[..]), (&b"> "[..], &b"> "[..]));
            return None;
        }
        Some((text[2..].to_vec(), json[2..].to_vec()))
    }

    fn check_same(b: &[u8]) -> bool {
        match direct(b) {
            Some(d) => {
                let v = by_value(b).unwrap_or_else(|| panic!("direct but no value: {b:02x?}"));
                assert_eq!(
                    (String::from_utf8_lossy(&d.0), String::from_utf8_lossy(&d.1)),
                    (String::from_utf8_lossy(&v.0), String::from_utf8_lossy(&v.1)),
                    "{b:02x?}"
                );
                if accepts(b, LIMIT, true) {
                    let [v] = &decode_all_limited(b, LIMIT).unwrap()[..] else {
                        unreachable!()
                    };
                    assert_eq!(encode(v).unwrap(), b, "canonical: {b:02x?}");
                    assert_eq!(
                        crate::python::cbor::encode_in(crate::python::Py::Two, v).unwrap(),
                        b,
                        "canonical (Python 2): {b:02x?}"
                    );
                    let mut out = Vec::new();
                    assert!(canonical_literal_into(&mut out, b, LIMIT));
                    assert_eq!(out, d.0);
                }
                true
            }
            None => false,
        }
    }

    #[test]
    fn common_payloads_render_as_their_values() {
        let values = [
            Value::dict([("name", Value::bytes("heads"))]),
            Value::dict([
                ("name", Value::bytes("known")),
                (
                    "args",
                    Value::dict([(
                        "nodes",
                        Value::List(vec![Value::Bytes((0..20).map(|i| i * 13).collect())]),
                    )]),
                ),
            ]),
            Value::List(vec![
                Value::Int(0),
                Value::Int(23),
                Value::Int(24),
                Value::Int(-1),
                Value::Int(-25),
                Value::Int(u64::MAX as i128),
                Value::Int(-(u64::MAX as i128) - 1),
                Value::Int(i64::MIN as i128),
                Value::Int(i64::MIN as i128 - 1),
                Value::Bool(true),
                Value::Bool(false),
                Value::None,
                Value::bytes("quote' \" back\\ nl\n tab\t é \x00\x7f"),
                Value::Bytes(vec![0xff, 0x80]),
                Value::Bytes(vec![]),
                Value::List(vec![]),
                Value::Dict(vec![]),
            ]),
            Value::Dict(vec![
                (Value::Bytes(vec![0xff]), Value::Int(1)),
                (Value::bytes("a"), Value::Int(2)),
            ]),
            Value::dict([
                ("z", Value::Int(1)),
                ("a\"", Value::Int(2)),
                ("m", Value::None),
            ]),
        ];
        for v in values {
            let b = encode(&v).unwrap();
            assert!(check_same(&b), "not rendered directly: {v:?}");
            assert!(accepts(&b, LIMIT, true), "{v:?}");
        }
    }

    #[test]
    fn unusual_shapes_fall_back() {
        for b in [
            &b""[..],
            b"\xa2\x41a\x01\x41a\x02", // a repeated key
            b"\xa1\x01\x02",           // an int key
            b"\x5f\x41a\xff",          // an indefinite byte string
            b"\x9f\x01\xff",           // an indefinite array
            b"\xd9\x01\x02\x81\x01",   // a set
            b"\x61a",                  // a text string
            b"\x01\x02",               // two values
            b"\x82\x01",               // cut short
            b"\xf7",                   // undefined
            b"\xf9\x00\x00",           // a float
        ] {
            assert!(direct(b).is_none(), "{b:02x?}");
        }
        // 17 levels: the decoder's fast path stops at 16 too.
        let mut deep = vec![0x81; 18];
        deep.push(0x01);
        assert!(direct(&deep).is_none());
        // Over the memory bound: the Value path says so.
        let mut out = Vec::new();
        assert!(!literal_into(&mut out, b"\x41a", 2));
        // Not canonical: a long head for a small number, keys out of order.
        assert!(check_same(b"\x18\x01") && !accepts(b"\x18\x01", LIMIT, true));
        let unsorted = b"\xa2\x41b\x01\x41a\x02";
        assert!(check_same(unsorted) && !accepts(unsorted, LIMIT, true));
    }

    /// Differential test: on random CBOR (biased towards the accepted
    /// shapes), wherever the direct walk answers it gives the bytes the
    /// `Value` path gives, in both renderings.
    #[test]
    fn direct_rendering_agrees_with_values_on_random_cbor() {
        let mut next = crate::python::testing::xorshift(0x2545_f491_4f6c_dd1d);
        let alphabet = [
            0xa1u8, 0xa2, 0xa3, 0x81, 0x82, 0x83, 0x41, 0x42, 0x43, 0x00, 0x01, 0x17, 0x18, 0x19,
            0x1b, 0x20, 0x38, 0x3b, 0xf4, 0xf5, 0xf6, 0x40, 0x80, 0xa0, 0x61, 0xd9, 0x5f, 0x9f,
            0xff, b'a', b'b', b'"', b'\\', 0xc3, 0xa9, 0x0a,
        ];
        let (mut answered, mut canonical) = (0, 0);
        for _ in 0..300_000 {
            let len = 1 + (next() % 24) as usize;
            let b: Vec<u8> = (0..len)
                .map(|_| {
                    let x = next();
                    if x.is_multiple_of(5) {
                        x as u8
                    } else {
                        alphabet[(x >> 8) as usize % alphabet.len()]
                    }
                })
                .collect();
            if check_same(&b) {
                answered += 1;
                canonical += accepts(&b, LIMIT, true) as usize;
            }
        }
        assert!(
            answered > 5_000 && canonical > 1_000,
            "{answered} {canonical}"
        );
    }

    /// CBOR sequences (what `decodeall` reads: several values back to
    /// back) render as the list of their values does.
    #[test]
    fn sequences_agree_with_values() {
        let mut next = crate::python::testing::xorshift(0x1234_5678_9abc_def1);
        let alphabet = [
            0xa1u8, 0x81, 0x82, 0x41, 0x42, 0x00, 0x01, 0x18, 0x20, 0x38, 0xf4, 0xf5, 0xf6, 0x40,
            0x80, 0xa0, 0x5f, 0xff, b'a', 0xc3,
        ];
        let (mut answered, mut not_cbor) = (0, 0);
        for _ in 0..200_000 {
            let len = 1 + (next() % 10) as usize;
            // Now and then any byte (floats, tags, undefined simple values).
            let b: Vec<u8> = (0..len)
                .map(|_| {
                    let x = next();
                    if x.is_multiple_of(7) {
                        (x >> 32) as u8
                    } else {
                        alphabet[x as usize % alphabet.len()]
                    }
                })
                .collect();
            let mut text = b"> ".to_vec();
            let mut json = b"> ".to_vec();
            let t = literals_into(&mut text, &b, LIMIT, b" ; ");
            let j = jsons_into(&mut json, &b, LIMIT);
            assert_eq!(t, j, "{b:02x?}");
            if t != Walked::Written {
                assert_eq!((&text[..], &json[..]), (&b"> "[..], &b"> "[..]));
                if t == Walked::NotCbor {
                    not_cbor += 1;
                    let e = decode_all_limited(&b, LIMIT)
                        .expect_err(&format!("{b:02x?} said not CBOR"));
                    assert!(!e.is_over_limit(), "{b:02x?}");
                }
                continue;
            }
            answered += 1;
            let vals = decode_all_limited(&b, LIMIT).unwrap_or_else(|e| panic!("{b:02x?}: {e}"));
            let mut want_text = b"> ".to_vec();
            let mut want_json = b"> ".to_vec();
            for (i, v) in vals.iter().enumerate() {
                if i > 0 {
                    want_text.extend_from_slice(b" ; ");
                    want_json.push(b',');
                }
                value_text_into(&mut want_text, v);
                write_value_json(&mut want_json, v).unwrap();
            }
            assert_eq!(
                (
                    String::from_utf8_lossy(&text),
                    String::from_utf8_lossy(&json)
                ),
                (
                    String::from_utf8_lossy(&want_text),
                    String::from_utf8_lossy(&want_json)
                ),
                "{b:02x?}"
            );
        }
        assert!(
            answered > 20_000 && not_cbor > 20_000,
            "{answered} {not_cbor}"
        );
    }

    /// Random values (maps with text and binary keys, nested lists, ints of
    /// every head size) encoded by Mercurial's encoder: always answered,
    /// always canonical, always the `Value` path's bytes.
    #[test]
    fn encoded_values_are_rendered_directly() {
        let mut next = crate::python::testing::xorshift(0x9e37_79b9_7f4a_7c15);
        fn gen(next: &mut dyn FnMut() -> u64, depth: usize) -> Value {
            match next() % if depth > 3 { 5 } else { 7 } {
                0 => Value::Int((next() >> (next() % 64)) as i128),
                1 => Value::Int(-((next() >> (next() % 64)) as i128) - 1),
                2 => Value::Bytes((0..next() % 30).map(|_| next() as u8).collect()),
                3 => Value::bytes(["", "a", "é", "x\"y", "\n"][next() as usize % 5]),
                4 => [Value::None, Value::Bool(true), Value::Bool(false)][next() as usize % 3]
                    .clone(),
                5 => Value::List((0..next() % 5).map(|_| gen(next, depth + 1)).collect()),
                _ => {
                    let mut d = Vec::new();
                    for _ in 0..next() % 6 {
                        let k = if next().is_multiple_of(3) {
                            Value::Bytes(vec![0xff, next() as u8])
                        } else {
                            Value::Bytes(vec![b'a' + (next() % 8) as u8])
                        };
                        crate::python::value::dict_insert(&mut d, k, gen(next, depth + 1));
                    }
                    Value::Dict(d)
                }
            }
        }
        for _ in 0..20_000 {
            let v = gen(&mut next, 0);
            let b = encode(&v).unwrap();
            assert!(check_same(&b), "{v:?}");
            assert!(accepts(&b, LIMIT, true), "{v:?}");
        }
    }
}
