//! hgframe: a debugger for Mercurial's frame-based wire protocol (wire
//! protocol version 2, the `exp-http-v2` HTTP API).
//!
//! Data flows one way: text ([`human`]) → frames ([`wire::frame`]) → reactor
//! ([`reactor`]) → actions → renderers ([`render`], [`reflect`]). Protocol
//! revisions are tables ([`wire::proto`]). Nothing here touches a terminal or a
//! socket; the binary (`src/main.rs`) does.

pub mod cli;
pub mod client;
pub mod commands;
pub mod human;
pub mod python;
pub mod reactor;
pub mod reflect;
pub mod remote;
pub mod render;
pub mod repl;
pub mod replay;
pub mod replay_cli;
pub mod request;
pub mod response;
pub mod script;
pub mod serve;
pub mod wire;

pub use wire::frame::Frame;
pub use wire::proto::Proto;
