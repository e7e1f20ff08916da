//! Printers: every output hgframe writes, one module per output, each
//! writing to any `Write`: values ([`value`]), frames ([`frame`]: line,
//! block, JSON), reactor steps ([`pretty`], [`json`]), what servers
//! answered ([`remote`]), body diffs ([`diff`]), requests shown instead of
//! sent ([`request`]), replay failures ([`replay`]). Colour is decided by
//! the caller (through `colored`'s global switch) and never by probing a
//! terminal here.

pub mod diff;
pub mod frame;
pub mod json;
pub mod pretty;
pub mod proxy;
pub mod remote;
pub mod replay;
pub mod request;
pub mod value;

pub use frame::{
    frame_json, frame_line, frame_warnings, payload_cbor, write_frame_block, write_frame_json,
};
pub use json::{eof_step_json, frame_step_json, step_json};
pub use pretty::{write_eof_step, write_frame_step, write_step_pretty};
pub use value::{value_json, value_text};
