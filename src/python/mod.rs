//! Python semantics that Mercurial's bytes depend on.
//!
//! Owns the value model Mercurial's framing code works with ([`value`]:
//! `1 == True` as dict keys, first key object kept, `in` as substring or
//! membership), the port of `cborutil` ([`cbor`]) and of the `cbor2` that
//! Mercurial 4.6/4.7 bundle ([`cbor2`]), the JSON encoders debugreflect
//! endpoints use ([`json`]), the `ast.literal_eval` subset behind `cbor:`
//! payloads ([`literal`], Python 2 and 3 rules; the common ones straight
//! to CBOR in [`literal_cbor`]), CBOR payloads straight to their Python
//! literal or JSON text ([`cbor_text`]) and Python's byte escapes
//! ([`escape`]). This is the bottom layer: it knows nothing of frames,
//! revisions or reactors, and does no I/O.

pub mod cbor;
pub mod cbor2;
mod cbor2_tags;
pub mod cbor_text;
pub mod escape;
pub mod json;
pub mod literal;
pub mod literal_cbor;
pub mod py2;
pub mod value;

#[cfg(test)]
pub(crate) mod testing;

/// The Python major version a server runs on, where it shows: literal
/// syntax (`'x'` is bytes on 2), type names (`str`/`unicode`/`long`),
/// comparisons, dict-key equality and exception text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Py {
    Two,
    Three,
}
