//! Decoding a 0005 server's response stream (Mercurial 4.6/4.7), as that
//! release's client does (`wireprotoframing.clientreactor` and
//! `wireprotov2peer.clienthandler` of 4.7.2), kept small and apart from the
//! 0006 decoder ([`super::response`]) on purpose: it is the piece to fold
//! into a full client reactor.
//!
//! 0005 responses have no stream settings and no encoding: a request's
//! `command-response` payloads are joined and, at `eos`, read as a sequence
//! of `cbor2` values (the `{status: ...}` map, then the command's objects);
//! an `error-response` payload is one value `{type, message: [{msg}]}`.
//! What 4.7.2's client refuses (an odd server stream, a stream without
//! `stream-begin`, the `encoded` flag, a frame type it does not handle:
//! text-output, progress, stream-settings) is reported as a problem, with
//! the frame kept. No I/O: feed the body bytes.

use super::response::{DecodedResponse, RequestResult};
use crate::python::cbor2;
use crate::wire::frame::{Frame, LengthMode, Located, SliceDecoder, STREAM_BEGIN, STREAM_ENCODED};
use crate::wire::ids::v0005::*;
use crate::wire::proto::Proto;

/// A concatenation of cbor2 values, read one after the other.
fn values(b: &[u8]) -> Result<Vec<crate::python::value::Value>, String> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < b.len() {
        let (v, n) = cbor2::load_prefix(&b[pos..])?;
        out.push(v);
        pos += n.max(1);
    }
    Ok(out)
}

/// Decode a 0005 response body.
pub fn decode_response_0005(body: &[u8]) -> DecodedResponse {
    let proto = Proto::P0005;
    let mut out = DecodedResponse::default();
    let mut streams: Vec<u8> = Vec::new();
    // Joined command-response payloads per request, until eos.
    let mut pending: Vec<(u16, Vec<u8>)> = Vec::new();
    for item in SliceDecoder::new(proto, LengthMode::Correct, body) {
        let l = match item {
            Ok(l) => l,
            Err(e) => {
                out.problems.push(e.to_string());
                break;
            }
        };
        let f = l.frame;
        let at = l.offset;
        if f.stream_id % 2 == 1 {
            out.problems.push(format!(
                "frame at offset {at}: received frame with odd numbered stream ID: {}",
                f.stream_id
            ));
        }
        if !streams.contains(&f.stream_id) {
            if f.stream_flags & STREAM_BEGIN == 0 {
                out.problems.push(format!(
                    "frame at offset {at}: received frame on unknown stream without beginning of stream flag set"
                ));
            }
            streams.push(f.stream_id);
        }
        if f.stream_flags & STREAM_ENCODED != 0 {
            out.problems.push(format!(
                "frame at offset {at}: the encoded flag (4.6/4.7 clients do not decode stream payloads)"
            ));
        }
        let rid = f.request_id;
        let ri = match out.requests.iter().position(|r| r.request_id == rid) {
            Some(i) => i,
            None => {
                out.requests.push(RequestResult {
                    request_id: rid,
                    ..Default::default()
                });
                out.requests.len() - 1
            }
        };
        match f.type_id {
            COMMAND_RESPONSE => {
                let pi = match pending.iter().position(|(r, _)| *r == rid) {
                    Some(i) => i,
                    None => {
                        pending.push((rid, Vec::new()));
                        pending.len() - 1
                    }
                };
                pending[pi].1.extend_from_slice(f.payload);
                if f.flags & FLAG_COMMAND_RESPONSE_EOS != 0 {
                    let (_, data) = pending.remove(pi);
                    let req = &mut out.requests[ri];
                    match values(&data) {
                        Ok(v) => req.values.extend(v),
                        Err(e) => req.problems.push(format!("CBOR: {e}")),
                    }
                    req.complete = true;
                }
            }
            ERROR_RESPONSE => {
                let req = &mut out.requests[ri];
                match cbor2::load(f.payload) {
                    Ok(v) => req.errors.push(v),
                    Err(e) => req.problems.push(format!("error-response CBOR: {e}")),
                }
                req.complete = true;
            }
            t => out.problems.push(format!(
                "frame at offset {at}: unhandled frame type: {} (4.6/4.7 clients raise here)",
                proto.type_name(t)
            )),
        }
        out.decoded_payloads.push(None);
        out.frames.push(Located {
            offset: l.offset,
            header: l.header,
            frame: Frame {
                request_id: f.request_id,
                stream_id: f.stream_id,
                stream_flags: f.stream_flags,
                type_id: f.type_id,
                flags: f.flags,
                payload: f.payload.to_vec(),
            },
        });
    }
    for r in &out.requests {
        if !r.complete {
            out.problems.push(format!(
                "request {} did not end (no eos frame)",
                r.request_id
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::python::escape::unhex;
    use crate::python::value::Value;

    #[test]
    fn heads_on_an_empty_4_7_2_repo() {
        // Captured from a live 4.7.2 `hg serve` (notes/releases.md §2.5).
        let mut body = unhex("210000010002013 2".replace(' ', "").as_str()).unwrap();
        body.extend(unhex("a146737461747573426f6b8154").unwrap());
        body.extend([0u8; 20]);
        let d = decode_response_0005(&body);
        assert!(d.problems.is_empty(), "{:?}", d.problems);
        assert_eq!(d.requests.len(), 1);
        let r = &d.requests[0];
        assert_eq!(r.status(), "ok");
        assert_eq!(r.objects(), &[Value::List(vec![Value::Bytes(vec![0; 20])])]);
    }

    #[test]
    fn problems_are_reported_not_raised() {
        // a text-output frame on an odd stream without stream-begin
        let body = unhex("0100000100010060 78".replace(' ', "").as_str()).unwrap();
        let d = decode_response_0005(&body);
        assert_eq!(d.problems.len(), 4, "{:?}", d.problems);
    }
}
