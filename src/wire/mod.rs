//! What travels on the wire: protocol revisions as tables ([`proto`]), the
//! frame codec ([`frame`]), and what an HTTP body is by its content type
//! ([`body`]: frames, CBOR, text or an HTML page).
//!
//! Owns header layouts, frame type and flag ids and names per revision,
//! media types, API names and command tables — everything that names a
//! revision is data here. Must not know reactors, human strings, printers
//! or I/O beyond reading bytes from a `Read`.

pub mod body;
pub mod frame;
pub mod ids;
pub mod proto;
pub mod request;
