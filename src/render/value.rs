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
        Value::Str(s) => J::String(s.clone()),
        Value::Float(f) => json!(f),
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
        Value::Str(s) => s.clone(),
        other => value_text(other),
    }
}
