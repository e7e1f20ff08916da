#![no_main]
//! `cargo fuzz run serve_http`: see fuzz/README.md. The body is
//! [`hgframe_fuzz::targets::serve_http`], which also runs on stable (`replay` example).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| hgframe_fuzz::targets::serve_http(data));
