//! The Python value model Mercurial's framing code works with.
//!
//! Frame payloads in 0006 are CBOR, and what Mercurial does with them is
//! decided by Python semantics: `1 == True` so they collide as dict keys,
//! a dict keeps its first key object, `b'name' in x` means substring for
//! bytes and membership for lists. [`Value`] carries just the types that
//! occur (what `ast.literal_eval` and `cborutil` produce) and implements
//! those semantics, so the reactor can predict the server exactly.

use std::cmp::Ordering;

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
    /// Only from literals: Mercurial's CBOR encoder rejects it.
    Str(String),
    /// Only from literals: Mercurial's CBOR encoder rejects it.
    Float(f64),
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
            Value::Bytes(b) | Value::Chunk { data: b, .. } => !b.is_empty(),
            Value::Str(s) => !s.is_empty(),
            Value::List(x) | Value::Tuple(x) | Value::Set(x) => !x.is_empty(),
            Value::Dict(d) => !d.is_empty(),
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

    /// Python `==`.
    pub fn py_eq(&self, other: &Value) -> bool {
        use Value::*;
        if let (Some(a), Some(b)) = (self.int_like(), other.int_like()) {
            return a == b;
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
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.py_eq(y))
            }
            (Dict(a), Dict(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .all(|(k, v)| dict_get(b, k).is_some_and(|w| w.py_eq(v)))
            }
            (Set(a), Set(b)) => {
                a.len() == b.len() && a.iter().all(|x| b.iter().any(|y| x.py_eq(y)))
            }
            (Str(a), Str(b)) => a == b,
            _ => false,
        }
    }

    /// Whether Python can hash it (usable as dict key / set element).
    pub fn check_hashable(&self) -> Result<(), PyTypeError> {
        match self {
            Value::List(_) | Value::Dict(_) | Value::Set(_) => Err(PyTypeError(format!(
                "unhashable type: '{}'",
                self.type_name()
            ))),
            Value::Tuple(items) => items.iter().try_for_each(|v| v.check_hashable()),
            _ => Ok(()),
        }
    }

    /// Python `<` (raises `TypeError` for unorderable pairs).
    pub fn py_lt(&self, other: &Value) -> Result<bool, PyTypeError> {
        use Value::*;
        if let (Some(a), Some(b)) = (self.int_like(), other.int_like()) {
            return Ok(a < b);
        }
        if let (Some(a), Some(b)) = (self.numeric(), other.numeric()) {
            return Ok(a < b);
        }
        if let (Some(a), Some(b)) = (self.as_bytes(), other.as_bytes()) {
            return Ok(a < b);
        }
        match (self, other) {
            (Str(a), Str(b)) => Ok(a.chars().lt(b.chars())),
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

    /// Python `needle in self` for a bytes needle (`__contains__`).
    pub fn py_contains_bytes(&self, needle: &[u8]) -> Result<bool, PyTypeError> {
        let n = Value::Bytes(needle.to_vec());
        match self {
            Value::Bytes(b) | Value::Chunk { data: b, .. } => {
                Ok(needle.is_empty() || b.windows(needle.len()).any(|w| w == needle))
            }
            Value::List(v) | Value::Tuple(v) | Value::Set(v) => Ok(v.iter().any(|x| x.py_eq(&n))),
            Value::Dict(d) => Ok(dict_get(d, &n).is_some()),
            Value::Str(_) => Err(PyTypeError(
                "'in <string>' requires string as left operand, not bytes".into(),
            )),
            _ => Err(PyTypeError(format!(
                "argument of type '{}' is not iterable",
                self.type_name()
            ))),
        }
    }
}

/// `d[key]` lookup with Python equality.
pub fn dict_get<'a>(d: &'a [(Value, Value)], key: &Value) -> Option<&'a Value> {
    d.iter().find(|(k, _)| k.py_eq(key)).map(|(_, v)| v)
}

/// `d[key] = value`: an equal key keeps its original key object.
pub fn dict_insert(d: &mut Vec<(Value, Value)>, key: Value, value: Value) {
    if let Some(slot) = d.iter_mut().find(|(k, _)| k.py_eq(&key)) {
        slot.1 = value;
    } else {
        d.push((key, value));
    }
}

/// `s.add(v)`.
pub fn set_add(s: &mut Vec<Value>, v: Value) {
    if !s.iter().any(|x| x.py_eq(&v)) {
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

/// `cborutil._mixedtypesortkey`: order by type name, then by value.
pub fn mixed_type_lt(a: &Value, b: &Value) -> Result<bool, PyTypeError> {
    match a.type_name().cmp(b.type_name()) {
        Ordering::Less => Ok(true),
        Ordering::Greater => Ok(false),
        Ordering::Equal => {
            if a.py_eq(b) {
                Ok(false)
            } else {
                a.py_lt(b)
            }
        }
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
