//! Values (Python objects decoded from CBOR) as JSON and as readable
//! Python literals.

use serde_json::{json, Map, Value as J};

use crate::human::{bytes_literal, to_literal};
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
    match v {
        Value::Chunk { data, first, last } => {
            format!("chunk({}, first={first}, last={last})", bytes_literal(data))
        }
        other => to_literal(other).unwrap_or_else(|| format!("{other:?}")),
    }
}
