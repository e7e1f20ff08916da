//! The Python value model Mercurial's framing code works with.
//!
//! Frame payloads in 0006 are CBOR, and what Mercurial does with them is
//! decided by Python semantics: `1 == True` so they collide as dict keys,
//! a dict keeps its first key object, `b'name' in x` means substring for
//! bytes and membership for lists. [`Value`] carries just the types that
//! occur (what `ast.literal_eval` and `cborutil` produce) and implements
//! those semantics, so the reactor can predict the server exactly.

use std::cmp::Ordering;

use super::Py;

/// A Python value as Mercurial's framing code sees it.
#[derive(Debug, Clone)]
pub enum Value {
    None,
    Bool(bool),
    /// Python ints are unbounded; CBOR's range fits in i128.
    Int(i128),
    Bytes(Vec<u8>),
    /// `cborutil.bytestringchunk`: one chunk of an indefinite-length
    /// bytestring (a `bytes` subclass).
    Chunk {
        data: Vec<u8>,
        first: bool,
        last: bool,
    },
    List(Vec<Value>),
    Tuple(Vec<Value>),
    /// Insertion-ordered, Python key semantics (see [`Value::dict_insert`]).
    Dict(Vec<(Value, Value)>),
    /// Insertion-ordered, no two elements equal.
    Set(Vec<Value>),
    /// Text (`str` on Python 3, `unicode` on Python 2) as UTF-8 that may
    /// hold encoded surrogates (Python 2's codec lets them through). From
    /// literals, and from the bundled `cbor2` of 0005 servers; `cborutil`
    /// rejects it.
    Str(Vec<u8>),
    /// From literals and from the bundled `cbor2`; `cborutil` rejects it.
    Float(f64),
    /// A Python int outside `i128` (cbor2's bignum tags, Python 2 literals).
    /// Values that fit in `i128` are always [`Value::Int`].
    Big(BigInt),
    /// `bytearray`: what cbor2 makes of an indefinite-length bytestring.
    ByteArray(Vec<u8>),
    /// Another object cbor2 decodes (a `CBORTag`, `undefined`, a
    /// `CBORSimpleValue`, a datetime, ...): hashable, not iterable, and
    /// refused by `json.dumps`. Holds its type name and repr.
    Opaque(&'static str, String),
}

/// A Python int beyond `i128`: sign and big-endian magnitude without
/// leading zero bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BigInt {
    pub neg: bool,
    pub mag: Vec<u8>,
}

impl BigInt {
    /// `-mag` or `mag` as a value ([`Value::Int`] when it fits).
    pub fn value(neg: bool, mag: &[u8]) -> Value {
        let start = mag.iter().position(|&b| b != 0).unwrap_or(mag.len());
        let mag = &mag[start..];
        if mag.len() <= 16 {
            let mut u: u128 = 0;
            for &b in mag {
                u = u << 8 | b as u128;
            }
            if !neg && u <= i128::MAX as u128 {
                return Value::Int(u as i128);
            }
            if neg && u <= i128::MAX as u128 + 1 {
                return Value::Int((u as i128).wrapping_neg());
            }
        }
        Value::Big(BigInt {
            neg,
            mag: mag.to_vec(),
        })
    }

    /// Parse digits (no sign, no underscores) in a radix up to 16.
    pub fn parse(neg: bool, digits: &str, radix: u32) -> Option<Value> {
        let mut mag: Vec<u8> = Vec::new();
        for c in digits.chars() {
            let d = c.to_digit(radix)?;
            // mag = mag * radix + d
            let mut carry = d;
            for b in mag.iter_mut().rev() {
                let x = *b as u32 * radix + carry;
                *b = x as u8;
                carry = x >> 8;
            }
            while carry > 0 {
                mag.insert(0, carry as u8);
                carry >>= 8;
            }
        }
        Some(BigInt::value(neg, &mag))
    }

    /// Python's `str(n)`.
    pub fn to_decimal(&self) -> String {
        let mut mag = self.mag.clone();
        let mut digits = Vec::new();
        while mag.iter().any(|&b| b != 0) {
            let mut rem = 0u32;
            for b in mag.iter_mut() {
                let x = rem << 8 | *b as u32;
                *b = (x / 10) as u8;
                rem = x % 10;
            }
            digits.push(b'0' + rem as u8);
        }
        if digits.is_empty() {
            digits.push(b'0');
        }
        if self.neg {
            digits.push(b'-');
        }
        digits.reverse();
        String::from_utf8(digits).unwrap_or_default()
    }
}

/// An int of either representation, for comparisons.
fn int_parts(v: &Value) -> Option<(bool, Vec<u8>)> {
    match v {
        Value::Bool(b) => Some((false, vec![*b as u8])),
        Value::Int(i) => Some((*i < 0, i.unsigned_abs().to_be_bytes().to_vec())),
        Value::Big(b) => Some((b.neg, b.mag.clone())),
        _ => None,
    }
}

fn int_cmp(a: &(bool, Vec<u8>), b: &(bool, Vec<u8>)) -> Ordering {
    fn strip(m: &[u8]) -> &[u8] {
        let s = m.iter().position(|&x| x != 0).unwrap_or(m.len());
        &m[s..]
    }
    let (am, bm) = (strip(&a.1), strip(&b.1));
    let mag = am.len().cmp(&bm.len()).then_with(|| am.cmp(bm));
    match (a.0 && !am.is_empty(), b.0 && !bm.is_empty()) {
        (false, false) => mag,
        (true, true) => mag.reverse(),
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
    }
}

/// Python raised `TypeError` comparing or hashing values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PyTypeError(pub String);

impl Value {
    pub fn bytes(b: impl Into<Vec<u8>>) -> Value {
        Value::Bytes(b.into())
    }

    /// Build a dict from bytes keys (no duplicates expected).
    pub fn dict<K: Into<Vec<u8>>>(items: impl IntoIterator<Item = (K, Value)>) -> Value {
        let mut d = Vec::new();
        for (k, v) in items {
            dict_insert(&mut d, Value::Bytes(k.into()), v);
        }
        Value::Dict(d)
    }

    /// Python's `type(v).__name__`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::None => "NoneType",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Bytes(_) => "bytes",
            Value::Chunk { .. } => "bytestringchunk",
            Value::List(_) => "list",
            Value::Tuple(_) => "tuple",
            Value::Dict(_) => "dict",
            Value::Set(_) => "set",
            Value::Str(_) => "str",
            Value::Float(_) => "float",
            Value::Big(_) => "int",
            Value::ByteArray(_) => "bytearray",
            Value::Opaque(t, _) => t,
        }
    }

    /// `type(v).__name__` under a Python version: Python 2 calls bytes
    /// `str`, text `unicode`, and ints beyond a C long `long`.
    pub fn type_name_in(&self, py: Py) -> &'static str {
        match (py, self) {
            (Py::Three, _) => self.type_name(),
            (Py::Two, Value::Bytes(_)) => "str",
            (Py::Two, Value::Chunk { .. }) => "bytestringchunk",
            (Py::Two, Value::Str(_)) => "unicode",
            (Py::Two, Value::Int(i)) if i64::try_from(*i).is_err() => "long",
            (Py::Two, Value::Big(_)) => "long",
            (Py::Two, _) => self.type_name(),
        }
    }

    /// Python's `bool(v)`: false for None, False, 0, and empty bytes,
    /// strings and collections.
    pub fn truthy(&self) -> bool {
        match self {
            Value::None => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Bytes(b) | Value::Chunk { data: b, .. } | Value::ByteArray(b) => !b.is_empty(),
            Value::Str(s) => !s.is_empty(),
            Value::List(x) | Value::Tuple(x) | Value::Set(x) => !x.is_empty(),
            Value::Dict(d) => !d.is_empty(),
            Value::Big(b) => b.mag.iter().any(|&x| x != 0),
            // An object of an unknown type: Python's default is true.
            Value::Opaque(..) => true,
        }
    }

    /// The bytes of a `bytes` (or bytes subclass) value.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            Value::Chunk { data, .. } => Some(data),
            _ => None,
        }
    }

    fn numeric(&self) -> Option<f64> {
        match self {
            Value::Bool(b) => Some(*b as i32 as f64),
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            Value::Big(b) => {
                let m = b.mag.iter().fold(0f64, |acc, &x| acc * 256.0 + x as f64);
                Some(if b.neg { -m } else { m })
            }
            _ => None,
        }
    }

    fn int_like(&self) -> Option<i128> {
        match self {
            Value::Bool(b) => Some(*b as i128),
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// Python 3 `==`.
    pub fn py_eq(&self, other: &Value) -> bool {
        self.py_eq_in(Py::Three, other)
    }

    /// Python `==` under a Python version: on Python 2 a byte string equals
    /// the text of the same ASCII characters (`'a' == u'a'`, one dict key).
    pub fn py_eq_in(&self, py: Py, other: &Value) -> bool {
        use Value::*;
        if let (Some(a), Some(b)) = (self.int_like(), other.int_like()) {
            return a == b;
        }
        if matches!(self, Big(_)) || matches!(other, Big(_)) {
            if let (Some(a), Some(b)) = (int_parts(self), int_parts(other)) {
                return int_cmp(&a, &b) == Ordering::Equal;
            }
        }
        if py == Py::Two {
            match (self, other) {
                (Str(t), b) | (b, Str(t)) if b.as_bytes().is_some() => {
                    let b = b.as_bytes().unwrap_or_default();
                    return b.is_ascii() && b == t.as_slice();
                }
                _ => {}
            }
        }
        if let (Some(a), Some(b)) = (self.numeric(), other.numeric()) {
            return a == b;
        }
        if let (Some(a), Some(b)) = (self.as_bytes(), other.as_bytes()) {
            return a == b;
        }
        match (self, other) {
            (None, None) => true,
            (List(a), List(b)) | (Tuple(a), Tuple(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.py_eq_in(py, y))
            }
            (Dict(a), Dict(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .all(|(k, v)| dict_get_in(py, b, k).is_some_and(|w| w.py_eq_in(py, v)))
            }
            (Set(a), Set(b)) => {
                a.len() == b.len() && a.iter().all(|x| b.iter().any(|y| x.py_eq_in(py, y)))
            }
            (Str(a), Str(b)) => a == b,
            (ByteArray(a), ByteArray(b)) => a == b,
            (ByteArray(a), b) | (b, ByteArray(a)) if b.as_bytes().is_some() => {
                Some(a.as_slice()) == b.as_bytes()
            }
            // cbor2's singletons: `undefined` and the break marker.
            (Opaque("UndefinedType", _), Opaque("UndefinedType", _))
            | (Opaque("object", _), Opaque("object", _)) => true,
            // cbor2's other objects compare by identity (each decoded one
            // is new), or by a value hgframe does not keep.
            _ => false,
        }
    }

    /// Whether Python can hash it (usable as dict key / set element).
    pub fn check_hashable(&self) -> Result<(), PyTypeError> {
        match self {
            Value::List(_) | Value::Dict(_) | Value::Set(_) | Value::ByteArray(_) => Err(
                PyTypeError(format!("unhashable type: '{}'", self.type_name())),
            ),
            Value::Tuple(items) => items.iter().try_for_each(|v| v.check_hashable()),
            _ => Ok(()),
        }
    }

    /// Python 3 `<` (raises `TypeError` for unorderable pairs).
    pub fn py_lt(&self, other: &Value) -> Result<bool, PyTypeError> {
        use Value::*;
        if let (Some(a), Some(b)) = (self.int_like(), other.int_like()) {
            return Ok(a < b);
        }
        if let (Some(a), Some(b)) = (int_parts(self), int_parts(other)) {
            return Ok(int_cmp(&a, &b) == Ordering::Less);
        }
        if let (Some(a), Some(b)) = (self.numeric(), other.numeric()) {
            return Ok(a < b);
        }
        if let (Some(a), Some(b)) = (self.as_bytes(), other.as_bytes()) {
            return Ok(a < b);
        }
        match (self, other) {
            (Str(a), Str(b)) => Ok(a < b),
            (List(a), List(b)) | (Tuple(a), Tuple(b)) => {
                for (x, y) in a.iter().zip(b) {
                    if !x.py_eq(y) {
                        return x.py_lt(y);
                    }
                }
                Ok(a.len() < b.len())
            }
            _ => Err(PyTypeError(format!(
                "'<' not supported between instances of '{}' and '{}'",
                self.type_name(),
                other.type_name()
            ))),
        }
    }

    /// Python 2's `cmp(self, other) < 0`: never raises for the types here
    /// except `str` against non-ASCII `unicode` (the coercion fails).
    /// Mixed types order `None` first, numbers next, then by type name.
    pub fn py2_lt(&self, other: &Value) -> Result<bool, PyTypeError> {
        Ok(self.py2_cmp(other)? == Ordering::Less)
    }

    fn py2_cmp(&self, other: &Value) -> Result<Ordering, PyTypeError> {
        use Value::*;
        if let (Some(a), Some(b)) = (int_parts(self), int_parts(other)) {
            return Ok(int_cmp(&a, &b));
        }
        if let (Some(a), Some(b)) = (self.numeric(), other.numeric()) {
            return Ok(a.partial_cmp(&b).unwrap_or(Ordering::Equal));
        }
        match (self, other) {
            (None, None) => return Ok(Ordering::Equal),
            (None, _) => return Ok(Ordering::Less),
            (_, None) => return Ok(Ordering::Greater),
            _ => {}
        }
        match (self.numeric().is_some(), other.numeric().is_some()) {
            (true, false) => return Ok(Ordering::Less),
            (false, true) => return Ok(Ordering::Greater),
            _ => {}
        }
        if let (Some(a), Some(b)) = (self.as_bytes(), other.as_bytes()) {
            return Ok(a.cmp(b));
        }
        match (self, other) {
            (Str(a), Str(b)) => return Ok(a.cmp(b)),
            (Str(t), b) | (b, Str(t)) if b.as_bytes().is_some() => {
                let bb = b.as_bytes().unwrap_or_default();
                if !bb.is_ascii() {
                    return Err(PyTypeError(
                        "UnicodeDecodeError: 'ascii' codec can't decode a byte string compared with unicode".into(),
                    ));
                }
                let o = bb.cmp(t.as_slice());
                return Ok(if matches!(self, Str(_)) {
                    o.reverse()
                } else {
                    o
                });
            }
            (List(a), List(b)) | (Tuple(a), Tuple(b)) => {
                for (x, y) in a.iter().zip(b) {
                    let o = x.py2_cmp(y)?;
                    if o != Ordering::Equal {
                        return Ok(o);
                    }
                }
                return Ok(a.len().cmp(&b.len()));
            }
            _ => {}
        }
        let (ta, tb) = (self.type_name_in(Py::Two), other.type_name_in(Py::Two));
        Ok(ta.cmp(tb))
    }

    /// Python `needle in self` for a bytes needle (`__contains__`).
    pub fn py_contains_bytes(&self, needle: &[u8]) -> Result<bool, PyTypeError> {
        self.py_contains_bytes_in(Py::Three, needle)
    }

    /// `needle in self` under a Python version (Python 2 finds a byte
    /// string in text, and a text key for an ASCII byte string).
    pub fn py_contains_bytes_in(&self, py: Py, needle: &[u8]) -> Result<bool, PyTypeError> {
        let n = Value::Bytes(needle.to_vec());
        let sub = |b: &[u8]| needle.is_empty() || b.windows(needle.len()).any(|w| w == needle);
        match self {
            Value::Bytes(b) | Value::Chunk { data: b, .. } | Value::ByteArray(b) => Ok(sub(b)),
            Value::List(v) | Value::Tuple(v) | Value::Set(v) => {
                Ok(v.iter().any(|x| x.py_eq_in(py, &n)))
            }
            Value::Dict(d) => Ok(dict_get_in(py, d, &n).is_some()),
            Value::Str(t) if py == Py::Two && needle.is_ascii() => Ok(sub(t)),
            Value::Str(_) if py == Py::Two => Err(PyTypeError(
                "UnicodeDecodeError: 'ascii' codec can't decode the byte string".into(),
            )),
            Value::Str(_) => Err(PyTypeError(
                "'in <string>' requires string as left operand, not bytes".into(),
            )),
            // email.message.Message: `in` looks up a header (none modelled).
            Value::Opaque("instance", _) => Ok(false),
            _ => Err(PyTypeError(format!(
                "argument of type '{}' is not iterable",
                self.type_name()
            ))),
        }
    }
}

/// `d[key]` lookup with Python 3 equality.
pub fn dict_get<'a>(d: &'a [(Value, Value)], key: &Value) -> Option<&'a Value> {
    dict_get_in(Py::Three, d, key)
}

/// `d[key]` lookup with a Python version's equality.
pub fn dict_get_in<'a>(py: Py, d: &'a [(Value, Value)], key: &Value) -> Option<&'a Value> {
    d.iter().find(|(k, _)| k.py_eq_in(py, key)).map(|(_, v)| v)
}

/// `d[key] = value`: an equal key keeps its original key object.
pub fn dict_insert(d: &mut Vec<(Value, Value)>, key: Value, value: Value) {
    dict_insert_in(Py::Three, d, key, value)
}

/// `d[key] = value` with a Python version's equality.
pub fn dict_insert_in(py: Py, d: &mut Vec<(Value, Value)>, key: Value, value: Value) {
    if let Some(slot) = d.iter_mut().find(|(k, _)| k.py_eq_in(py, &key)) {
        slot.1 = value;
    } else {
        d.push((key, value));
    }
}

/// `s.add(v)`.
pub fn set_add(s: &mut Vec<Value>, v: Value) {
    set_add_in(Py::Three, s, v)
}

/// `s.add(v)` with a Python version's equality.
pub fn set_add_in(py: Py, s: &mut Vec<Value>, v: Value) {
    if !s.iter().any(|x| x.py_eq_in(py, &v)) {
        s.push(v);
    }
}

/// Python's `sorted(items, key=...)` with a fallible `<`: a stable binary
/// insertion sort, which is what CPython's timsort does for short inputs,
/// so a `TypeError` surfaces in the same cases.
pub fn py_sorted_by<T, F>(items: Vec<T>, mut lt: F) -> Result<Vec<T>, PyTypeError>
where
    F: FnMut(&T, &T) -> Result<bool, PyTypeError>,
{
    let mut out: Vec<T> = Vec::with_capacity(items.len());
    for item in items {
        // Find the rightmost position where item can go (stability).
        let (mut lo, mut hi) = (0, out.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            if lt(&item, &out[mid])? {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        out.insert(lo, item);
    }
    Ok(out)
}

/// `cborutil._mixedtypesortkey` on Python 3: order by type name, then by value.
pub fn mixed_type_lt(a: &Value, b: &Value) -> Result<bool, PyTypeError> {
    mixed_type_lt_in(Py::Three, a, b)
}

/// `cborutil._mixedtypesortkey` under a Python version: the type names
/// differ (Python 2: `NoneType` < `bool` < `int` < `long` < `str`), and
/// Python 2 comparisons never raise.
pub fn mixed_type_lt_in(py: Py, a: &Value, b: &Value) -> Result<bool, PyTypeError> {
    match a.type_name_in(py).cmp(b.type_name_in(py)) {
        Ordering::Less => Ok(true),
        Ordering::Greater => Ok(false),
        Ordering::Equal => match py {
            Py::Two => a.py2_lt(b),
            Py::Three => {
                if a.py_eq(b) {
                    Ok(false)
                } else {
                    a.py_lt(b)
                }
            }
        },
    }
}

impl PartialEq for Value {
    /// Structural equality (not Python's): `Int(1) != Bool(true)`.
    fn eq(&self, other: &Self) -> bool {
        use Value::*;
        match (self, other) {
            (None, None) => true,
            (Bool(a), Bool(b)) => a == b,
            (Int(a), Int(b)) => a == b,
            (Bytes(a), Bytes(b)) => a == b,
            (
                Chunk {
                    data: a,
                    first: f1,
                    last: l1,
                },
                Chunk {
                    data: b,
                    first: f2,
                    last: l2,
                },
            ) => a == b && f1 == f2 && l1 == l2,
            (List(a), List(b)) | (Tuple(a), Tuple(b)) | (Set(a), Set(b)) => a == b,
            (Dict(a), Dict(b)) => a == b,
            (Str(a), Str(b)) => a == b,
            (Float(a), Float(b)) => a.to_bits() == b.to_bits(),
            (Big(a), Big(b)) => a == b,
            (ByteArray(a), ByteArray(b)) => a == b,
            (Opaque(a, x), Opaque(b, y)) => a == b && x == y,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_key_semantics() {
        let mut d = Vec::new();
        dict_insert(&mut d, Value::Int(1), Value::bytes("a"));
        dict_insert(&mut d, Value::Bool(true), Value::bytes("b"));
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].0, Value::Int(1));
        assert_eq!(d[0].1, Value::bytes("b"));
        assert!(Value::bytes("xnamey").py_contains_bytes(b"name").unwrap());
        assert!(Value::Int(3).py_contains_bytes(b"name").is_err());
    }

    #[test]
    fn mixed_sort() {
        let v = vec![
            Value::bytes("b"),
            Value::Int(2),
            Value::None,
            Value::bytes("a"),
        ];
        let s = py_sorted_by(v, mixed_type_lt).unwrap();
        assert_eq!(
            s,
            vec![
                Value::None,
                Value::bytes("a"),
                Value::bytes("b"),
                Value::Int(2)
            ]
        );
    }
}

#[cfg(test)]
mod py_version_tests {
    use super::*;

    #[test]
    fn big_ints() {
        let two128 = BigInt::parse(false, "340282366920938463463374607431768211456", 10).unwrap();
        match &two128 {
            Value::Big(b) => {
                assert_eq!(b.mag.len(), 17);
                assert_eq!(b.to_decimal(), "340282366920938463463374607431768211456");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(BigInt::parse(true, "5", 10), Some(Value::Int(-5)));
        assert_eq!(BigInt::value(false, &[0, 0, 1]), Value::Int(1));
        assert!(Value::Int(5).py_lt(&two128).unwrap());
        assert!(Value::Int(-5).py2_lt(&Value::Int(5)).unwrap());
    }

    #[test]
    fn python2_keys_and_order() {
        let mut d = Vec::new();
        dict_insert_in(Py::Two, &mut d, Value::bytes("a"), Value::Int(1));
        dict_insert_in(Py::Two, &mut d, Value::Str(b"a".to_vec()), Value::Int(2));
        assert_eq!(d, vec![(Value::bytes("a"), Value::Int(2))]);
        // None < numbers < other types by name (str < tuple < unicode)
        assert!(Value::None.py2_lt(&Value::Int(-9)).unwrap());
        assert!(Value::Int(9).py2_lt(&Value::bytes("")).unwrap());
        assert!(Value::bytes("z").py2_lt(&Value::Tuple(vec![])).unwrap());
        assert!(mixed_type_lt_in(Py::Two, &Value::Int(1), &Value::bytes("b")).unwrap());
        assert!(!mixed_type_lt(&Value::Int(1), &Value::bytes("b")).unwrap());
        assert!(mixed_type_lt_in(Py::Two, &Value::Int(1), &Value::Int(1 << 63)).unwrap());
    }
}

/// A hash consistent with [`Value::py_eq_in`] for the values dict keys
/// and set members can be (numbers, bytes, text, `None`, tuples of
/// these); `None` for anything else (equals are then found by scanning).
pub fn key_hash(py: Py, v: &Value) -> Option<u64> {
    use std::hash::Hasher;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    hash_into(py, v, &mut h)?;
    Some(h.finish())
}

fn hash_into(py: Py, v: &Value, h: &mut impl std::hash::Hasher) -> Option<()> {
    use std::hash::Hash;
    match v {
        Value::None => 0u8.hash(h),
        Value::Bool(_) | Value::Int(_) => (1u8, v.int_like()?).hash(h),
        Value::Big(_) => match int_parts(v).and_then(|(neg, mag)| small_int(neg, &mag)) {
            Some(i) => (1u8, i).hash(h),
            None => (5u8, &int_parts(v)?).hash(h),
        },
        Value::Float(f) => {
            if f.fract() == 0.0 && f.abs() < 1.0e38 {
                (1u8, *f as i128).hash(h)
            } else if f.is_nan() {
                6u8.hash(h)
            } else {
                (4u8, f.to_bits()).hash(h)
            }
        }
        Value::Bytes(b) | Value::Chunk { data: b, .. } => (2u8, b).hash(h),
        // Python 2: an ASCII text equals the bytes of its characters.
        Value::Str(s) if py == Py::Two && s.is_ascii() => (2u8, s).hash(h),
        Value::Str(s) => (3u8, s).hash(h),
        Value::Tuple(items) => {
            (7u8, items.len()).hash(h);
            for x in items {
                hash_into(py, x, h)?;
            }
        }
        _ => return None,
    }
    Some(())
}

/// A big integer's value when it fits an `i128`.
fn small_int(neg: bool, mag: &[u8]) -> Option<i128> {
    let digits: Vec<u8> = mag.iter().copied().skip_while(|&b| b == 0).collect();
    if digits.len() > 15 {
        return None;
    }
    let m = digits.iter().fold(0i128, |acc, &b| (acc << 8) | b as i128);
    Some(if neg { -m } else { m })
}

/// Positions of a dict's keys or a set's members by [`key_hash`], so
/// inserting `n` entries costs `O(n)`, not the `n²` comparisons scanning
/// would (a hostile map of 40 k keys took 5 s that way). Built once the
/// collection has [`KeyIndex::FROM`] entries; values without a hash turn
/// it off (scanning again, as Python's equality requires).
#[derive(Debug, Clone, Default)]
pub struct KeyIndex {
    /// (hash, position) of every entry: 16 bytes a slot, no allocation
    /// per key (a `HashMap<u64, Vec<usize>>` took about 120 bytes an
    /// entry: a 10-million-member set literal went to 2.1 GiB).
    table: Option<hashbrown::HashTable<(u64, usize)>>,
    off: bool,
}

impl KeyIndex {
    /// Collections this big get an index.
    pub const FROM: usize = 16;

    /// The position of an entry equal to `key` among `len` entries, `at(i)`
    /// giving the i-th.
    pub fn find<'a>(
        &self,
        py: Py,
        len: usize,
        at: impl Fn(usize) -> &'a Value,
        key: &Value,
    ) -> Option<usize> {
        let same = |i: usize| at(i).py_eq_in(py, key);
        match (&self.table, key_hash(py, key)) {
            (Some(t), Some(h)) => t.find(h, |&(eh, i)| eh == h && same(i)).map(|&(_, i)| i),
            _ => (0..len).find(|&i| same(i)),
        }
    }

    /// Note that entry `pos` (of `len` now) holds `key`.
    pub fn remember<'a>(
        &mut self,
        py: Py,
        len: usize,
        at: impl Fn(usize) -> &'a Value,
        pos: usize,
    ) {
        if self.off {
            return;
        }
        if let Some(t) = &mut self.table {
            match key_hash(py, at(pos)) {
                Some(h) => {
                    t.insert_unique(h, (h, pos), |&(h, _)| h);
                }
                None => {
                    self.table = None;
                    self.off = true;
                }
            }
            return;
        }
        if len >= Self::FROM {
            let mut t = hashbrown::HashTable::with_capacity(len);
            for i in 0..len {
                match key_hash(py, at(i)) {
                    Some(h) => {
                        t.insert_unique(h, (h, i), |&(h, _)| h);
                    }
                    None => {
                        self.off = true;
                        return;
                    }
                }
            }
            self.table = Some(t);
        }
    }
}

/// A dict being built with `d[key] = value`, in linear time.
#[derive(Debug, Clone)]
pub struct DictBuilder {
    py: Py,
    pairs: Vec<(Value, Value)>,
    index: KeyIndex,
}

impl DictBuilder {
    pub fn new(py: Py) -> Self {
        DictBuilder {
            py,
            pairs: Vec::new(),
            index: KeyIndex::default(),
        }
    }

    /// `d[key] = value` (an equal key keeps its first key object); the
    /// entry's position.
    pub fn insert(&mut self, key: Value, value: Value) -> usize {
        let pairs = &self.pairs;
        if let Some(i) = self.index.find(self.py, pairs.len(), |i| &pairs[i].0, &key) {
            self.pairs[i].1 = value;
            return i;
        }
        self.pairs.push((key, value));
        let pairs = &self.pairs;
        let len = pairs.len();
        self.index.remember(self.py, len, |i| &pairs[i].0, len - 1);
        len - 1
    }

    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    pub fn pairs(&self) -> &[(Value, Value)] {
        &self.pairs
    }

    /// The value of entry `i`.
    pub fn value_mut(&mut self, i: usize) -> Option<&mut Value> {
        self.pairs.get_mut(i).map(|p| &mut p.1)
    }

    pub fn into_pairs(self) -> Vec<(Value, Value)> {
        self.pairs
    }
}

/// A set being built with `s.add(v)`, in linear time.
#[derive(Debug, Clone)]
pub struct SetBuilder {
    py: Py,
    items: Vec<Value>,
    index: KeyIndex,
}

impl SetBuilder {
    pub fn new(py: Py) -> Self {
        SetBuilder {
            py,
            items: Vec::new(),
            index: KeyIndex::default(),
        }
    }

    /// `s.add(v)` (an equal member stays).
    pub fn add(&mut self, v: Value) {
        let items = &self.items;
        if self
            .index
            .find(self.py, items.len(), |i| &items[i], &v)
            .is_some()
        {
            return;
        }
        self.items.push(v);
        let items = &self.items;
        let len = items.len();
        self.index.remember(self.py, len, |i| &items[i], len - 1);
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn into_items(self) -> Vec<Value> {
        self.items
    }
}

#[cfg(test)]
mod index_tests {
    use super::*;

    /// Builders keep Python's semantics past the indexing threshold: the
    /// same result as scanning (the plain `dict_insert_in`/`set_add_in`).
    #[test]
    fn builders_agree_with_scanning() {
        let mut keys = Vec::new();
        for i in 0..40 {
            keys.push(Value::Int(i));
            keys.push(Value::Bool(i % 2 == 0));
            keys.push(Value::Float(i as f64));
            keys.push(Value::Float(i as f64 + 0.5));
            keys.push(Value::Bytes(vec![b'a' + (i % 26) as u8]));
            keys.push(Value::Str(vec![b'a' + (i % 26) as u8]));
            keys.push(Value::Tuple(vec![
                Value::Int(i % 3),
                Value::Bytes(b"x".to_vec()),
            ]));
            keys.push(Value::Float(f64::NAN));
            keys.push(Value::None);
        }
        for py in [Py::Two, Py::Three] {
            let mut plain = Vec::new();
            let mut built = DictBuilder::new(py);
            let mut plain_set = Vec::new();
            let mut built_set = SetBuilder::new(py);
            for (n, k) in keys.iter().enumerate() {
                dict_insert_in(py, &mut plain, k.clone(), Value::Int(n as i128));
                built.insert(k.clone(), Value::Int(n as i128));
                set_add_in(py, &mut plain_set, k.clone());
                built_set.add(k.clone());
            }
            let show = |v: &[(Value, Value)]| format!("{v:?}");
            assert_eq!(show(built.pairs()), show(&plain), "{py:?}");
            assert_eq!(
                format!("{:?}", built_set.into_items()),
                format!("{plain_set:?}"),
                "{py:?}"
            );
        }
    }

    /// A map of 300 k distinct keys is built in linear time (scanning took
    /// minutes).
    #[test]
    fn large_maps_are_linear() {
        let t = std::time::Instant::now();
        let mut d = DictBuilder::new(Py::Three);
        for i in 0..300_000 {
            d.insert(Value::Int(i), Value::None);
        }
        assert_eq!(d.len(), 300_000);
        assert!(
            t.elapsed() < std::time::Duration::from_secs(20),
            "{:?}",
            t.elapsed()
        );
    }
}
