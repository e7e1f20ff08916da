//! What an HTTP body is, from its content type, and bodies that are not
//! frames decoded as what they are.
//!
//! A Mercurial server answers frames (a revision's media type, the
//! revisions' tables say which), CBOR (`application/mercurial-cbor`: the
//! capabilities of a v1 handshake, content redirects), text (`text/plain`:
//! reactor errors, 403 `permission denied`, 404 `API … not enabled`) or
//! hgweb's HTML pages (400 `no such method: api` when the API server is
//! off). [`BodyKind::of`] tells them apart; [`decode_body`] gives CBOR
//! values or text (an HTML page is summed up by `remote::body_summary`).
//! Text is returned with control characters escaped ([`escape_text`]) so a
//! body cannot drive a terminal.
//!
//! Bytes in, values out: no I/O, and CBOR under a memory bound.

use crate::python::cbor::{self, DecodeError};
use crate::python::value::Value;
use crate::wire::proto::Proto;

/// The CBOR media type of Mercurial's HTTP API.
pub const MEDIA_CBOR: &str = "application/mercurial-cbor";

/// What a body is, by its content type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyKind {
    /// Frames of this revision.
    Frames(Proto),
    /// `application/mercurial-cbor`: CBOR values back to back.
    Cbor,
    /// `text/plain` (and other `text/*` but HTML).
    Text,
    /// `text/html`, `application/xhtml+xml`.
    Html,
    /// Anything else (the content type, lowercased, parameters dropped).
    Other(String),
}

impl BodyKind {
    /// The kind for a `Content-Type` value (parameters such as `charset`
    /// ignored, case-insensitive).
    pub fn of(content_type: &str) -> BodyKind {
        let mt = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if let Some(p) = Proto::by_media_type(&mt) {
            return BodyKind::Frames(p);
        }
        match mt.as_str() {
            MEDIA_CBOR => BodyKind::Cbor,
            "text/html" | "application/xhtml+xml" => BodyKind::Html,
            t if t.starts_with("text/") => BodyKind::Text,
            _ => BodyKind::Other(mt),
        }
    }
}

/// A body decoded as what its kind says.
#[derive(Debug, Clone, PartialEq)]
pub enum DecodedBody {
    /// Frames: decode them with the frame codec (not done here).
    Frames(Proto),
    /// The CBOR values, or why they do not decode.
    Cbor(Result<Vec<Value>, DecodeError>),
    /// The text, control characters escaped.
    Text(String),
    /// An HTML page: summed up by a layer that knows pages
    /// (`remote::body_summary`), not here.
    Html,
    /// Bytes of an unknown kind, escaped.
    Other { content_type: String, text: String },
}

/// Decode a whole body (CBOR under a bound of `limit` bytes).
pub fn decode_body(kind: BodyKind, body: &[u8], limit: u64) -> DecodedBody {
    match kind {
        BodyKind::Frames(p) => DecodedBody::Frames(p),
        BodyKind::Cbor => DecodedBody::Cbor(cbor::decode_all_limited(body, limit)),
        BodyKind::Text => DecodedBody::Text(escape_text(body)),
        BodyKind::Html => DecodedBody::Html,
        BodyKind::Other(content_type) => DecodedBody::Other {
            content_type,
            text: escape_text(body),
        },
    }
}

/// Text with every control character but newline and tab escaped
/// (`\x1b`, `\r`, `\x7f`, C1 controls as `\u{85}`), and bytes that are not
/// UTF-8 as `\xNN`.
pub fn escape_text(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len());
    for chunk in b.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\n' | '\t' => out.push(c),
                '\r' => out.push_str("\\r"),
                c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                    out.push_str(&format!("\\x{:02x}", c as u32))
                }
                c if (0x80..0xa0).contains(&(c as u32)) => {
                    out.push_str(&format!("\\u{{{:x}}}", c as u32))
                }
                c => out.push(c),
            }
        }
        for &x in chunk.invalid() {
            out.push_str(&format!("\\x{x:02x}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_from_content_types() {
        assert_eq!(
            BodyKind::of("application/mercurial-exp-framing-0006"),
            BodyKind::Frames(Proto::P0006)
        );
        assert_eq!(BodyKind::of("Application/Mercurial-CBOR"), BodyKind::Cbor);
        assert_eq!(BodyKind::of("text/plain; charset=utf-8"), BodyKind::Text);
        assert_eq!(BodyKind::of("text/html; charset=UTF-8"), BodyKind::Html);
        assert_eq!(
            BodyKind::of("application/mercurial-0.1"),
            BodyKind::Other("application/mercurial-0.1".into())
        );
        assert_eq!(BodyKind::of(""), BodyKind::Other(String::new()));
    }

    #[test]
    fn text_escapes_control_characters() {
        assert_eq!(
            escape_text(b"ok\n\ttab\r\x1b[0m\x7f\xc2\x85\xff"),
            "ok\n\ttab\\r\\x1b[0m\\x7f\\u{85}\\xff"
        );
    }

    #[test]
    fn cbor_bodies_decode_under_the_bound() {
        match decode_body(BodyKind::Cbor, &[0xa1, 0x41, b'a', 0x01, 0x02], 1 << 20) {
            DecodedBody::Cbor(Ok(v)) => assert_eq!(v.len(), 2),
            other => panic!("{other:?}"),
        }
        // a string declaring 2**63 bytes fails at once, not after buffering
        let mut b = vec![0x5b];
        b.extend_from_slice(&(1u64 << 63).to_be_bytes());
        match decode_body(BodyKind::Cbor, &b, 1 << 20) {
            DecodedBody::Cbor(Err(e)) => assert!(!e.is_over_limit(), "{e}"),
            other => panic!("{other:?}"),
        }
        // 100k empty lists: fine with a big bound, refused with a small one
        let mut b = vec![0x9a, 0, 1, 0x86, 0xa0];
        b.extend(std::iter::repeat_n(0x80, 100_000));
        assert!(matches!(
            decode_body(BodyKind::Cbor, &b, 1 << 30),
            DecodedBody::Cbor(Ok(_))
        ));
        match decode_body(BodyKind::Cbor, &b, 1 << 20) {
            DecodedBody::Cbor(Err(e)) => assert!(e.is_over_limit(), "{e}"),
            other => panic!("{other:?}"),
        }
    }
}
