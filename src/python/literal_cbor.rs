//! Common `cbor:` literals straight to their CBOR bytes (Python 3 rules,
//! `cborutil`'s encoding), without building a [`Value`] or allocating
//! beyond the output.
//!
//! `encode` of a million `cbor:` lines spent most of its time in the nom
//! parser building values (strings, dicts with their key index) that were
//! encoded and dropped at once. This reads only the plain subset that such
//! lines are made of: `b'…'`/`b"…"` with `\xNN`, `\\`, `\'`, `\"`, `\n`,
//! `\r`, `\t` escapes, decimal ints of up to 18 digits with an optional
//! `-`, `None`, `True`, `False`, lists, and dicts of at most 64 distinct
//! byte-string keys, spaces between tokens, at most 32 levels deep. For
//! anything else — another escape, a repeated key, a tuple, a set, a
//! comment, a trailing comma, an error — it gives `None`, and the caller
//! runs the full parser ([`literal`](super::literal)), which also words
//! every error. So the bytes are those of parsing then encoding
//! (`cbor::encode`), checked by a differential test.
//!
//! [`Value`]: super::value::Value

use super::cbor::{encode_length, MAJOR_ARRAY, MAJOR_BYTES, MAJOR_MAP, MAJOR_NEGINT, MAJOR_UINT};

const MAX_DEPTH: usize = 32;
const MAX_ENTRIES: usize = 64;

/// The CBOR encoding of a literal of the plain subset (see the module
/// docs) appended to `out`, or `None` (and `out` as it was).
pub fn literal_to_cbor(text: &[u8], out: &mut Vec<u8>) -> Option<()> {
    let mark = out.len();
    // The encoding is never longer than the text (plus a head).
    out.reserve(text.len() + 9);
    let mut p = Parser {
        b: text,
        pos: 0,
        entries: ENTRIES.take(),
    };
    p.entries.clear();
    let ok = (|| {
        p.spaces();
        p.value(out, 0)?;
        p.spaces();
        (p.pos == text.len()).then_some(())
    })();
    if ok.is_none() {
        out.truncate(mark);
    }
    ENTRIES.set(p.entries);
    ok
}

thread_local! {
    /// The dict entry stack, kept between literals (a few KiB at most:
    /// `MAX_ENTRIES` entries a dict, `MAX_DEPTH` dicts) so that a literal
    /// neither zeroes an array nor allocates for it.
    static ENTRIES: std::cell::Cell<Vec<Entry>> = const { std::cell::Cell::new(Vec::new()) };
}

/// The value of a hex digit, 0xff for other bytes.
static HEX_VALUE: [u8; 256] = {
    let mut t = [0xffu8; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = match c as u8 {
            d @ b'0'..=b'9' => d - b'0',
            d @ b'a'..=b'f' => d - b'a' + 10,
            d @ b'A'..=b'F' => d - b'A' + 10,
            _ => 0xff,
        };
        c += 1;
    }
    t
};

struct Parser<'a> {
    b: &'a [u8],
    pos: usize,
    /// The entries of the dicts being read, innermost last (a stack: a
    /// dict's value is read whole before its next entry). At most
    /// `MAX_ENTRIES` a dict and `MAX_DEPTH` dicts.
    entries: Vec<Entry>,
}

/// Where a dict entry's key content and the whole entry sit in `out`.
#[derive(Clone, Copy, Default)]
struct Entry {
    key: (usize, usize),
    start: usize,
    end: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn spaces(&mut self) {
        while self.peek() == Some(b' ') {
            self.pos += 1;
        }
    }

    /// Whether the next byte ends a token (`None`, a number, a closing
    /// quote) the way the full parser would read it.
    fn at_delimiter(&self) -> bool {
        matches!(self.peek(), None | Some(b' ' | b',' | b']' | b'}' | b':'))
    }

    fn value(&mut self, out: &mut Vec<u8>, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.peek()? {
            b'b' => self.bytes(out).map(|_| ()),
            b'[' => self.list(out, depth),
            b'{' => self.dict(out, depth),
            b'-' | b'0'..=b'9' => self.int(out),
            b'N' => self.word(b"None", 0xf6, out),
            b'T' => self.word(b"True", 0xf5, out),
            b'F' => self.word(b"False", 0xf4, out),
            _ => None,
        }
    }

    fn word(&mut self, w: &[u8], byte: u8, out: &mut Vec<u8>) -> Option<()> {
        if !self.b[self.pos..].starts_with(w) {
            return None;
        }
        self.pos += w.len();
        if !self.at_delimiter() {
            return None;
        }
        out.push(byte);
        Some(())
    }

    fn int(&mut self, out: &mut Vec<u8>) -> Option<()> {
        let neg = self.peek() == Some(b'-');
        if neg {
            self.pos += 1;
        }
        let start = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        let digits = &self.b[start..self.pos];
        // `0`, or no leading zero; short enough for a u64; then a
        // delimiter (not `_`, `.`, `e`, `j`, `x`…).
        if digits.is_empty()
            || digits.len() > 18
            || (digits[0] == b'0' && digits.len() > 1)
            || !self.at_delimiter()
        {
            return None;
        }
        let n = digits
            .iter()
            .fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
        if neg && n > 0 {
            encode_length(MAJOR_NEGINT, n - 1, out);
        } else {
            encode_length(MAJOR_UINT, n, out);
        }
        Some(())
    }

    /// A `b'…'` or `b"…"` literal: its content's range in `out` (after
    /// the head written for it).
    fn bytes(&mut self, out: &mut Vec<u8>) -> Option<(usize, usize)> {
        let q = *self.b.get(self.pos + 1)?;
        if self.peek() != Some(b'b') || !(q == b'\'' || q == b'"') {
            return None;
        }
        self.pos += 2;
        let head = out.len();
        // The content is never longer than what is left of the text: room
        // for it and the one-byte head, reserved once (amortised: a later
        // literal's bound is inside this one's), so the pushes below never
        // reallocate. Head first, for the common short string (fixed
        // afterwards when the length needs more head bytes).
        out.reserve(self.b.len() - self.pos + 1);
        out.push(0);
        let Some(i) = self.bytes_content(out, q) else {
            out.truncate(head);
            return None;
        };
        let w = out.len() - head;
        self.pos = i + 1;
        // No adjacent literal to join (`b'a' b'b'`): the full parser's.
        if !self.at_delimiter() {
            out.truncate(head);
            return None;
        }
        let start = head + 1;
        let len = w - 1;
        if len < 24 {
            out[head] = MAJOR_BYTES << 5 | len as u8;
            return Some((start, out.len()));
        }
        // Longer strings: make room for the longer head.
        let (h, hl) = head_bytes(MAJOR_BYTES, len as u64);
        out[head] = h[0];
        out.splice(start..start, h[1..hl].iter().copied());
        Some((start + hl - 1, out.len()))
    }

    /// The content of a byte-string literal from `self.pos` up to its
    /// closing quote `q`, appended to `out`; the quote's position, or
    /// `None` when the fast path cannot take it.
    fn bytes_content(&self, out: &mut Vec<u8>, q: u8) -> Option<usize> {
        let b = self.b;
        let mut i = self.pos;
        loop {
            let rest = &b[i..];
            let byte = match *rest {
                // Node ids are 20 of these in a row: decoded in a loop of
                // their own, a table look-up a digit.
                [b'\\', b'x', _, _, ..] => {
                    // Decoded into a block on the stack and copied out a
                    // block at a time (a push a byte stored the length
                    // every time); a digit that is not hex anywhere in
                    // the run refuses the literal.
                    let mut block = [0u8; 32];
                    let mut bad = 0u8;
                    loop {
                        let mut k = 0;
                        for (d, c) in block.iter_mut().zip(b[i..].chunks_exact(4)) {
                            if c[..2] != *b"\\x" {
                                break;
                            }
                            let (h, l) = (HEX_VALUE[c[2] as usize], HEX_VALUE[c[3] as usize]);
                            bad |= h | l;
                            *d = h << 4 | (l & 15);
                            k += 1;
                        }
                        out.extend_from_slice(&block[..k]);
                        i += 4 * k;
                        if k < block.len() {
                            break;
                        }
                    }
                    if bad > 15 {
                        return None;
                    }
                    continue;
                }
                [b'\\', e, ..] => {
                    i += 2;
                    match e {
                        b'\\' | b'\'' | b'"' => e,
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        _ => return None,
                    }
                }
                [c, ..] if c == q => return Some(i),
                // A lone backslash at the end: not a literal.
                [b'\\'] | [] => return None,
                [_, ..] => {
                    // A run of plain characters up to the next backslash
                    // or quote, copied in one go (a byte loop: the runs
                    // are mostly short keys and names; eight bytes at a
                    // time was no faster); any other byte refuses the
                    // literal.
                    let n = rest
                        .iter()
                        .position(|&c| c == q || c == b'\\' || !(0x20..0x7f).contains(&c))
                        .unwrap_or(rest.len());
                    if n < rest.len() && rest[n] != q && rest[n] != b'\\' {
                        return None;
                    }
                    out.extend_from_slice(&rest[..n]);
                    i += n;
                    continue;
                }
            };
            out.push(byte);
        }
    }

    /// After an item of a list or dict: `,` and the next item (false) or
    /// the closing `close` (true); `None` for anything else, and for a
    /// trailing comma (the full parser's).
    fn separator(&mut self, close: u8) -> Option<bool> {
        self.spaces();
        match self.peek()? {
            b',' => {
                self.pos += 1;
                self.spaces();
                if self.peek() == Some(close) {
                    return None;
                }
                Some(false)
            }
            c if c == close => {
                self.pos += 1;
                Some(true)
            }
            _ => None,
        }
    }

    /// `[a, b, …]`: the items are written first, the head put in front
    /// once their number is known.
    fn list(&mut self, out: &mut Vec<u8>, depth: usize) -> Option<()> {
        self.pos += 1;
        let start = out.len();
        // The head's place, filled in once the items are counted.
        out.push(0);
        let mut n = 0u64;
        self.spaces();
        if self.peek() == Some(b']') {
            self.pos += 1;
        } else {
            loop {
                self.value(out, depth + 1)?;
                n += 1;
                if self.separator(b']')? {
                    break;
                }
            }
        }
        if !self.at_delimiter() {
            return None;
        }
        set_head(out, start, MAJOR_ARRAY, n);
        Some(())
    }

    /// `{k: v, …}` with byte-string keys, none repeated: entries are
    /// written as they come and kept sorted by key (what `cborutil`
    /// writes) by rotating each into place.
    fn dict(&mut self, out: &mut Vec<u8>, depth: usize) -> Option<()> {
        self.pos += 1;
        let start = out.len();
        out.push(0);
        // This dict's entries are `self.entries[base..]`: a stack shared
        // with the dicts inside it, not an array zeroed every dict.
        let base = self.entries.len();
        let mut n = 0;
        self.spaces();
        if self.peek() == Some(b'}') {
            self.pos += 1;
        } else {
            loop {
                if n == MAX_ENTRIES || self.peek()? != b'b' {
                    return None;
                }
                let entry_start = out.len();
                let key = self.bytes(out)?;
                self.spaces();
                if self.peek()? != b':' {
                    return None;
                }
                self.pos += 1;
                self.spaces();
                self.value(out, depth + 1)?;
                let mut e = Entry {
                    key,
                    start: entry_start,
                    end: out.len(),
                };
                // Where the entry goes among the sorted ones before it.
                let k = &out[key.0..key.1];
                let entries = &mut self.entries;
                let mut at = n;
                while at > 0 {
                    let prev = &out[entries[base + at - 1].key.0..entries[base + at - 1].key.1];
                    match prev.cmp(k) {
                        std::cmp::Ordering::Less => break,
                        // A repeated key: Python's dict rules, the full path's.
                        std::cmp::Ordering::Equal => return None,
                        std::cmp::Ordering::Greater => at -= 1,
                    }
                }
                if at < n {
                    let len = e.end - e.start;
                    let from = entries[base + at].start;
                    out[from..e.end].rotate_right(len);
                    for x in &mut entries[base + at..] {
                        x.key.0 += len;
                        x.key.1 += len;
                        x.start += len;
                        x.end += len;
                    }
                    let shift = e.start - from;
                    e.key.0 -= shift;
                    e.key.1 -= shift;
                    e.start = from;
                    e.end = from + len;
                }
                entries.insert(base + at, e);
                n += 1;
                if self.separator(b'}')? {
                    break;
                }
            }
        }
        self.entries.truncate(base);
        if !self.at_delimiter() {
            return None;
        }
        set_head(out, start, MAJOR_MAP, n as u64);
        Some(())
    }
}

/// `encode_length`'s head, on the stack: the bytes and how many.
fn head_bytes(major: u8, n: u64) -> ([u8; 9], usize) {
    let mut h = [0u8; 9];
    let m = major << 5;
    let len = if n < 24 {
        h[0] = m | n as u8;
        1
    } else if n < 256 {
        h[0] = m | 24;
        h[1] = n as u8;
        2
    } else if n < 65536 {
        h[0] = m | 25;
        h[1..3].copy_from_slice(&(n as u16).to_be_bytes());
        3
    } else if n < 4294967296 {
        h[0] = m | 26;
        h[1..5].copy_from_slice(&(n as u32).to_be_bytes());
        5
    } else {
        h[0] = m | 27;
        h[1..9].copy_from_slice(&n.to_be_bytes());
        9
    };
    (h, len)
}

/// A collection's head over the byte kept for it at `start`, in front of
/// its items (made longer, the items moved, only for 24 items or more).
fn set_head(out: &mut Vec<u8>, start: usize, major: u8, n: u64) {
    if n < 24 {
        out[start] = major << 5 | n as u8;
        return;
    }
    let (h, len) = head_bytes(major, n);
    out[start] = h[0];
    out.splice(start + 1..start + 1, h[1..len].iter().copied());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::python::cbor::encode;
    use crate::python::literal::parse_literal;

    /// The full path: parse, then encode.
    fn full(text: &str) -> Option<Vec<u8>> {
        encode(&parse_literal(text).ok()?).ok()
    }

    fn fast(text: &str) -> Option<Vec<u8>> {
        let mut out = b"xyz".to_vec();
        let r = literal_to_cbor(text.as_bytes(), &mut out);
        assert!(out.starts_with(b"xyz"));
        match r {
            Some(()) => Some(out[3..].to_vec()),
            None => {
                assert_eq!(out, b"xyz", "{text:?}");
                None
            }
        }
    }

    fn same(text: &str) -> bool {
        match fast(text) {
            Some(b) => {
                assert_eq!(Some(&b), full(text).as_ref(), "{text:?}");
                true
            }
            None => false,
        }
    }

    #[test]
    fn common_literals_are_encoded_as_the_full_path_does() {
        for t in [
            "{b'name': b'heads'}",
            "{b'name': b'known', b'args': {b'nodes': [b'\\x01\\xff\\x00\\x10\\xab\\xcd\\xef\\x12\\x34\\x56\\x78\\x9a\\xbc\\xde\\xf0\\x11\\x22\\x33\\x44\\x55']}}",
            "[b'a', b\"b'\", b'\\\\', b'\\n\\r\\t\\'\\\"', 0, 23, 24, 255, 256, 65535, 65536, 4294967296, -1, -24, -25, -0, 999999999999999999]",
            "  [ None , True,False ]  ",
            "[]",
            "{}",
            "{b'z': 1, b'a': 2, b'm': 3, b'b': [1, 2], b'': None}",
            "{b'c': {b'b': {b'a': 1}}, b'a': [{b'y': 1, b'x': 2}]}",
            "b'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'",
        ] {
            assert!(same(t), "not taken: {t:?}");
        }
        let long: String = format!("[{}]", vec!["1"; 300].join(", "));
        assert!(same(&long));
        let wide: String = format!(
            "{{{}}}",
            (0..64)
                .rev()
                .map(|i| format!("b'k{i:02}': {i}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        assert!(same(&wide));
    }

    #[test]
    fn everything_else_is_left_to_the_full_parser() {
        for t in [
            "",
            "{b'a': 1, b'a': 2}", // repeated key
            "{1: 2}",
            "(1, 2)",
            "1, 2",
            "{1, 2}",
            "set()",
            "[1,]",
            "{b'a': 1,}",
            "b'a' b'b'",
            "b'\\0'",
            "b'\\u1234'",
            "b'caf\u{e9}'",
            "'text'",
            "u'x'",
            "rb'x'",
            "1_000",
            "01",
            "1.5",
            "0x10",
            "- 5",
            "+5",
            "1234567890123456789",
            "Nonee",
            "[1 2]",
            "{b'a' 1}",
            "# c\n1",
            "\t1",
            "[1] x",
        ] {
            assert!(!same(t), "taken: {t:?}");
        }
        let deep = format!("{}1{}", "[".repeat(40), "]".repeat(40));
        assert!(!same(&deep));
        let wide: String = format!(
            "{{{}}}",
            (0..65)
                .map(|i| format!("b'k{i:02}': {i}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        assert!(!same(&wide));
    }

    /// Differential test: random texts made of the subset's tokens (and a
    /// few others); wherever the direct path answers, its bytes are the
    /// full path's, and it answers for a good share.
    #[test]
    fn direct_encoding_agrees_with_parse_then_encode() {
        let mut next = crate::python::testing::xorshift(0x5851_f42d_4c95_7f2d);
        fn gen(next: &mut dyn FnMut() -> u64, s: &mut String, depth: usize) {
            let sp = |next: &mut dyn FnMut() -> u64, s: &mut String| {
                if next().is_multiple_of(4) {
                    s.push(' ');
                }
            };
            match next() % if depth > 4 { 6 } else { 9 } {
                0 => s.push_str(&format!("{}", next() >> (next() % 64))),
                1 => s.push_str(&format!("-{}", next() >> (next() % 64))),
                2 | 3 => {
                    s.push('b');
                    let q = if next().is_multiple_of(3) { '"' } else { '\'' };
                    s.push(q);
                    for _ in 0..next() % 30 {
                        let t = [
                            "a",
                            "\\x00",
                            "\\xff",
                            "\\xAb",
                            "\\\\",
                            "\\'",
                            "\\\"",
                            "\\n",
                            "\\t",
                            "\\r",
                            " ",
                            "'",
                            "\"",
                            "z",
                            "\\q",
                            "\\0",
                            // Runs of escapes and of plain characters, and
                            // what cuts them short.
                            "\\x12\\x34\\xab\\xCD",
                            "\\x0",
                            "\\xg0",
                            "\\x0g",
                            "\\x",
                            "\\",
                            "known heads ~!@#$%^&*()_+{}|:<>?`-=[];,./",
                            "\u{7f}",
                            "\u{1f}",
                            "\u{e9}",
                            "\u{2603}",
                            "\n",
                            "\t",
                        ];
                        s.push_str(t[next() as usize % t.len()]);
                    }
                    s.push(q);
                }
                4 => s.push_str(["None", "True", "False"][next() as usize % 3]),
                5 => s.push_str(["1_0", "0", "00", "[1,]", "(1,)", "{1}"][next() as usize % 6]),
                6 | 7 => {
                    s.push('[');
                    for i in 0..next() % 5 {
                        if i > 0 {
                            s.push(',');
                            sp(next, s);
                        }
                        gen(next, s, depth + 1);
                    }
                    s.push(']');
                }
                _ => {
                    s.push('{');
                    for i in 0..next() % 6 {
                        if i > 0 {
                            s.push(',');
                            sp(next, s);
                        }
                        s.push_str(&format!("b'{}'", (b'a' + (next() % 8) as u8) as char));
                        sp(next, s);
                        s.push(':');
                        sp(next, s);
                        gen(next, s, depth + 1);
                    }
                    s.push('}');
                }
            }
        }
        let mut taken = 0;
        for _ in 0..30_000 {
            let mut s = String::new();
            gen(&mut next, &mut s, 0);
            taken += same(&s) as usize;
            // And cut short anywhere (inside a string, an escape, a run).
            if !s.is_empty() {
                let mut cut = next() as usize % s.len();
                while !s.is_char_boundary(cut) {
                    cut -= 1;
                }
                same(&s[..cut]);
            }
        }
        assert!(taken > 10_000, "{taken}");
    }
}
