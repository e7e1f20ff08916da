//! The command line as a user sees it: exact stdout bytes, stderr text and
//! exit codes of `hgframe encode`, `decode`, `reflect --local`, colour
//! handling and `--help`. The binary is run with assert_cmd; the one thing
//! a pipe cannot show (refusing raw bytes on a terminal) is checked through
//! a real pseudo-terminal made by util-linux `script` (in `help.rs`), and in
//! the binary's own unit tests (`cmd::encode`) with `stdout_is_terminal: true`.
//!
//! One module per subcommand; `support.rs` holds what they share.

mod decode;
mod encode;
mod help;
mod reflect;
mod releases;
mod response;
mod support;
