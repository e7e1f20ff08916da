//! CBOR as the `cbor2` that Mercurial 4.6/4.7 bundle
//! (`mercurial/thirdparty/cbor/cbor2`) does it on Python 2: revision 0005.
//!
//! * [`encode_canonical`] is `cbor.dumps(value, canonical=True)`, what
//!   those releases' `makeframefromhumanstring`, clients and servers use:
//!   map keys (and set members) are each encoded, then sorted by the length
//!   of their encoding and then by its bytes; ints beyond 64 bits become
//!   tag 2/3 bignums; floats take the smallest exact width
//!   (`encode_minimal_float`, with Python 2's `pack_float16`, which never
//!   makes a half of ±0.0, and raises `OverflowError` past the float32
//!   range where the value is not exact as a float32... and is not).
//! * [`load`] is `cbor.load(fp)` as the 0005 server reactor calls it: one
//!   value is read and trailing bytes are ignored; text strings, floats,
//!   bignums, indefinite lengths and tags decode (into the Python objects
//!   cbor2 makes; those `json.dumps` cannot render are [`Value::Opaque`]).
//!   Every failure is an exception the server turns into HTTP 500, so
//!   errors carry a message, not a kind.
//!
//! * [`SequenceReader`] reads values one after the other with one decoder
//!   (shareable values live on), bounded: how a 4.6/4.7 client reads a
//!   request's response data.
//!
//! Errors are cbor2's texts on Python 2.7, exactly, the UTF-8 codec's
//! included ([`super::py2`]). Shared values (tags 28/29) are followed (a
//! reference into a container still being built makes a cyclic value);
//! the semantic tags' decoders are [`super::cbor2_tags`], with what they
//! do not model listed there.

use super::value::{DictBuilder, Value};
use super::Py;

/// `CBOREncodeError` or the `struct`/`OverflowError` a value raises.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("CBOREncodeError: cannot serialize type {0}")]
    Unsupported(&'static str),
    #[error("OverflowError: float too large to pack with f format")]
    FloatOverflow,
}

fn head(major: u8, len: u64, out: &mut Vec<u8>) {
    super::cbor::encode_length(major, len, out)
}

/// `cbor.dumps(v, canonical=True)`.
pub fn encode_canonical(v: &Value) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    encode_into(v, &mut out)?;
    Ok(out)
}

/// Sort items by their canonical encoding: `(len(enc), enc)`.
fn sorted_encodings<'a, T>(
    items: impl Iterator<Item = (&'a Value, T)>,
) -> Result<Vec<(Vec<u8>, T)>, EncodeError> {
    let mut v = Vec::new();
    for (k, t) in items {
        v.push((encode_canonical(k)?, t));
    }
    v.sort_by(|a, b| a.0.len().cmp(&b.0.len()).then_with(|| a.0.cmp(&b.0)));
    Ok(v)
}

fn encode_into(v: &Value, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    match v {
        Value::Bytes(b) | Value::Chunk { data: b, .. } | Value::ByteArray(b) => {
            head(2, b.len() as u64, out);
            out.extend_from_slice(b);
        }
        Value::Str(s) => {
            head(3, s.len() as u64, out);
            out.extend_from_slice(s);
        }
        Value::Int(i) => encode_int(*i >= 0, &i.unsigned_abs().to_be_bytes(), out),
        Value::Big(b) => encode_int(!b.neg, &b.mag, out),
        Value::Bool(b) => out.push(if *b { 0xf5 } else { 0xf4 }),
        Value::None => out.push(0xf6),
        Value::Float(f) => encode_minimal_float(*f, out)?,
        Value::List(items) | Value::Tuple(items) => {
            head(4, items.len() as u64, out);
            for i in items {
                encode_into(i, out)?;
            }
        }
        Value::Dict(pairs) => {
            head(5, pairs.len() as u64, out);
            for (k, val) in sorted_encodings(pairs.iter().map(|(k, v)| (k, v)))? {
                out.extend_from_slice(&k);
                encode_into(val, out)?;
            }
        }
        Value::Set(items) => {
            head(6, 258, out);
            head(4, items.len() as u64, out);
            for (k, _) in sorted_encodings(items.iter().map(|k| (k, ())))? {
                out.extend_from_slice(&k);
            }
        }
        Value::Opaque(t, _) => return Err(EncodeError::Unsupported(t)),
    }
    Ok(())
}

/// `encode_int`: magnitudes of 2**64 and more become bignums (tag 2 for
/// `n`, tag 3 for `-n-1`).
fn encode_int(nonneg: bool, mag: &[u8], out: &mut Vec<u8>) {
    let start = mag.iter().position(|&b| b != 0).unwrap_or(mag.len());
    let mag = &mag[start..];
    // The encoded quantity: n, or -n-1 = |n|-1 for negatives.
    let mut q = mag.to_vec();
    if !nonneg {
        // |n| - 1 (|n| >= 1)
        for b in q.iter_mut().rev() {
            if *b == 0 {
                *b = 0xff;
            } else {
                *b -= 1;
                break;
            }
        }
        let s = q.iter().position(|&b| b != 0).unwrap_or(q.len());
        q.drain(..s);
    }
    // cbor2 compares n itself with ±2**64: n >= 2**64 or n < -2**64, i.e.
    // q >= 2**64 (for negatives: |n| > 2**64, q = |n|-1 >= 2**64).
    let big = q.len() > 8;
    let major = if nonneg { 0 } else { 1 };
    if big {
        head(6, if nonneg { 2 } else { 3 }, out);
        head(2, q.len() as u64, out);
        out.extend_from_slice(&q);
    } else {
        let mut x: u64 = 0;
        for &b in &q {
            x = x << 8 | b as u64;
        }
        head(major, x, out);
    }
}

/// Python 2's `pack_float16` (cbor2's compat branch for Python < 3.6).
fn pack_float16(value: f64) -> Option<[u8; 2]> {
    let u = (value as f32).to_bits();
    if u & 0x1fff != 0 {
        return None;
    }
    let mut s16 = (u >> 16) & 0x8000;
    let exponent = (u >> 23) & 0xff;
    let mantissa = u & 0x7f_ffff;
    if (113..=142).contains(&exponent) {
        s16 += ((exponent - 112) << 10) + (mantissa >> 13);
    } else if (103..113).contains(&exponent) {
        if mantissa & ((1 << (126 - exponent)) - 1) != 0 {
            return None;
        }
        s16 += (mantissa + 0x80_0000) >> (126 - exponent);
    } else {
        return None;
    }
    Some((s16 as u16).to_be_bytes())
}

/// Python 2's `unpack_float16` (RFC 7049 appendix D).
fn unpack_float16(payload: [u8; 2]) -> f64 {
    let p = u16::from_be_bytes(payload) as u32;
    let value = (p & 0x7fff) << 13 | (p & 0x8000) << 16;
    if p & 0x7c00 != 0x7c00 {
        return f32::from_bits(value) as f64 * 2f64.powi(112);
    }
    f32::from_bits(value | 0x7f80_0000) as f64
}

/// `encode_minimal_float`.
fn encode_minimal_float(v: f64, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    if v.is_nan() {
        out.extend_from_slice(&[0xf9, 0x7e, 0x00]);
        return Ok(());
    }
    if v.is_infinite() {
        out.extend_from_slice(if v > 0.0 {
            &[0xf9, 0x7c, 0x00]
        } else {
            &[0xf9, 0xfc, 0x00]
        });
        return Ok(());
    }
    let single = v as f32;
    // struct.pack('>f') of a finite value that rounds to infinity.
    if single.is_infinite() {
        return Err(EncodeError::FloatOverflow);
    }
    if single as f64 != v {
        out.push(0xfb);
        out.extend_from_slice(&v.to_be_bytes());
        return Ok(());
    }
    if let Some(h) = pack_float16(v) {
        if unpack_float16(h) == v {
            out.push(0xf9);
            out.extend_from_slice(&h);
            return Ok(());
        }
    }
    out.push(0xfa);
    out.extend_from_slice(&single.to_be_bytes());
    Ok(())
}

/// What the decoder read: a value, or cbor2's `break_marker`.
enum Item {
    Value(Value),
    Break,
}

/// cbor2's `break_marker` where a value is expected: a bare `object()`.
fn break_object() -> Value {
    Value::Opaque("object", "<object object>".into())
}

/// How deep cbor2 recurses before Python 2's recursion limit (1000 frames,
/// two per nesting level, below the server's own frames): measured against
/// Mercurial 4.7.2 (482 nested lists under `args` decode, 483 raise).
pub const MAX_DEPTH: usize = 484;

struct Decoder<'a> {
    b: &'a [u8],
    pos: usize,
    /// Shareable slots (tag 28): `None` until a container fills it,
    /// `Some(None)` while the container is being built.
    shared: Vec<Option<Option<Value>>>,
    /// Per slot: the held estimate when its container opened, then the
    /// estimated cost of the value it holds.
    shared_cost: Vec<u64>,
    /// hgframe's memory bound, when reading for a client.
    budget: Option<Budget>,
    /// Reading from a `cStringIO` (`util.bytesio` on Python 2), not an
    /// `io.BytesIO`.
    cstringio: bool,
}

/// What a bounded decoder holds (estimated as [`ITEM_COST`] per item
/// plus the bytes of strings), and the bound.
struct Budget {
    limit: u64,
    held: u64,
    /// Set when the bound refused something: the estimate it would reach.
    over: Option<u64>,
}

type R<T> = Result<T, String>;

/// A container (or tag) being decoded. cbor2 recurses; this decoder keeps
/// the open items on a stack instead, so nesting cannot exhaust the
/// thread's stack, and counts the depth Python's recursion limit stops at.
enum Open {
    Array {
        items: Vec<Value>,
        /// Items still to read; `None` for an indefinite array.
        left: Option<u64>,
        slot: Option<usize>,
    },
    Map {
        pairs: DictBuilder,
        left: Option<u64>,
        key: Option<Value>,
        slot: Option<usize>,
    },
    /// A semantic tag waiting for its value.
    Tag(u64),
    /// Tag 28: the value that follows may fill this shareable slot.
    Shareable(usize),
}

/// What one step of reading produced.
enum Step {
    /// A complete item (or a break marker).
    Done(Item),
    /// A container or tag was opened; its content follows.
    Opened,
}

/// `cbor.load(BytesIO(payload))`: the first value; the rest is ignored.
pub fn load(b: &[u8]) -> Result<Value, String> {
    load_prefix(b).map(|(v, _)| v)
}

/// The first value and how many bytes it took (a client reads a response
/// as a sequence of values this way).
pub fn load_prefix(b: &[u8]) -> Result<(Value, usize), String> {
    let mut d = Decoder {
        b,
        pos: 0,
        shared: Vec::new(),
        shared_cost: Vec::new(),
        budget: None,
        cstringio: false,
    };
    let v = match d.decode()? {
        Item::Value(v) => v,
        Item::Break => break_object(),
    };
    Ok((v, d.pos))
}

fn item_value(i: Item) -> Value {
    match i {
        Item::Value(v) => v,
        Item::Break => break_object(),
    }
}

/// What an item is counted as holding, on top of its bytes (as the
/// cborutil decoder counts: a [`Value`] and a share of spare capacity).
pub const ITEM_COST: u64 = super::cbor::ITEM_COST;

/// Why bounded reading stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// What cbor2 raises, `Type: message`.
    #[error("{0}")]
    Raises(String),
    /// hgframe's memory bound (Mercurial has none): the value would hold
    /// about `needed` bytes.
    #[error("the CBOR data decoded so far would hold {needed} bytes in memory, over the bound of {limit} bytes")]
    OverLimit { needed: u64, limit: u64 },
}

/// `cbor.loads(payload)` (one value, the rest ignored), holding at most
/// about `limit` bytes: how 4.6/4.7's client reads an `error-response`
/// payload.
pub fn load_limited(b: &[u8], limit: u64) -> Result<Value, ReadError> {
    // `loads` reads from an `io.BytesIO`.
    let mut r = SequenceReader::new(std::borrow::Cow::Borrowed(b), limit);
    r.cstringio = false;
    match r.next_value() {
        Some(v) => v,
        // `fp.read(1)` of an empty payload.
        None => load(b).map_err(ReadError::Raises),
    }
}

/// `CBORDecoder(BytesIO(data))` read value after value while
/// `fp.tell() < len(data)`: how 4.6/4.7's client reads a request's
/// response data (`commandresponse.cborobjects`). One decoder for the
/// whole sequence, so shareable values (tag 28) stay referable (tag 29)
/// from later values, as in Python.
///
/// Bounded where cbor2 is not: the value being built and the shareable
/// values kept for later references hold at most about `limit` bytes
/// (estimated, see [`ITEM_COST`]); a reference to a shareable value
/// counts as a copy (Python shares the object, this port clones it, so
/// nested references cannot grow memory exponentially past the bound).
pub struct SequenceReader<'a> {
    data: std::borrow::Cow<'a, [u8]>,
    pos: usize,
    shared: Vec<Option<Option<Value>>>,
    shared_cost: Vec<u64>,
    /// The cost of the values kept in shareable slots.
    shared_held: u64,
    limit: u64,
    failed: bool,
    cstringio: bool,
}

impl<'a> SequenceReader<'a> {
    /// A reader of `data` in a `cStringIO`, as `commandresponse.b` is.
    pub fn new(data: impl Into<std::borrow::Cow<'a, [u8]>>, limit: u64) -> Self {
        SequenceReader {
            data: data.into(),
            pos: 0,
            shared: Vec::new(),
            shared_cost: Vec::new(),
            shared_held: 0,
            limit,
            failed: false,
            cstringio: true,
        }
    }

    /// Bytes read so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// The next value; `None` at the end of the data or after an error
    /// (Python's generator is finished once it raised).
    pub fn next_value(&mut self) -> Option<Result<Value, ReadError>> {
        if self.failed || self.pos >= self.data.len() {
            return None;
        }
        let mut d = Decoder {
            b: &self.data,
            pos: self.pos,
            shared: std::mem::take(&mut self.shared),
            shared_cost: std::mem::take(&mut self.shared_cost),
            budget: Some(Budget {
                limit: self.limit,
                held: self.shared_held,
                over: None,
            }),
            cstringio: self.cstringio,
        };
        let r = d.decode();
        let budget = d.budget.take().expect("set above");
        self.pos = d.pos;
        self.shared = std::mem::take(&mut d.shared);
        self.shared_cost = std::mem::take(&mut d.shared_cost);
        self.shared_held = self
            .shared
            .iter()
            .zip(&self.shared_cost)
            .filter(|(s, _)| matches!(s, Some(Some(_))))
            .map(|(_, c)| *c)
            .fold(0u64, |a, c| a.saturating_add(c));
        let out = match (r, budget.over) {
            (_, Some(needed)) => Err(ReadError::OverLimit {
                needed,
                limit: self.limit,
            }),
            (Ok(i), None) => Ok(item_value(i)),
            (Err(e), None) => Err(ReadError::Raises(e)),
        };
        if out.is_err() {
            self.failed = true;
        }
        Some(out)
    }
}

impl Decoder<'_> {
    /// Count `cost` more bytes held, failing past the bound.
    fn charge(&mut self, cost: u64) -> R<()> {
        if let Some(b) = &mut self.budget {
            b.held = b.held.saturating_add(cost);
            if b.held > b.limit {
                b.over = Some(b.held);
                return Err("hgframe bound".into());
            }
        }
        Ok(())
    }

    fn held(&self) -> u64 {
        self.budget.as_ref().map_or(0, |b| b.held)
    }

    fn read(&mut self, n: u64) -> R<&[u8]> {
        // `read(n)` takes an index-sized n: `io.BytesIO` (what `loads`
        // reads) and `cStringIO` (a client's response data) say so
        // differently.
        if n > i64::MAX as u64 {
            let why = if self.cstringio {
                "Python int too large to convert to C long"
            } else {
                "cannot fit 'long' into an index-sized integer"
            };
            return Err(format!(
                "CBORDecodeError: error decoding value at index {}: {why}",
                self.pos
            ));
        }
        let avail = (self.b.len() - self.pos) as u64;
        if avail < n {
            return Err(format!(
                "CBORDecodeError: premature end of stream (expected to read {n} bytes, got {avail} instead)"
            ));
        }
        let s = &self.b[self.pos..self.pos + n as usize];
        self.pos += n as usize;
        Ok(s)
    }

    fn uint(&mut self, subtype: u8, allow_indefinite: bool) -> R<Option<u64>> {
        let n = match subtype {
            0..=23 => return Ok(Some(subtype as u64)),
            24 => 1,
            25 => 2,
            26 => 4,
            27 => 8,
            31 if allow_indefinite => return Ok(None),
            _ => {
                return Err(format!(
                    "CBORDecodeError: unknown unsigned integer subtype 0x{subtype:x}"
                ))
            }
        };
        let mut v = 0u64;
        for &x in self.read(n)? {
            v = v << 8 | x as u64;
        }
        Ok(Some(v))
    }

    fn definite(&mut self, subtype: u8) -> R<u64> {
        Ok(self.uint(subtype, false)?.unwrap_or(0))
    }

    fn bytestring(&mut self, subtype: u8) -> R<Value> {
        match self.uint(subtype, true)? {
            Some(n) => Ok(Value::Bytes(self.read(n)?.to_vec())),
            None => {
                let mut buf = Vec::new();
                loop {
                    let initial = self.read(1)?[0];
                    if initial == 0xff {
                        return Ok(Value::ByteArray(buf));
                    }
                    let n = self.definite(initial & 31)?;
                    buf.extend_from_slice(self.read(n)?);
                }
            }
        }
    }

    /// `CBORDecoder.decode()`, iteratively.
    fn decode(&mut self) -> R<Item> {
        let mut stack: Vec<Open> = Vec::new();
        loop {
            // Python's recursion: two frames per open container or tag.
            if stack.len() > MAX_DEPTH {
                return Err("RuntimeError: maximum recursion depth exceeded".into());
            }
            // A container opened right under tag 28 fills its slot.
            let slot = match stack.last() {
                Some(Open::Shareable(i)) => Some(*i),
                _ => None,
            };
            let mut item = match self.step(&mut stack, slot)? {
                Step::Opened => continue,
                Step::Done(i) => i,
            };
            // Hand the item to the open containers, closing those it ends.
            loop {
                let Some(top) = stack.last_mut() else {
                    return Ok(item);
                };
                match top {
                    Open::Array { items, left, .. } => {
                        match (left.as_mut(), item) {
                            (None, Item::Break) => {}
                            (None, i) => {
                                items.push(item_value(i));
                                break;
                            }
                            (Some(n), i) => {
                                items.push(item_value(i));
                                *n -= 1;
                                if *n > 0 {
                                    break;
                                }
                            }
                        }
                        let Some(Open::Array { items, slot, .. }) = stack.pop() else {
                            unreachable!("the top is an array")
                        };
                        let v = Value::List(items);
                        self.close_shareable(slot, &v)?;
                        item = Item::Value(v);
                    }
                    Open::Map {
                        pairs, left, key, ..
                    } => {
                        match key.take() {
                            None => match (left.as_ref(), item) {
                                (None, Item::Break) => {}
                                (_, i) => {
                                    *key = Some(item_value(i));
                                    break;
                                }
                            },
                            Some(k) => {
                                if let Err(e) = k.check_hashable() {
                                    return Err(format!(
                                        "CBORDecodeError: error decoding value at index {}: {e}",
                                        self.pos
                                    ));
                                }
                                pairs.insert(k, item_value(item));
                                match left.as_mut() {
                                    None => break,
                                    Some(n) => {
                                        *n -= 1;
                                        if *n > 0 {
                                            break;
                                        }
                                    }
                                }
                            }
                        }
                        let Some(Open::Map { pairs, slot, .. }) = stack.pop() else {
                            unreachable!("the top is a map")
                        };
                        let v = Value::Dict(pairs.into_pairs());
                        self.close_shareable(slot, &v)?;
                        item = Item::Value(v);
                    }
                    Open::Tag(tag) => {
                        let tag = *tag;
                        stack.pop();
                        item = self.semantic(tag, item_value(item))?;
                    }
                    // decode(shareable_index) returns whatever it read,
                    // a break marker included.
                    Open::Shareable(_) => {
                        stack.pop();
                    }
                }
            }
        }
    }

    /// Read one item head: a complete scalar, or an opened container/tag.
    fn step(&mut self, stack: &mut Vec<Open>, slot: Option<usize>) -> R<Step> {
        let Some(&initial) = self.b.get(self.pos) else {
            return Err(format!(
                "CBORDecodeError: error reading major type at index {}: ord() expected a character, but string of length 0 found",
                self.pos
            ));
        };
        self.pos += 1;
        let (major, subtype) = (initial >> 5, initial & 31);
        let v = match major {
            0 => Value::Int(self.definite(subtype)? as i128),
            1 => Value::Int(-(self.definite(subtype)? as i128) - 1),
            2 => self.bytestring(subtype)?,
            3 => {
                let raw = match self.bytestring(subtype)? {
                    Value::Bytes(b) | Value::ByteArray(b) => b,
                    _ => Vec::new(),
                };
                if let Err(e) = super::py2::utf8_decode(&raw) {
                    return Err(format!(
                        "CBORDecodeError: error decoding value at index {}: {}",
                        self.pos,
                        super::py2::utf8_error_text(&raw, &e)
                    ));
                }
                Value::Str(raw)
            }
            4 | 5 => {
                self.open_shareable(slot);
                self.charge(ITEM_COST)?;
                let left = self.uint(subtype, true)?;
                // `xrange(length)` takes a C long.
                if left.is_some_and(|n| n > i64::MAX as u64) {
                    return Err(format!(
                        "CBORDecodeError: error decoding value at index {}: Python int too large to convert to C long",
                        self.pos
                    ));
                }
                if left == Some(0) {
                    let v = if major == 4 {
                        Value::List(Vec::new())
                    } else {
                        Value::Dict(Vec::new())
                    };
                    self.close_shareable(slot, &v)?;
                    return Ok(Step::Done(Item::Value(v)));
                }
                stack.push(if major == 4 {
                    Open::Array {
                        items: Vec::new(),
                        left,
                        slot,
                    }
                } else {
                    Open::Map {
                        pairs: DictBuilder::new(Py::Two),
                        left,
                        key: None,
                        slot,
                    }
                });
                return Ok(Step::Opened);
            }
            6 => {
                let tag = self.definite(subtype)?;
                if tag == 28 {
                    self.shared.push(None);
                    stack.push(Open::Shareable(self.shared.len() - 1));
                } else {
                    stack.push(Open::Tag(tag));
                }
                return Ok(Step::Opened);
            }
            _ => match subtype {
                0..=19 => Value::Opaque("CBORSimpleValue", format!("CBORSimpleValue({subtype})")),
                20 => Value::Bool(false),
                21 => Value::Bool(true),
                22 => Value::None,
                23 => Value::Opaque("UndefinedType", "undefined".into()),
                24 => {
                    let x = self.read(1)?[0];
                    Value::Opaque("CBORSimpleValue", format!("CBORSimpleValue({x})"))
                }
                25 => {
                    let b = self.read(2)?;
                    Value::Float(unpack_float16([b[0], b[1]]))
                }
                26 => {
                    let b = self.read(4)?;
                    Value::Float(f32::from_be_bytes([b[0], b[1], b[2], b[3]]) as f64)
                }
                27 => {
                    let b = self.read(8)?;
                    let mut a = [0u8; 8];
                    a.copy_from_slice(b);
                    Value::Float(f64::from_be_bytes(a))
                }
                31 => return Ok(Step::Done(Item::Break)),
                _ => {
                    return Err(format!(
                        "CBORDecodeError: error decoding value at index {}: {subtype}",
                        self.pos
                    ))
                }
            },
        };
        let len = match &v {
            Value::Bytes(b) | Value::Str(b) | Value::ByteArray(b) => b.len() as u64,
            _ => 0,
        };
        self.charge(ITEM_COST + len)?;
        Ok(Step::Done(Item::Value(v)))
    }

    fn open_shareable(&mut self, idx: Option<usize>) {
        let held = self.held();
        if let Some(s) = idx.and_then(|i| self.shared.get_mut(i)) {
            *s = Some(None);
            if self.shared_cost.len() < self.shared.len() {
                self.shared_cost.resize(self.shared.len(), 0);
            }
            self.shared_cost[idx.unwrap_or_default()] = held;
        }
    }

    /// The container filling a shareable slot is complete: the slot keeps
    /// a copy, which counts against the bound as much as the container.
    fn close_shareable(&mut self, idx: Option<usize>, v: &Value) -> R<()> {
        let Some(i) = idx.filter(|i| *i < self.shared.len()) else {
            return Ok(());
        };
        let start = self.shared_cost.get(i).copied().unwrap_or(0);
        let cost = self.held().saturating_sub(start);
        self.charge(cost)?;
        if self.shared_cost.len() <= i {
            self.shared_cost.resize(i + 1, 0);
        }
        self.shared_cost[i] = cost;
        self.shared[i] = Some(Some(v.clone()));
        Ok(())
    }

    /// The semantic decoders (`semantic_decoders`, see
    /// [`super::cbor2_tags`]), or a `CBORTag`.
    fn semantic(&mut self, tag: u64, value: Value) -> R<Item> {
        let opaque = |t: &'static str| Ok(Item::Value(Value::Opaque(t, format!("<{t}>"))));
        match tag {
            // `decode_sharedref`: `decoder._shareables[value]`, with
            // Python's indexing (negative from the end, bools as ints);
            // its own errors are raised as they are, not wrapped.
            29 => {
                let raw = match &value {
                    Value::Int(i) => Ok(*i),
                    Value::Bool(b) => Ok(*b as i128),
                    Value::Big(b) => Err(b.to_decimal()),
                    other => {
                        return Err(format!(
                            "CBORDecodeError: error decoding value at index {}: list indices must be integers, not {}",
                            self.pos,
                            other.type_name_in(Py::Two)
                        ))
                    }
                };
                let n = self.shared.len() as i128;
                let idx = raw.as_ref().ok().and_then(|&i| {
                    let j = if i < 0 { i + n } else { i };
                    (0..n).contains(&j).then_some(j as usize)
                });
                let shown = match &raw {
                    Ok(i) => i.to_string(),
                    Err(d) => d.clone(),
                };
                match idx.map(|i| (i, self.shared[i].as_ref().map(|s| s.is_some()))) {
                    None => Err(format!(
                        "CBORDecodeError: shared reference {shown} not found"
                    )),
                    Some((_, None)) => Err(format!(
                        "CBORDecodeError: shared value {shown} has not been initialized"
                    )),
                    // A reference into the container being built: the
                    // value contains itself, which json.dumps refuses.
                    Some((_, Some(false))) => opaque("cyclic"),
                    Some((i, Some(true))) => {
                        // Counted before it is copied.
                        let cost = self.shared_cost.get(i).copied().unwrap_or(0);
                        self.charge(cost)?;
                        let v = self.shared[i].clone().flatten().unwrap_or(Value::None);
                        Ok(Item::Value(v))
                    }
                }
            }
            _ => match super::cbor2_tags::decode(tag, value) {
                None => Ok(Item::Value(Value::Opaque(
                    "CBORTag",
                    format!("CBORTag({tag}, ...)"),
                ))),
                Some(Ok(v)) => Ok(Item::Value(v)),
                Some(Err(super::cbor2_tags::TagError::Wrapped(e))) => Err(format!(
                    "CBORDecodeError: error decoding value at index {}: {e}",
                    self.pos
                )),
                Some(Err(super::cbor2_tags::TagError::Raw(e))) => {
                    Err(format!("CBORDecodeError: {e}"))
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::python::escape::{hex, unhex};

    fn enc(v: &Value) -> String {
        hex(&encode_canonical(v).unwrap())
    }

    #[test]
    fn canonical_maps_sort_by_encoding() {
        let d = Value::dict([("aa", Value::Int(1)), ("b", Value::Int(2))]);
        assert_eq!(enc(&d), "a241620242616101");
        let d = Value::Dict(vec![
            (Value::Int(100), Value::Int(1)),
            (Value::Int(2), Value::Int(2)),
            (Value::Int(-1), Value::Int(3)),
            (Value::Int(24), Value::Int(4)),
        ]);
        assert_eq!(enc(&d), "a402022003181804186401");
    }

    #[test]
    fn ints_and_floats() {
        assert_eq!(enc(&Value::Int(1 << 64)), "c249010000000000000000");
        assert_eq!(enc(&Value::Int(-(1 << 64))), "3bffffffffffffffff");
        assert_eq!(enc(&Value::Int(-(1 << 64) - 1)), "c349010000000000000000");
        assert_eq!(enc(&Value::Float(1.0)), "f93c00");
        assert_eq!(enc(&Value::Float(0.0)), "fa00000000");
        assert_eq!(enc(&Value::Float(-0.0)), "fa80000000");
        assert_eq!(enc(&Value::Float(65505.0)), "fa477fe100");
        assert_eq!(enc(&Value::Float(5.960464477539063e-08)), "f90001");
        assert_eq!(enc(&Value::Float(1e-40)), "fb37a16c262777579c");
        assert_eq!(enc(&Value::Float(0.1)), "fb3fb999999999999a");
        assert_eq!(
            encode_canonical(&Value::Float(1e39)),
            Err(EncodeError::FloatOverflow)
        );
    }

    #[test]
    fn load_is_lenient() {
        let v = load(&unhex("a1646e616d6543666f6f01").unwrap()).unwrap();
        assert_eq!(
            v,
            Value::Dict(vec![(Value::Str(b"name".to_vec()), Value::bytes("foo"))])
        );
        assert!(load(b"").is_err());
        assert!(load(&[0x62, 0xc3]).is_err());
        assert_eq!(
            load(&[0x5f, 0x41, b'a', 0xff]).unwrap(),
            Value::ByteArray(b"a".to_vec())
        );
        assert_eq!(load(&[0xf9, 0x3e, 0x00]).unwrap(), Value::Float(1.5));
        assert_eq!(
            load(&unhex("c349010000000000000000").unwrap()).unwrap(),
            Value::Int(-(1 << 64) - 1)
        );
        assert!(matches!(
            load(&unhex("c2510100000000000000000000000000000000").unwrap()).unwrap(),
            Value::Big(crate::python::value::BigInt { neg: false, .. })
        ));
        assert!(load(&[0x81, 0x9f, 0x80]).is_err());
        assert!(matches!(load(&[0xff]).unwrap(), Value::Opaque("object", _)));
        assert!(load(&[0xa1, 0x80, 0x01]).is_err()); // list as key
    }
}
