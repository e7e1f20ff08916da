//! CBOR exactly as Mercurial's `mercurial/utils/cborutil.py` does it.
//!
//! Why hand-written and not a CBOR crate: hgframe must predict a Mercurial
//! server byte for byte, and the server's behaviour is defined by
//! `cborutil`'s quirks, which no general crate reproduces:
//! * encoding sorts map keys and set members by `(type name, value)` with
//!   Python comparison semantics and encodes sets as tag 258;
//! * decoding rejects text strings, floats, indefinite arrays/maps and most
//!   tags with specific messages that end up verbatim in debugreflect output
//!   (`error decoding CBOR from sender protocol settings frame: b'string
//!   major type not supported'`), streams indefinite bytestrings as chunk
//!   values, and buffers partial items across frames in its own way
//!   (`bufferingdecoder`), which decides which error a server reports.
//!
//! The decoder is a line-by-line port of `sansiodecoder`, `bufferingdecoder`
//! and `decodeall`; the encoder of `streamencode`.

use crate::python::value::{mixed_type_lt_in, py_sorted_by, KeyIndex, Value};
use crate::python::Py;

/// Why a value cannot be CBOR-encoded (Mercurial raises `ValueError`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("big integers not supported (CBOR holds -2**64 .. 2**64-1): {0}")]
    BigInt(String),
    #[error("do not know how to encode <class '{0}'>{hint}", hint = encode_hint(.0))]
    Unsupported(&'static str),
    #[error("cannot sort map keys or set members: {0}")]
    Unorderable(String),
}

fn encode_hint(ty: &str) -> &'static str {
    match ty {
        "str" => " (use a bytes literal: b'...')",
        "float" => " (Mercurial's CBOR has no floats)",
        _ => "",
    }
}

pub(crate) const MAJOR_UINT: u8 = 0;
pub(crate) const MAJOR_NEGINT: u8 = 1;
pub(crate) const MAJOR_BYTES: u8 = 2;
const MAJOR_STRING: u8 = 3;
pub(crate) const MAJOR_ARRAY: u8 = 4;
pub(crate) const MAJOR_MAP: u8 = 5;
const MAJOR_SEMANTIC: u8 = 6;
const MAJOR_SPECIAL: u8 = 7;
const TAG_FINITE_SET: u64 = 258;

/// `cborutil.encodelength`.
pub fn encode_length(major: u8, len: u64, out: &mut Vec<u8>) {
    let m = major << 5;
    if len < 24 {
        out.push(m | len as u8);
    } else if len < 256 {
        out.extend_from_slice(&[m | 24, len as u8]);
    } else if len < 65536 {
        out.push(m | 25);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else if len < 4294967296 {
        out.push(m | 26);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    } else {
        out.push(m | 27);
        out.extend_from_slice(&len.to_be_bytes());
    }
}

/// `cborutil.streamencode` of one value (Python 3).
pub fn encode(v: &Value) -> Result<Vec<u8>, EncodeError> {
    encode_in(Py::Three, v)
}

/// `cborutil.streamencode` of one value under a Python version (the sort
/// order of mixed-type keys follows the type names).
pub fn encode_in(py: Py, v: &Value) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    encode_into_in(py, v, &mut out)?;
    Ok(out)
}

/// Encode a bytestring (the common case, infallible).
pub fn encode_bytes(b: &[u8], out: &mut Vec<u8>) {
    encode_length(MAJOR_BYTES, b.len() as u64, out);
    out.extend_from_slice(b);
}

pub fn encode_into(v: &Value, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    encode_into_in(Py::Three, v, out)
}

fn encode_into_in(py: Py, v: &Value, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let encode_into = |v: &Value, out: &mut Vec<u8>| encode_into_in(py, v, out);
    let mixed_type_lt = |a: &Value, b: &Value| mixed_type_lt_in(py, a, b);
    match v {
        Value::Bytes(b) | Value::Chunk { data: b, .. } => encode_bytes(b, out),
        Value::Int(i) => {
            let i = *i;
            if !(-(1i128 << 64)..(1i128 << 64)).contains(&i) {
                return Err(EncodeError::BigInt(i.to_string()));
            }
            if i >= 0 {
                encode_length(MAJOR_UINT, i as u64, out);
            } else {
                encode_length(MAJOR_NEGINT, (-i - 1) as u64, out);
            }
        }
        Value::Bool(b) => out.push(if *b { 0xf5 } else { 0xf4 }),
        Value::None => out.push(0xf6),
        Value::List(items) | Value::Tuple(items) => {
            encode_length(MAJOR_ARRAY, items.len() as u64, out);
            for i in items {
                encode_into(i, out)?;
            }
        }
        Value::Set(items) => {
            encode_length(MAJOR_SEMANTIC, TAG_FINITE_SET, out);
            let sorted = py_sorted_by(items.iter().collect(), |a, b| mixed_type_lt(a, b))
                .map_err(|e| EncodeError::Unorderable(e.0))?;
            encode_length(MAJOR_ARRAY, sorted.len() as u64, out);
            for i in sorted {
                encode_into(i, out)?;
            }
        }
        Value::Dict(items) => {
            encode_length(MAJOR_MAP, items.len() as u64, out);
            let sorted = py_sorted_by(items.iter().collect(), |a, b| mixed_type_lt(&a.0, &b.0))
                .map_err(|e| EncodeError::Unorderable(e.0))?;
            for (k, v) in sorted {
                encode_into(k, out)?;
                encode_into(v, out)?;
            }
        }
        Value::Big(b) => return Err(EncodeError::BigInt(b.to_decimal())),
        Value::Str(_) | Value::Float(_) | Value::ByteArray(_) | Value::Opaque(..) => {
            return Err(EncodeError::Unsupported(v.type_name_in(py)))
        }
    }
    Ok(())
}

/// `cborutil.CBORDecodeError`, with Mercurial's message.
///
/// Displays as the bare message; [`DecodeError::python_str`] gives what
/// `str(e)` shows under Python 3 (`b'...'`), as it appears in error actions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DecodeError(pub String, pub PyExc);

/// Which Python exception the decoder raised: `CBORDecodeError` carries a
/// bytes message (so `str(e)` reads `b'...'`), the others a str message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PyExc {
    CborDecodeError,
    TypeError,
    ValueError,
    MemoryError,
    RecursionError,
    /// Not a Python exception: hgframe's memory bound refused the value
    /// ([`SansIoDecoder::set_limit`]; Mercurial has no bound).
    OverLimit,
}

/// Deepest nesting of collections the decoder builds (values are dropped
/// and rendered recursively).
pub const MAX_DEPTH: usize = 1_000;

fn err(s: String) -> DecodeError {
    DecodeError(s, PyExc::CborDecodeError)
}

impl DecodeError {
    fn new(s: impl Into<String>) -> Self {
        DecodeError(s.into(), PyExc::CborDecodeError)
    }

    fn over_limit(needed: u64, limit: u64, what: &str) -> Self {
        DecodeError(
            format!("{what} would hold {needed} bytes in memory, over the bound of {limit} bytes"),
            PyExc::OverLimit,
        )
    }

    /// Whether hgframe's memory bound refused the input (no Python
    /// decoder would have failed here).
    pub fn is_over_limit(&self) -> bool {
        self.1 == PyExc::OverLimit
    }

    /// `Type: message` as Python reports the exception (`fmtexc` in the
    /// golden-data generators): `CBORDecodeError: string major type not
    /// supported`, `TypeError: ...`.
    pub fn python_exception(&self) -> String {
        let name = match self.1 {
            PyExc::CborDecodeError => "CBORDecodeError",
            PyExc::TypeError => "TypeError",
            PyExc::ValueError => "ValueError",
            PyExc::MemoryError => "MemoryError",
            PyExc::RecursionError => "RecursionError",
            PyExc::OverLimit => "hgframe bound",
        };
        format!("{name}: {}", self.0)
    }

    /// `stringutil.forcebytestr(e)` of the exception under Python 3.
    pub fn python_str(&self) -> String {
        self.python_str_in(Py::Three)
    }

    /// `stringutil.forcebytestr(e)` under a Python version: Python 2's
    /// `str(e)` is the bare message; Python 3 shows the bytes message's
    /// repr (`b'...'`).
    pub fn python_str_in(&self, py: Py) -> String {
        match (py, self.1) {
            (Py::Three, PyExc::CborDecodeError) => format!("b'{}'", self.0),
            _ => self.0.clone(),
        }
    }
}

const SPECIAL_NONE: u8 = 0;
const SPECIAL_START_INDEFINITE_BYTESTRING: u8 = 1;
const SPECIAL_START_ARRAY: u8 = 2;
const SPECIAL_START_MAP: u8 = 3;
const SPECIAL_START_SET: u8 = 4;
const SPECIAL_INDEFINITE_BREAK: u8 = 5;

/// Result of `decodeitem`: complete?, value, readcount (negative = wanted).
struct Item {
    complete: bool,
    value: ItemValue,
    readcount: i64,
    special: u8,
}

enum ItemValue {
    None,
    Value(Value),
    /// A collection size or `None` for indefinite.
    Size(u64),
}

fn incomplete(readcount: i64) -> Item {
    Item {
        complete: false,
        value: ItemValue::None,
        readcount,
        special: SPECIAL_NONE,
    }
}

/// `decodeuint`: (complete, value (None = indefinite), count).
fn decode_uint(
    subtype: u8,
    b: &[u8],
    offset: usize,
    allow_indefinite: bool,
) -> Result<(bool, Option<u64>, i64), DecodeError> {
    if subtype < 24 {
        return Ok((true, Some(subtype as u64), 0));
    }
    if subtype == 31 {
        if allow_indefinite {
            return Ok((true, None, 0));
        }
        return Err(DecodeError::new("indefinite length uint not allowed here"));
    }
    if subtype >= 28 {
        return Err(err(format!(
            "unsupported subtype on integer type: {subtype}"
        )));
    }
    let size = match subtype {
        24 => 1,
        25 => 2,
        26 => 4,
        _ => 8,
    };
    let avail = b.len() as i64 - offset as i64;
    if avail >= size {
        let mut v: u64 = 0;
        for i in 0..size as usize {
            v = v << 8 | b[offset + i] as u64;
        }
        Ok((true, Some(v), size))
    } else {
        Ok((false, None, avail - size))
    }
}

/// `cborutil.decodeitem`.
fn decode_item(b: &[u8], offset: usize) -> Result<Item, DecodeError> {
    let initial = b[offset];
    let offset = offset + 1;
    let major = initial >> 5;
    let subtype = initial & 0x1f;
    match major {
        MAJOR_UINT | MAJOR_NEGINT => {
            let (complete, v, rc) = decode_uint(subtype, b, offset, false)?;
            if !complete {
                return Ok(incomplete(rc));
            }
            let v = v.unwrap_or(0) as i128;
            let v = if major == MAJOR_UINT { v } else { -v - 1 };
            Ok(Item {
                complete: true,
                value: ItemValue::Value(Value::Int(v)),
                readcount: rc + 1,
                special: SPECIAL_NONE,
            })
        }
        MAJOR_BYTES => {
            let (complete, size, rc) = decode_uint(subtype, b, offset, true)?;
            if !complete {
                return Ok(incomplete(rc));
            }
            match size {
                Some(size) => {
                    let start = offset as u64 + rc as u64;
                    if start.saturating_add(size) <= b.len() as u64 {
                        let s = start as usize;
                        Ok(Item {
                            complete: true,
                            value: ItemValue::Value(Value::Bytes(b[s..s + size as usize].to_vec())),
                            readcount: rc + size as i64 + 1,
                            special: SPECIAL_NONE,
                        })
                    } else {
                        let wanted = b.len() as i128 - offset as i128 - rc as i128 - size as i128;
                        Ok(incomplete(wanted.max(i64::MIN as i128) as i64))
                    }
                }
                None => Ok(Item {
                    complete: true,
                    value: ItemValue::None,
                    readcount: 1,
                    special: SPECIAL_START_INDEFINITE_BYTESTRING,
                }),
            }
        }
        MAJOR_STRING => Err(DecodeError::new("string major type not supported")),
        MAJOR_ARRAY | MAJOR_MAP => {
            let (complete, size, rc) = decode_uint(subtype, b, offset, false)?;
            if !complete {
                return Ok(incomplete(rc));
            }
            Ok(Item {
                complete: true,
                value: ItemValue::Size(size.unwrap_or(0)),
                readcount: rc + 1,
                special: if major == MAJOR_ARRAY {
                    SPECIAL_START_ARRAY
                } else {
                    SPECIAL_START_MAP
                },
            })
        }
        MAJOR_SEMANTIC => {
            let (complete, tag, rc) = decode_uint(subtype, b, offset, false)?;
            if !complete {
                return Ok(incomplete(rc));
            }
            let tag = tag.unwrap_or(0);
            if tag == TAG_FINITE_SET {
                let inner = offset + rc as usize;
                if inner >= b.len() {
                    return Ok(incomplete(-1));
                }
                let it = decode_item(b, inner)?;
                if !it.complete {
                    return Ok(incomplete(it.readcount));
                }
                if it.special != SPECIAL_START_ARRAY {
                    return Err(DecodeError::new(
                        "expected array after finite set semantic tag",
                    ));
                }
                Ok(Item {
                    complete: true,
                    value: it.value,
                    readcount: rc + it.readcount + 1,
                    special: SPECIAL_START_SET,
                })
            } else {
                Err(err(format!("semantic tag {tag} not allowed")))
            }
        }
        MAJOR_SPECIAL => {
            let v = match subtype {
                20 => Value::Bool(false),
                21 => Value::Bool(true),
                22 => Value::None,
                31 => {
                    return Ok(Item {
                        complete: true,
                        value: ItemValue::None,
                        readcount: 1,
                        special: SPECIAL_INDEFINITE_BREAK,
                    })
                }
                _ => return Err(err(format!("special type {subtype} not allowed"))),
            };
            Ok(Item {
                complete: true,
                value: ItemValue::Value(v),
                readcount: 1,
                special: SPECIAL_NONE,
            })
        }
        _ => unreachable!("major type is 3 bits"),
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    None,
    WantMapKey,
    WantMapValue,
    WantArrayValue,
    WantSetValue,
    WantChunkFirst,
    WantChunkSubsequent,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    List,
    Dict,
    Set,
}

/// Collections under construction. Instead of Python's shared references we
/// keep the open containers on a stack and attach each to its parent when it
/// closes; the observable result is the same because a parent never reads a
/// child before it is complete.
struct Open {
    kind: Kind,
    remaining: u64,
    items: Vec<Value>,
    pairs: Vec<(Value, Value)>,
    /// Where this container goes in its parent once complete.
    slot: Slot,
    /// Positions of keys (maps) or members (sets) by hash: keeping a
    /// map's keys unique by scanning would make decoding a hostile map of
    /// n entries cost n² comparisons.
    index: KeyIndex,
}

enum Slot {
    Root,
    Append,
    /// The value of the parent map's entry at this position.
    MapValue(usize),
}

impl Open {
    /// Where an entry equal to `key` is (`d[key]` semantics).
    fn find(&self, key: &Value) -> Option<usize> {
        match self.kind {
            Kind::Dict => {
                let p = &self.pairs;
                self.index.find(Py::Three, p.len(), |i| &p[i].0, key)
            }
            _ => {
                let it = &self.items;
                self.index.find(Py::Three, it.len(), |i| &it[i], key)
            }
        }
    }

    /// Index the entry just pushed.
    fn remember_last(&mut self) {
        match self.kind {
            Kind::Dict => {
                let p = &self.pairs;
                self.index
                    .remember(Py::Three, p.len(), |i| &p[i].0, p.len() - 1)
            }
            _ => {
                let it = &self.items;
                self.index
                    .remember(Py::Three, it.len(), |i| &it[i], it.len() - 1)
            }
        }
    }

    /// `d[key] = value` (an equal key keeps its first key object); the
    /// entry's position.
    fn insert_pair(&mut self, key: Value, value: Value) -> usize {
        let len = self.pairs.len();
        let found = self.find(&key);
        if let Some(i) = found {
            self.pairs[i].1 = value;
            return i;
        }
        self.pairs.push((key, value));
        self.remember_last();
        len
    }

    /// `s.add(v)`.
    fn add_member(&mut self, v: Value) {
        let found = self.find(&v);
        if found.is_none() {
            self.items.push(v);
            self.remember_last();
        }
    }
}

/// What one decoded item is counted as holding, on top of its bytes: a
/// [`Value`] and a share of its container's spare capacity.
pub const ITEM_COST: u64 = 2 * std::mem::size_of::<Value>() as u64;

/// `cborutil.sansiodecoder`.
///
/// Unlike Python's, it can be bounded ([`SansIoDecoder::set_limit`]): it
/// then keeps an estimate of the memory its values hold (each item counts
/// [`ITEM_COST`] plus its bytes) and fails with [`PyExc::OverLimit`]
/// before the estimate passes the bound. Unbounded by default, as the
/// server reactors' port must be.
pub struct SansIoDecoder {
    state: State,
    stack: Vec<Open>,
    current_key: Option<Value>,
    decoded: Vec<Value>,
    pub decoded_byte_count: u64,
    limit: Option<u64>,
    /// Estimated bytes held by the value being built.
    open_cost: u64,
    /// Estimated bytes held by complete values not yet taken.
    done_cost: u64,
}

impl Default for SansIoDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl SansIoDecoder {
    pub fn new() -> Self {
        SansIoDecoder {
            state: State::None,
            stack: Vec::new(),
            current_key: None,
            decoded: Vec::new(),
            decoded_byte_count: 0,
            limit: None,
            open_cost: 0,
            done_cost: 0,
        }
    }

    /// Bound the memory the decoder may hold, in bytes (estimated: see
    /// [`ITEM_COST`]): the value being built plus the complete values not
    /// yet taken with [`SansIoDecoder::get_available`].
    pub fn set_limit(&mut self, bytes: u64) {
        self.limit = Some(bytes);
    }

    /// The estimated bytes the decoder holds now.
    pub fn held(&self) -> u64 {
        self.open_cost + self.done_cost
    }

    /// Whether a value is partially decoded.
    pub fn in_progress(&self) -> bool {
        self.state != State::None
    }

    /// Take the fully decoded values.
    pub fn get_available(&mut self) -> Vec<Value> {
        self.done_cost = 0;
        std::mem::take(&mut self.decoded)
    }

    /// Count `cost` more bytes, failing first if that passes the bound.
    fn charge(&mut self, cost: u64, done: bool) -> Result<(), DecodeError> {
        if let Some(limit) = self.limit {
            let needed = self.held().saturating_add(cost);
            if needed > limit {
                return Err(DecodeError::over_limit(
                    needed,
                    limit,
                    "the CBOR data decoded so far",
                ));
            }
        }
        if done {
            self.done_cost += cost;
        } else {
            self.open_cost += cost;
        }
        Ok(())
    }

    fn open(&mut self, kind: Kind, size: u64, slot: Slot) -> Result<(), DecodeError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(DecodeError(
                format!("collections nested deeper than {MAX_DEPTH} levels (an hgframe limit; Mercurial has none, but cannot render more than about 490 levels as JSON either)"),
                PyExc::RecursionError,
            ));
        }
        self.stack.push(Open {
            kind,
            remaining: size,
            items: Vec::new(),
            pairs: Vec::new(),
            slot,
            index: KeyIndex::default(),
        });
        Ok(())
    }

    fn close(&mut self) {
        let Some(c) = self.stack.pop() else { return };
        let v = match c.kind {
            Kind::List => Value::List(c.items),
            Kind::Set => Value::Set(c.items),
            Kind::Dict => Value::Dict(c.pairs),
        };
        match c.slot {
            Slot::Root => self.decoded.push(v),
            Slot::Append => {
                if let Some(p) = self.stack.last_mut() {
                    p.items.push(v);
                }
            }
            Slot::MapValue(i) => {
                if let Some(slot) = self.stack.last_mut().and_then(|p| p.pairs.get_mut(i)) {
                    slot.1 = v;
                }
            }
        }
    }

    fn top(&mut self) -> &mut Open {
        self.stack
            .last_mut()
            .expect("collection state implies an open collection")
    }

    /// `sansiodecoder.decode(b)`: (values available, bytes consumed, wanted).
    pub fn decode(&mut self, b: &[u8]) -> Result<(bool, usize, usize), DecodeError> {
        if b.is_empty() {
            return Ok((!self.decoded.is_empty(), 0, 0));
        }
        let mut offset = 0usize;
        while offset < b.len() {
            let item = decode_item(b, offset)?;
            if item.readcount > 0 {
                self.decoded_byte_count += item.readcount as u64;
            }
            if !item.complete {
                return Ok((
                    !self.decoded.is_empty(),
                    offset,
                    item.readcount.unsigned_abs() as usize,
                ));
            }
            offset += item.readcount as usize;
            let special = item.special;
            if self.limit.is_some() {
                let len = match &item.value {
                    ItemValue::Value(Value::Bytes(b)) => b.len() as u64,
                    _ => 0,
                };
                // Top-level scalars and bytestring chunks are complete
                // values as soon as they are read; everything else belongs
                // to the value under construction.
                let done = (self.state == State::None && special == SPECIAL_NONE)
                    || matches!(
                        self.state,
                        State::WantChunkFirst | State::WantChunkSubsequent
                    );
                self.charge(ITEM_COST + len, done)?;
            }
            let size = match &item.value {
                ItemValue::Size(s) => *s,
                _ => 0,
            };
            let value = match item.value {
                ItemValue::Value(v) => v,
                _ => Value::None,
            };
            match self.state {
                State::None => match special {
                    SPECIAL_NONE => self.decoded.push(value),
                    SPECIAL_START_ARRAY => {
                        self.open(Kind::List, size, Slot::Root)?;
                        self.state = State::WantArrayValue;
                    }
                    SPECIAL_START_MAP => {
                        self.open(Kind::Dict, size, Slot::Root)?;
                        self.state = State::WantMapKey;
                    }
                    SPECIAL_START_SET => {
                        self.open(Kind::Set, size, Slot::Root)?;
                        self.state = State::WantSetValue;
                    }
                    SPECIAL_START_INDEFINITE_BYTESTRING => {
                        self.state = State::WantChunkFirst;
                    }
                    _ => {
                        return Err(err(format!("unhandled special state: {special}")));
                    }
                },
                State::WantArrayValue => match special {
                    SPECIAL_NONE => {
                        let t = self.top();
                        t.items.push(value);
                        t.remaining -= 1;
                    }
                    SPECIAL_START_ARRAY | SPECIAL_START_MAP | SPECIAL_START_SET => {
                        self.top().remaining -= 1;
                        let (kind, st) = kind_state(special);
                        self.open(kind, size, Slot::Append)?;
                        if kind != Kind::List {
                            self.state = st;
                        }
                    }
                    SPECIAL_START_INDEFINITE_BYTESTRING => {
                        return Err(DecodeError::new(
                            "indefinite length bytestrings not allowed as array values",
                        ))
                    }
                    _ => {
                        return Err(err(format!(
                            "unhandled special item when expecting array value: {special}"
                        )))
                    }
                },
                State::WantMapKey => match special {
                    SPECIAL_NONE => {
                        self.current_key = Some(value);
                        self.state = State::WantMapValue;
                    }
                    SPECIAL_START_INDEFINITE_BYTESTRING => {
                        return Err(DecodeError::new(
                            "indefinite length bytestrings not allowed as map keys",
                        ))
                    }
                    SPECIAL_START_ARRAY | SPECIAL_START_MAP | SPECIAL_START_SET => {
                        return Err(DecodeError::new("collections not supported as map keys"))
                    }
                    _ => {
                        return Err(err(format!(
                            "unhandled special item when expecting map key: {special}"
                        )))
                    }
                },
                State::WantMapValue => {
                    let key = self.current_key.take().unwrap_or(Value::None);
                    match special {
                        SPECIAL_NONE => {
                            let t = self.top();
                            t.insert_pair(key, value);
                            t.remaining -= 1;
                            self.state = State::WantMapKey;
                        }
                        SPECIAL_START_ARRAY | SPECIAL_START_MAP | SPECIAL_START_SET => {
                            // Python inserts the (empty) container now: the key
                            // takes its position in the dict immediately.
                            let t = self.top();
                            let at = t.insert_pair(key, Value::None);
                            t.remaining -= 1;
                            let (kind, st) = kind_state(special);
                            self.open(kind, size, Slot::MapValue(at))?;
                            self.state = st;
                        }
                        SPECIAL_START_INDEFINITE_BYTESTRING => {
                            return Err(DecodeError::new(
                                "indefinite length bytestrings not allowed as map values",
                            ))
                        }
                        _ => {
                            return Err(err(format!(
                                "unhandled special item when expecting map value: {special}"
                            )))
                        }
                    }
                }
                State::WantSetValue => match special {
                    SPECIAL_NONE => {
                        let t = self.top();
                        t.add_member(value);
                        t.remaining -= 1;
                    }
                    SPECIAL_START_INDEFINITE_BYTESTRING => {
                        return Err(DecodeError::new(
                            "indefinite length bytestrings not allowed as set values",
                        ))
                    }
                    SPECIAL_START_ARRAY | SPECIAL_START_MAP | SPECIAL_START_SET => {
                        return Err(DecodeError::new("collections not allowed as set values"))
                    }
                    _ => {
                        return Err(err(format!(
                            "unhandled special item when expecting set value: {special}"
                        )))
                    }
                },
                State::WantChunkFirst | State::WantChunkSubsequent => {
                    let first = self.state == State::WantChunkFirst;
                    match special {
                        SPECIAL_NONE => {
                            // A non-bytes simple value becomes
                            // bytestringchunk(value): Python's bytes(n)
                            // makes n zero bytes.
                            let n = match value {
                                Value::Bytes(b) => Ok(b),
                                Value::Bool(b) => Ok(vec![0; b as usize]),
                                Value::Int(n) if n < 0 => {
                                    Err(DecodeError("negative count".into(), PyExc::ValueError))
                                }
                                Value::Int(n) if n <= (1 << 26) => {
                                    if self.limit.is_some() {
                                        self.charge(n as u64, true)?;
                                    }
                                    Ok(vec![0; n as usize])
                                }
                                Value::Int(_) => {
                                    Err(DecodeError(String::new(), PyExc::MemoryError))
                                }
                                other => Err(DecodeError(
                                    format!(
                                        "cannot convert '{}' object to bytes",
                                        other.type_name()
                                    ),
                                    PyExc::TypeError,
                                )),
                            };
                            let data = n?;
                            self.decoded.push(Value::Chunk {
                                data,
                                first,
                                last: false,
                            });
                            self.state = State::WantChunkSubsequent;
                        }
                        SPECIAL_INDEFINITE_BREAK => {
                            self.decoded.push(Value::Chunk {
                                data: Vec::new(),
                                first,
                                last: true,
                            });
                            self.state = State::None;
                        }
                        _ => {
                            return Err(err(format!(
                            "unexpected special value when expecting bytestring chunk: {special}"
                        )))
                        }
                    }
                }
            }
            // Close every collection that just became complete.
            loop {
                if !matches!(
                    self.state,
                    State::WantArrayValue | State::WantMapKey | State::WantSetValue
                ) {
                    break;
                }
                let Some(top) = self.stack.last() else { break };
                if top.remaining > 0 {
                    break;
                }
                self.close();
                self.state = match self.stack.last() {
                    Some(p) => match p.kind {
                        Kind::List => State::WantArrayValue,
                        Kind::Dict => State::WantMapKey,
                        Kind::Set => State::WantSetValue,
                    },
                    None => State::None,
                };
            }
            if self.state == State::None && self.stack.is_empty() {
                self.done_cost += std::mem::take(&mut self.open_cost);
            }
        }
        Ok((!self.decoded.is_empty(), offset, 0))
    }
}

fn kind_state(special: u8) -> (Kind, State) {
    match special {
        SPECIAL_START_ARRAY => (Kind::List, State::WantArrayValue),
        SPECIAL_START_MAP => (Kind::Dict, State::WantMapKey),
        _ => (Kind::Set, State::WantSetValue),
    }
}

/// `cborutil.bufferingdecoder`.
///
/// Bounded like [`SansIoDecoder`] when given a limit: the bytes it buffers
/// for an incomplete item count too, and an item that declares more bytes
/// than the bound is refused as soon as its header is read (a string
/// declaring 2**63 bytes fails at once instead of buffering forever).
#[derive(Default)]
pub struct BufferingDecoder {
    decoder: SansIoDecoder,
    chunks: Vec<u8>,
    have_chunks: bool,
    wanted: usize,
    limit: Option<u64>,
    /// Refuse an item as soon as its header declares more than the limit
    /// (a client's choice); off, only what is held counts (a server's
    /// emulation: Mercurial waits for the bytes, and input is bounded by
    /// the body size anyway).
    refuse_declared: bool,
}

impl BufferingDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// A decoder that fails with [`PyExc::OverLimit`] rather than hold
    /// more than `bytes` (estimated) in memory.
    pub fn with_limit(bytes: u64) -> Self {
        let mut d = Self::default();
        d.decoder.set_limit(bytes);
        d.limit = Some(bytes);
        d.refuse_declared = true;
        d
    }

    /// A decoder bounded in the values it builds (integer chunks' zero
    /// bytes included) but not in what a header declares: it waits for
    /// the bytes as Mercurial does, so an unfinished item behaves exactly
    /// as Mercurial's (the caller bounds its input).
    pub fn with_held_limit(bytes: u64) -> Self {
        let mut d = Self::default();
        d.decoder.set_limit(bytes);
        d
    }

    /// The estimated bytes held: values and buffered input.
    pub fn held(&self) -> u64 {
        self.decoder.held() + self.chunks.len() as u64
    }

    /// (values available, bytes of `b` consumed, wanted).
    pub fn decode(&mut self, b: &[u8]) -> Result<(bool, i64, usize), DecodeError> {
        let owned;
        let (buf, oldlen): (&[u8], usize) = if self.have_chunks {
            if b.len() < self.wanted {
                self.chunks.extend_from_slice(b);
                self.wanted -= b.len();
                return Ok((false, 0, self.wanted));
            }
            let mut joined = std::mem::take(&mut self.chunks);
            self.have_chunks = false;
            let oldlen = joined.len();
            joined.extend_from_slice(b);
            owned = joined;
            (&owned, oldlen)
        } else {
            (b, 0)
        };
        let (available, readcount, wanted) = self.decoder.decode(buf)?;
        self.wanted = wanted;
        if let (Some(limit), true) = (self.limit, self.refuse_declared) {
            // What the incomplete item will need once its bytes are in.
            let rest = (buf.len() - readcount) as u64;
            let needed = self
                .decoder
                .held()
                .saturating_add(rest)
                .saturating_add(wanted as u64);
            if needed > limit {
                return Err(DecodeError::over_limit(
                    needed,
                    limit,
                    "an incomplete CBOR item (its header declares the size)",
                ));
            }
        }
        if readcount < buf.len() {
            self.chunks.extend_from_slice(&buf[readcount..]);
            self.have_chunks = true;
        }
        Ok((available, readcount as i64 - oldlen as i64, wanted))
    }

    pub fn get_available(&mut self) -> Vec<Value> {
        self.decoder.get_available()
    }

    /// Whether input ended inside an item (bytes buffered, or a
    /// collection or indefinite byte string open).
    pub fn in_progress(&self) -> bool {
        self.have_chunks || self.decoder.in_progress()
    }
}

/// Decode one value of a simple, definite shape, or `None` to let the
/// general decoder handle it (and report errors exactly as Mercurial does).
/// Gives the same value the general decoder would.
fn fast_value(b: &[u8], depth: usize) -> Option<(Value, usize)> {
    if depth > 16 {
        return None;
    }
    let (major, sub, arg, hdr) = fast_head(b)?;
    match major {
        MAJOR_UINT => Some((Value::Int(arg as i128), hdr)),
        MAJOR_NEGINT => Some((Value::Int(-(arg as i128) - 1), hdr)),
        MAJOR_BYTES => {
            let end = hdr.checked_add(usize::try_from(arg).ok()?)?;
            Some((Value::Bytes(b.get(hdr..end)?.to_vec()), end))
        }
        MAJOR_ARRAY => {
            let n = usize::try_from(arg).ok().filter(|n| *n <= 1024)?;
            let mut items = Vec::with_capacity(n);
            let mut pos = hdr;
            for _ in 0..n {
                let (v, used) = fast_value(b.get(pos..)?, depth + 1)?;
                items.push(v);
                pos += used;
            }
            Some((Value::List(items), pos))
        }
        MAJOR_MAP => {
            let n = usize::try_from(arg).ok().filter(|n| *n <= 64)?;
            let mut pairs: Vec<(Value, Value)> = Vec::with_capacity(n);
            let mut pos = hdr;
            for _ in 0..n {
                let (k, used) = fast_value(b.get(pos..)?, depth + 1)?;
                pos += used;
                // keys: bytes only here, and no duplicates (else the general
                // decoder applies Python's dict semantics)
                let kb = k.as_bytes()?;
                if pairs.iter().any(|(x, _)| x.as_bytes() == Some(kb)) {
                    return None;
                }
                let (v, used) = fast_value(b.get(pos..)?, depth + 1)?;
                pos += used;
                pairs.push((k, v));
            }
            Some((Value::Dict(pairs), pos))
        }
        MAJOR_SPECIAL => match sub {
            20 => Some((Value::Bool(false), 1)),
            21 => Some((Value::Bool(true), 1)),
            22 => Some((Value::None, 1)),
            _ => None,
        },
        _ => None,
    }
}

/// The head of an item as [`fast_value`] reads it: major type, subtype,
/// argument, header length; `None` for an indefinite length (or a head
/// cut short).
#[inline]
fn fast_head(b: &[u8]) -> Option<(u8, u8, u64, usize)> {
    let initial = *b.first()?;
    let (major, sub) = (initial >> 5, initial & 0x1f);
    let (arg, hdr) = match sub {
        0..=23 => (sub as u64, 1),
        24 => (*b.get(1)? as u64, 2),
        25 => (u16::from_be_bytes([*b.get(1)?, *b.get(2)?]) as u64, 3),
        26 => (u32::from_be_bytes(b.get(1..5)?.try_into().ok()?) as u64, 5),
        27 => (u64::from_be_bytes(b.get(1..9)?.try_into().ok()?), 9),
        _ if major == MAJOR_SPECIAL => (0, 1),
        _ => return None,
    };
    Some((major, sub, arg, hdr))
}

/// Some entries of a payload that is one map the fast path decodes
/// (definite, at most 64 entries, byte-string keys in strictly ascending
/// order — Mercurial's encoding — and values of the fast path's shapes),
/// within `limit`: for each of `keys`, the value of its entry, if any.
/// [`decode_all_limited`] gives that same map for such a payload; the
/// keys and the entries not asked for are not kept (a command request's
/// map is decoded only for its `name`, `args` and `redirect`). `None` for
/// any other payload: decode it with [`decode_all_limited`].
pub fn fast_map_values<const N: usize>(
    b: &[u8],
    limit: u64,
    keys: [&[u8]; N],
) -> Option<[Option<Value>; N]> {
    if (b.len() as u64).saturating_mul(ITEM_COST + 1) > limit {
        return None;
    }
    let (major, _, arg, hdr) = fast_head(b)?;
    let n = usize::try_from(arg).ok().filter(|n| *n <= 64)?;
    if major != MAJOR_MAP {
        return None;
    }
    let mut found: [Option<Value>; N] = std::array::from_fn(|_| None);
    let mut prev: Option<&[u8]> = None;
    let mut pos = hdr;
    for _ in 0..n {
        let rest = b.get(pos..)?;
        let (kmajor, _, klen, khdr) = fast_head(rest)?;
        if kmajor != MAJOR_BYTES {
            return None;
        }
        let end = khdr.checked_add(usize::try_from(klen).ok()?)?;
        let k = rest.get(khdr..end)?;
        // Ascending keys cannot repeat (a repeated key: the general path).
        if prev.is_some_and(|p| p >= k) {
            return None;
        }
        prev = Some(k);
        pos += end;
        let (v, used) = fast_value(b.get(pos..)?, 1)?;
        pos += used;
        if let Some(i) = keys.iter().position(|want| *want == k) {
            found[i] = Some(v);
        }
    }
    (pos == b.len()).then_some(found)
}

/// `cborutil.decodeall`.
pub fn decode_all(b: &[u8]) -> Result<Vec<Value>, DecodeError> {
    if b.is_empty() {
        return Ok(Vec::new());
    }
    // Fast path for the common shape (one definite map/array of bytes,
    // ints, bools, None); anything else goes through the exact port below.
    if let Some((v, used)) = fast_value(b, 0) {
        if used == b.len() {
            return Ok(vec![v]);
        }
    }
    let mut d = SansIoDecoder::new();
    let (_, readcount, _) = d.decode(b)?;
    if readcount != b.len() {
        return Err(DecodeError::new("input data not fully consumed"));
    }
    if d.in_progress() {
        return Err(DecodeError::new("input data not complete"));
    }
    Ok(d.get_available())
}

/// `cborutil.decodeall` under hgframe's memory bound: fails with
/// [`PyExc::OverLimit`] rather than hold more than `limit` bytes
/// (estimated, see [`ITEM_COST`]) of values.
pub fn decode_all_limited(b: &[u8], limit: u64) -> Result<Vec<Value>, DecodeError> {
    if b.is_empty() {
        return Ok(Vec::new());
    }
    // Every item the fast path builds takes at least one input byte, so
    // below this size it cannot pass the bound.
    if (b.len() as u64).saturating_mul(ITEM_COST + 1) <= limit {
        if let Some((v, used)) = fast_value(b, 0) {
            if used == b.len() {
                return Ok(vec![v]);
            }
        }
    }
    let mut d = SansIoDecoder::new();
    d.set_limit(limit);
    let (_, readcount, _) = d.decode(b)?;
    if readcount != b.len() {
        return Err(DecodeError::new("input data not fully consumed"));
    }
    if d.in_progress() {
        return Err(DecodeError::new("input data not complete"));
    }
    Ok(d.get_available())
}

/// `streamencode(v)` as the sequence of chunks its generator yields (the
/// response emitter's framing depends on chunk boundaries).
pub fn encode_chunks(v: &Value, out: &mut Vec<Vec<u8>>) -> Result<(), EncodeError> {
    let mixed_type_lt = |a: &Value, b: &Value| mixed_type_lt_in(Py::Three, a, b);
    let mut head = Vec::new();
    match v {
        Value::Bytes(b) | Value::Chunk { data: b, .. } => {
            encode_length(MAJOR_BYTES, b.len() as u64, &mut head);
            out.push(head);
            out.push(b.clone());
        }
        Value::List(items) | Value::Tuple(items) => {
            encode_length(MAJOR_ARRAY, items.len() as u64, &mut head);
            out.push(head);
            for i in items {
                encode_chunks(i, out)?;
            }
        }
        Value::Set(items) => {
            encode_length(MAJOR_SEMANTIC, TAG_FINITE_SET, &mut head);
            out.push(head);
            let sorted = py_sorted_by(items.iter().collect(), |a, b| mixed_type_lt(a, b))
                .map_err(|e| EncodeError::Unorderable(e.0))?;
            let mut h2 = Vec::new();
            encode_length(MAJOR_ARRAY, sorted.len() as u64, &mut h2);
            out.push(h2);
            for i in sorted {
                encode_chunks(i, out)?;
            }
        }
        Value::Dict(pairs) => {
            encode_length(MAJOR_MAP, pairs.len() as u64, &mut head);
            out.push(head);
            let sorted = py_sorted_by(pairs.iter().collect(), |a, b| mixed_type_lt(&a.0, &b.0))
                .map_err(|e| EncodeError::Unorderable(e.0))?;
            for (k, v) in sorted {
                encode_chunks(k, out)?;
                encode_chunks(v, out)?;
            }
        }
        other => out.push(encode(other)?),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::python::escape::hex;

    #[test]
    fn encodes_like_mercurial() {
        assert_eq!(hex(&encode(&Value::Int(-342542)).unwrap()), "3a00053a0d");
        assert_eq!(hex(&encode(&Value::Int(1048576)).unwrap()), "1a00100000");
        let d = Value::dict([("foo", Value::bytes("val1")), ("bar", Value::bytes("val2"))]);
        assert_eq!(
            hex(&encode(&d).unwrap()),
            "a2436261724476616c3243666f6f4476616c31"
        );
        assert!(encode(&Value::Int(1 << 64)).is_err());
        assert_eq!(
            hex(&encode(&Value::Int(-(1 << 64))).unwrap()),
            "3bffffffffffffffff"
        );
        assert_eq!(
            hex(&encode(&Value::Set(vec![Value::Int(2), Value::Int(1)])).unwrap()),
            "d9010282 0102".replace(' ', "")
        );
        assert!(encode(&Value::Str(b"x".to_vec())).is_err());
    }

    #[test]
    fn decodes_like_mercurial() {
        let v = decode_all(
            &crate::python::escape::unhex("a2436261724476616c3243666f6f4476616c31").unwrap(),
        )
        .unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(
            decode_all(b"badvalue").unwrap_err().to_string(),
            "string major type not supported"
        );
        assert_eq!(
            decode_all(&[0x43, b'a']).unwrap_err().to_string(),
            "input data not fully consumed"
        );
        assert_eq!(
            decode_all(&[0x82, 0x01]).unwrap_err().to_string(),
            "input data not complete"
        );
        // nested containers and map key ordering preserved
        let v = decode_all(&[0xa2, 0x41, b'b', 0x81, 0x01, 0x41, b'a', 0xa0]).unwrap();
        assert_eq!(
            v[0],
            Value::Dict(vec![
                (Value::bytes("b"), Value::List(vec![Value::Int(1)])),
                (Value::bytes("a"), Value::Dict(vec![]))
            ])
        );
        // indefinite bytestring -> chunks
        let v = decode_all(&[0x5f, 0x41, b'a', 0xff]).unwrap();
        assert_eq!(v.len(), 2);
    }

    /// The fast path must agree with the exact port wherever it answers.
    #[test]
    fn fast_path_agrees_with_the_port() {
        let general = |b: &[u8]| -> Option<Vec<Value>> {
            let mut d = SansIoDecoder::new();
            let (_, n, _) = d.decode(b).ok()?;
            (n == b.len() && !d.in_progress()).then(|| d.get_available())
        };
        let mut next = crate::python::testing::xorshift(0x9e3779b97f4a7c15);
        let mut checked = 0;
        for round in 0..200_000 {
            let seed = next();
            let len = (seed % 12) as usize;
            // bias towards plausible headers
            let alphabet = [
                0xa1u8, 0xa2, 0x81, 0x82, 0x41, 0x42, 0x43, 0x00, 0x01, 0x18, 0x20, 0xf4, 0xf5,
                0xf6, 0x40, 0x80, 0xa0, 0x61, 0xd9, 0x5f, 0xff,
            ];
            let b: Vec<u8> = (0..len)
                .map(|i| {
                    let x = (seed >> (i * 5)) as usize ^ round;
                    if x.is_multiple_of(3) {
                        x as u8
                    } else {
                        alphabet[x % alphabet.len()]
                    }
                })
                .collect();
            if let Some((v, used)) = fast_value(&b, 0) {
                if used == b.len() {
                    assert_eq!(general(&b), Some(vec![v]), "{b:02x?}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 1000, "{checked}");
    }

    /// Differential: wherever `fast_map_values` answers, the general
    /// decoder gives one map holding exactly those entries for the keys
    /// asked (and none for the keys it says are missing).
    #[test]
    fn fast_map_values_agree_with_decodeall() {
        let keys: [&[u8]; 3] = [b"a", b"b", b"ab"];
        let mut next = crate::python::testing::xorshift(0x2545_f491_4f6c_dd1d);
        let (mut checked, mut with_all) = (0, 0);
        let ks: [&[u8]; 5] = [b"\x41a", b"\x41b", b"\x42ab", b"\x41c", b"\x40"];
        let vs: [&[u8]; 9] = [
            b"\x01",
            b"\x20",
            b"\xf6",
            b"\x41x",
            b"\x80",
            b"\xa0",
            b"\x81\x01",
            b"\xa1\x41a\x02",
            b"\x61",
        ];
        for _ in 0..300_000usize {
            // A map of 0-4 entries, keys and values from small pools (in
            // any order, repeated or not), now and then a byte changed,
            // cut or added.
            let n = next() % 5;
            let mut b = vec![0xa0 + n as u8];
            for _ in 0..n {
                b.extend_from_slice(ks[next() as usize % ks.len()]);
                b.extend_from_slice(vs[next() as usize % vs.len()]);
            }
            match next() % 8 {
                0 if !b.is_empty() => {
                    let i = next() as usize % b.len();
                    b[i] = next() as u8;
                }
                1 => b.truncate(next() as usize % (b.len() + 1)),
                2 => b.push(next() as u8),
                _ => {}
            }
            let Some(found) = fast_map_values(&b, 1 << 20, keys) else {
                continue;
            };
            let Ok(mut vals) = decode_all_limited(&b, 1 << 20) else {
                panic!("{b:02x?}: the fast path answered, decodeall raises");
            };
            assert_eq!(vals.len(), 1, "{b:02x?}");
            let Some(Value::Dict(pairs)) = vals.pop() else {
                panic!("{b:02x?}: not a map");
            };
            for (k, got) in keys.iter().zip(&found) {
                let want = pairs
                    .iter()
                    .find(|(pk, _)| pk.as_bytes() == Some(*k))
                    .map(|(_, v)| v);
                assert_eq!(got.as_ref(), want, "{b:02x?} {k:?}");
            }
            checked += 1;
            with_all += found.iter().all(Option::is_some) as usize;
        }
        assert!(checked > 50_000 && with_all > 100, "{checked} {with_all}");
        // Over the bound, or not a map, or keys out of order: not answered.
        assert!(fast_map_values(b"\xa1\x41a\x01", 10, keys).is_none());
        assert!(fast_map_values(b"\x81\x01", 1 << 20, keys).is_none());
        assert!(fast_map_values(b"\xa2\x41b\x01\x41a\x02", 1 << 20, keys).is_none());
        assert_eq!(
            fast_map_values(b"\xa2\x41a\x01\x41b\x02", 1 << 20, keys),
            Some([Some(Value::Int(1)), Some(Value::Int(2)), None])
        );
    }

    /// Maps and sets big enough to be indexed keep Python's semantics:
    /// `1 == True` collide (the first key object stays, the last value
    /// wins), bytes keys by value, insertion order kept.
    #[test]
    fn indexed_maps_and_sets_match_python_semantics() {
        use crate::python::value::{dict_insert, set_add};
        let mut next = crate::python::testing::xorshift(0x1234_5678_9abc_def0);
        for round in 0..300 {
            let n = 1 + (next() % 80) as usize;
            let keys: Vec<Value> = (0..n)
                .map(|_| match next() % 5 {
                    0 => Value::Int((next() % 6) as i128),
                    1 => Value::Bool(next().is_multiple_of(2)),
                    2 => Value::None,
                    3 => Value::Int(-((next() % 3) as i128)),
                    _ => Value::Bytes(vec![b'k', (next() % 20) as u8]),
                })
                .collect();
            // a map: key i -> i
            let mut b = Vec::new();
            encode_length(MAJOR_MAP, n as u64, &mut b);
            let mut want = Vec::new();
            for (i, k) in keys.iter().enumerate() {
                encode_into(k, &mut b).unwrap();
                encode_into(&Value::Int(i as i128), &mut b).unwrap();
                dict_insert(&mut want, k.clone(), Value::Int(i as i128));
            }
            let got = decode_all_limited(&b, u64::MAX).unwrap();
            match &got[..] {
                [Value::Dict(d)] => {
                    assert_eq!(d.len(), want.len(), "round {round}");
                    for ((gk, gv), (wk, wv)) in d.iter().zip(&want) {
                        assert_eq!(gk.type_name(), wk.type_name(), "round {round}");
                        assert!(gk.py_eq(wk) && gv.py_eq(wv), "round {round}");
                    }
                }
                other => panic!("{other:?}"),
            }
            // a set of the same members
            let mut b = Vec::new();
            encode_length(MAJOR_SEMANTIC, TAG_FINITE_SET, &mut b);
            encode_length(MAJOR_ARRAY, n as u64, &mut b);
            let mut want = Vec::new();
            for k in &keys {
                encode_into(k, &mut b).unwrap();
                set_add(&mut want, k.clone());
            }
            match &decode_all(&b).unwrap()[..] {
                [Value::Set(s)] => {
                    assert_eq!(s.len(), want.len(), "round {round}");
                    for (g, w) in s.iter().zip(&want) {
                        assert!(g.py_eq(w) && g.type_name() == w.type_name());
                    }
                }
                other => panic!("{other:?}"),
            }
        }
    }

    /// A nested collection as a map value lands on its own key even when
    /// the map is indexed and the key repeats an earlier one.
    #[test]
    fn nested_values_of_indexed_maps() {
        let mut b = Vec::new();
        encode_length(MAJOR_MAP, 40, &mut b);
        for i in 0..39 {
            encode_into(&Value::Int(i), &mut b).unwrap();
            encode_into(&Value::Int(i), &mut b).unwrap();
        }
        // key 5 again, with a list value
        encode_into(&Value::Int(5), &mut b).unwrap();
        encode_into(&Value::List(vec![Value::Bool(true)]), &mut b).unwrap();
        let v = decode_all(&b).unwrap();
        let Value::Dict(d) = &v[0] else { panic!() };
        assert_eq!(d.len(), 39);
        assert!(d[5].1.py_eq(&Value::List(vec![Value::Bool(true)])));
        assert!(d[6].1.py_eq(&Value::Int(6)));
    }

    /// The bound counts what a decoder holds, and a declared size past it
    /// fails before any of its bytes arrive.
    #[test]
    fn the_bound_holds() {
        let mut d = BufferingDecoder::with_limit(1000);
        // a 2000-byte string: refused at its header
        let e = d.decode(&[0x59, 0x07, 0xd0, b'x']).unwrap_err();
        assert!(e.is_over_limit(), "{e}");
        // 900 bytes of tiny values: over the bound, because each costs a value
        let mut d = BufferingDecoder::with_limit(1000);
        let e = d.decode(&[0u8; 900]).unwrap_err();
        assert!(e.is_over_limit());
        // taking values frees the budget
        let mut d = BufferingDecoder::with_limit(1000);
        for _ in 0..100 {
            d.decode(&[0u8; 3]).unwrap();
            assert_eq!(d.get_available().len(), 3);
        }
        // an indefinite byte string's chunks count while they wait
        let mut d = BufferingDecoder::with_limit(1000);
        d.decode(&[0x5f]).unwrap();
        let mut chunk = vec![0x58, 200];
        chunk.extend([b'a'; 200]);
        let mut err = None;
        for _ in 0..10 {
            if let Err(e) = d.decode(&chunk) {
                err = Some(e);
                break;
            }
        }
        assert!(err.is_some_and(|e| e.is_over_limit()));
        // unbounded by default, as the server reactors' port must be
        let mut d = BufferingDecoder::new();
        d.decode(&[0u8; 100_000]).unwrap();
        assert_eq!(d.get_available().len(), 100_000);
    }

    #[test]
    fn buffering_across_frames() {
        let mut d = BufferingDecoder::new();
        d.decode(&[0xa1, 0x50]).unwrap();
        d.decode(b"contentencodings").unwrap();
        d.decode(&[0x81, 0x48]).unwrap();
        d.decode(b"identity").unwrap();
        let v = d.get_available();
        assert_eq!(v.len(), 1);
    }
}
