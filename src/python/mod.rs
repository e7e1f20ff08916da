//! Python semantics that Mercurial's bytes depend on.
//!
//! Owns the value model Mercurial's framing code works with ([`value`]:
//! `1 == True` as dict keys, first key object kept, `in` as substring or
//! membership), the port of `cborutil` ([`cbor`]), the two JSON encoders
//! debugreflect endpoints use ([`json`]), the `ast.literal_eval` subset
//! behind `cbor:` payloads ([`literal`]) and Python's byte escapes
//! ([`escape`]). This is the bottom layer: it knows nothing of frames,
//! revisions or reactors, and does no I/O.

pub mod cbor;
pub mod escape;
pub mod json;
pub mod literal;
pub mod value;
