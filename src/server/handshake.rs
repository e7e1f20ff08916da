//! The version-1 handshake every stock client sends first: `GET
//! /?cmd=capabilities`. A client that also speaks version 2 says so in
//! `X-HgUpgrade-N` (API names) and `X-HgProto-N` (`cbor`); Mercurial then
//! answers an `application/mercurial-cbor` map `{apibase, apis: {API:
//! descriptor}, v1capabilities}` and the client posts to `/api/`.
//! Otherwise it answers the version-1 capabilities string.
//!
//! The answer is what Mercurial 6.0 gives for a fresh repository with the
//! API enabled, captured by `scripts/gen-serve-capabilities.sh` (a server
//! without a repository has nothing else to describe); its version-2
//! descriptor is also the default answer to the `capabilities` command.

use std::sync::OnceLock;

use super::http::{HeaderMap, StatusCode};

use super::reply::Reply;
use crate::python::cbor;
use crate::python::value::{dict_get, Value};
use crate::wire::proto::Proto;

static CAPTURED: &[u8] = include_bytes!("hg60-capabilities.cbor");

fn captured() -> Option<&'static Value> {
    static DECODED: OnceLock<Option<Value>> = OnceLock::new();
    DECODED
        .get_or_init(|| cbor::decode_all(CAPTURED).ok()?.into_iter().next())
        .as_ref()
}

fn field<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    match v {
        Value::Dict(d) => dict_get(d, &Value::bytes(key)),
        _ => None,
    }
}

/// The version-2 API descriptor (the `capabilities` command's answer) for
/// a revision, if the captured answer has one for its API.
pub(super) fn descriptor(proto: Proto) -> Option<Value> {
    field(field(captured()?, "apis")?, proto.table().api_name).cloned()
}

/// `decodevaluefromheaders`: `PREFIX-1`, `PREFIX-2` … joined.
fn header_value(headers: &HeaderMap, prefix: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 1.. {
        match headers.get(format!("{prefix}-{i}")) {
            Some(v) => out.extend_from_slice(v.as_bytes()),
            None => break,
        }
    }
    out
}

/// The answer to `GET /?cmd=capabilities`.
pub(super) fn answer(proto: Proto, headers: &HeaderMap) -> Reply {
    let Some(caps) = captured() else {
        return Reply::internal_error("hgframe bug: the captured capabilities do not decode");
    };
    let apis = header_value(headers, "X-HgUpgrade");
    let protocaps = header_value(headers, "X-HgProto");
    let wants_cbor = protocaps.split(|&b| b == b' ').any(|c| c == b"cbor");
    let api = proto.table().api_name.as_bytes();
    let offered = apis.split(|&b| b == b' ').any(|a| a == api);
    if wants_cbor && offered {
        if let Some(d) = descriptor(proto) {
            let m = Value::Dict(vec![
                (Value::bytes("apibase"), Value::bytes("api/")),
                (
                    Value::bytes("apis"),
                    Value::Dict(vec![(Value::bytes(api), d)]),
                ),
                (
                    Value::bytes("v1capabilities"),
                    field(caps, "v1capabilities")
                        .cloned()
                        .unwrap_or(Value::bytes("")),
                ),
            ]);
            if let Ok(body) = cbor::encode(&m) {
                return Reply::new(StatusCode::OK, Some("application/mercurial-cbor"), body);
            }
        }
    }
    let v1 = field(caps, "v1capabilities")
        .and_then(|v| v.as_bytes())
        .unwrap_or_default()
        .to_vec();
    Reply::new(StatusCode::OK, Some("application/mercurial-0.1"), v1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_captured_answer_is_reproduced_for_0006() {
        let mut h = HeaderMap::new();
        h.insert("X-HgUpgrade-1", "exp-http-v2-0003".parse().unwrap());
        h.insert("X-HgProto-1", "cbor".parse().unwrap());
        let r = answer(Proto::P0006, &h);
        assert_eq!(
            r.content_type.as_deref(),
            Some("application/mercurial-cbor")
        );
        assert_eq!(r.body, CAPTURED, "the same bytes Mercurial 6.0 sent");
        // without the upgrade headers: the version-1 string
        let r = answer(Proto::P0006, &HeaderMap::new());
        assert_eq!(r.content_type.as_deref(), Some("application/mercurial-0.1"));
        assert!(r.body.starts_with(b"batch branchmap bundle2="));
        assert!(descriptor(Proto::P0006).is_some());
        assert!(descriptor(Proto::P0001).is_none());
    }
}
