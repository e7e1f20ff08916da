//! Printers: every output hgframe writes, one module per output, each
//! writing to any `Write`: values ([`value`]), frames ([`frame`]: line,
//! block, JSON), reactor steps ([`pretty`], [`json`]), what servers
//! answered ([`remote`]), response bodies decoded by the client reactor
//! ([`response`]), body diffs ([`diff`]), requests shown instead of
//! sent ([`request`]), replay failures ([`replay`]). Styles ([`style`])
//! are always written, as ANSI escapes; whether they show is the writer's
//! business (the binary's `anstream` strips them unless colour is on), so
//! nothing here probes a terminal or reads a global switch.

pub mod diff;
pub mod frame;
pub mod ink;
pub mod json;
pub mod pretty;
pub mod proxy;
pub mod remote;
pub mod replay;
pub mod request;
pub mod response;
pub mod style;
pub mod value;

pub use frame::{
    frame_json, frame_line, frame_warnings, payload_cbor, write_frame_block, write_frame_json,
};
pub use json::{eof_step_json, frame_step_json, step_json};
pub use pretty::{write_eof_step, write_frame_step, write_step_pretty};
pub use value::{value_json, value_text};
