//! hgframe: a debugger for Mercurial's frame-based wire protocol (wire
//! protocol version 2, the `exp-http-v2` HTTP API).
//!
//! This library is the protocol; the `hgframe` binary (`src/bin/hgframe/`)
//! is the command line and the only place that knows clap, a terminal or
//! exit codes. Data flows one way, through layers that only use the ones
//! below them (the architecture test in `tests/architecture.rs` holds
//! this):
//!
//! 1. [`python`]: the Python semantics Mercurial's bytes depend on (value
//!    model, `cborutil`, JSON flavours, literals, escapes).
//! 2. [`wire`]: revisions as tables, the frame codec, request layouts.
//! 3. [`human`]: human frame strings (nom), argument values, shorthands.
//! 4. [`reactor`]: sans-IO ports of Mercurial's reactors; response streams.
//! 5. [`session`]: the one driver that runs frames through a reactor and
//!    yields steps; [`reflect`]: the debugreflect body both ways.
//! 6. [`client`] (the only module that opens client sockets) and
//!    [`remote`] (operations against a live server); [`server`] (the
//!    embedded server: listening sockets and threads).
//! 7. [`replay`] (transcripts), [`repl`] (the interactive session, no
//!    terminal), [`proxy`] (watching a real client and server through
//!    [`server::forward`]), [`render`] (printers to any `Write`).
//!
//! Protocol revisions are data ([`wire::proto`]): adding one is a table, a
//! reactor and tests.

pub mod client;
pub mod human;
pub mod proxy;
pub mod python;
pub mod reactor;
pub mod reflect;
pub mod remote;
pub mod render;
pub mod repl;
pub mod replay;
pub mod server;
pub mod session;
pub mod wire;

pub use wire::frame::Frame;
pub use wire::proto::Proto;
