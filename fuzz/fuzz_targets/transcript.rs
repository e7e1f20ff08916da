#![no_main]
//! `cargo fuzz run transcript`: see fuzz/README.md. The body is
//! [`hgframe_fuzz::targets::transcript`], which also runs on stable (`replay` example).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| hgframe_fuzz::targets::transcript(data));
