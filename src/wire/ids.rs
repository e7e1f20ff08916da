//! Frame type and flag ids, named, one module per revision (Mercurial's own
//! names: `FRAME_TYPE_…` become the type name, `FLAG_<TYPE>_<NAME>` the
//! flags). The revision tables in [`super::proto`] are built from these,
//! and code that acts on a particular type (reactors, request builders,
//! response decoders) names them: each number is written once, here.
//!
//! Ids stay plain `u8`s in frames, because unknown values must survive a
//! round trip: a debugger sends bad frames on purpose.

/// Stream flags (every revision with streams: 0002 and later).
pub const STREAM_BEGIN: u8 = 0x1;
pub const STREAM_END: u8 = 0x2;
pub const STREAM_ENCODED: u8 = 0x4;

/// The seed `000` (rev 51f7ac100): 4-byte header, one command at a time.
pub mod v0001 {
    pub const COMMAND_NAME: u8 = 1;
    pub const COMMAND_ARGUMENT: u8 = 2;
    pub const COMMAND_DATA: u8 = 3;
    pub const BYTES_RESPONSE: u8 = 4;
    pub const ERROR_RESPONSE: u8 = 5;

    pub const FLAG_COMMAND_NAME_EOS: u8 = 0x1;
    pub const FLAG_COMMAND_NAME_HAVE_ARGS: u8 = 0x2;
    pub const FLAG_COMMAND_NAME_HAVE_DATA: u8 = 0x4;
    pub const FLAG_COMMAND_ARGUMENT_CONTINUATION: u8 = 0x1;
    pub const FLAG_COMMAND_ARGUMENT_EOA: u8 = 0x2;
    pub const FLAG_COMMAND_DATA_CONTINUATION: u8 = 0x1;
    pub const FLAG_COMMAND_DATA_EOS: u8 = 0x2;
    pub const FLAG_BYTES_RESPONSE_CONTINUATION: u8 = 0x1;
    pub const FLAG_BYTES_RESPONSE_EOS: u8 = 0x2;
    pub const FLAG_ERROR_RESPONSE_PROTOCOL: u8 = 0x1;
    pub const FLAG_ERROR_RESPONSE_APPLICATION: u8 = 0x2;
}

/// The streams snapshot (rev 8862a50a8): 0001's types and flags, plus
/// text output and stream settings.
pub mod v0002 {
    pub use super::v0001::*;

    pub const TEXT_OUTPUT: u8 = 6;
    pub const STREAM_SETTINGS: u8 = 8;
}

/// Mercurial 4.6 and 4.7: 0006's command types, stream settings at 8 (no
/// flags), no sender protocol settings.
pub mod v0005 {
    pub const COMMAND_REQUEST: u8 = 1;
    pub const COMMAND_DATA: u8 = 2;
    pub const COMMAND_RESPONSE: u8 = 3;
    pub const ERROR_RESPONSE: u8 = 5;
    pub const TEXT_OUTPUT: u8 = 6;
    pub const PROGRESS: u8 = 7;
    pub const STREAM_SETTINGS: u8 = 8;

    pub const FLAG_COMMAND_REQUEST_NEW: u8 = 0x1;
    pub const FLAG_COMMAND_REQUEST_CONTINUATION: u8 = 0x2;
    pub const FLAG_COMMAND_REQUEST_MORE_FRAMES: u8 = 0x4;
    pub const FLAG_COMMAND_REQUEST_EXPECT_DATA: u8 = 0x8;
    pub const FLAG_COMMAND_DATA_CONTINUATION: u8 = 0x1;
    pub const FLAG_COMMAND_DATA_EOS: u8 = 0x2;
    pub const FLAG_COMMAND_RESPONSE_CONTINUATION: u8 = 0x1;
    pub const FLAG_COMMAND_RESPONSE_EOS: u8 = 0x2;
}

/// Mercurial 4.8 to 6.0.
pub mod v0006 {
    pub const COMMAND_REQUEST: u8 = 1;
    pub const COMMAND_DATA: u8 = 2;
    pub const COMMAND_RESPONSE: u8 = 3;
    pub const ERROR_RESPONSE: u8 = 5;
    pub const TEXT_OUTPUT: u8 = 6;
    pub const PROGRESS: u8 = 7;
    pub const SENDER_PROTOCOL_SETTINGS: u8 = 8;
    pub const STREAM_SETTINGS: u8 = 9;

    pub const FLAG_COMMAND_REQUEST_NEW: u8 = 0x1;
    pub const FLAG_COMMAND_REQUEST_CONTINUATION: u8 = 0x2;
    pub const FLAG_COMMAND_REQUEST_MORE_FRAMES: u8 = 0x4;
    pub const FLAG_COMMAND_REQUEST_EXPECT_DATA: u8 = 0x8;
    pub const FLAG_COMMAND_DATA_CONTINUATION: u8 = 0x1;
    pub const FLAG_COMMAND_DATA_EOS: u8 = 0x2;
    pub const FLAG_COMMAND_RESPONSE_CONTINUATION: u8 = 0x1;
    pub const FLAG_COMMAND_RESPONSE_EOS: u8 = 0x2;
    pub const FLAG_SENDER_PROTOCOL_SETTINGS_CONTINUATION: u8 = 0x1;
    pub const FLAG_SENDER_PROTOCOL_SETTINGS_EOS: u8 = 0x2;
    pub const FLAG_STREAM_SETTINGS_CONTINUATION: u8 = 0x1;
    pub const FLAG_STREAM_SETTINGS_EOS: u8 = 0x2;
}

/// The command frames (`command-request`, `command-data`) and their flags,
/// numbered alike by 0005 and 0006 (checked when compiling): what the two
/// revisions share (the client's framing of a command, the server's
/// assembly of one) is written once against these.
pub mod commands {
    pub use super::v0006::{
        COMMAND_DATA, COMMAND_REQUEST, FLAG_COMMAND_DATA_CONTINUATION, FLAG_COMMAND_DATA_EOS,
        FLAG_COMMAND_REQUEST_CONTINUATION, FLAG_COMMAND_REQUEST_EXPECT_DATA,
        FLAG_COMMAND_REQUEST_MORE_FRAMES, FLAG_COMMAND_REQUEST_NEW,
    };

    const _: () = {
        use super::{v0005, v0006};
        assert!(v0005::COMMAND_REQUEST == v0006::COMMAND_REQUEST);
        assert!(v0005::COMMAND_DATA == v0006::COMMAND_DATA);
        assert!(v0005::FLAG_COMMAND_REQUEST_NEW == v0006::FLAG_COMMAND_REQUEST_NEW);
        assert!(
            v0005::FLAG_COMMAND_REQUEST_CONTINUATION == v0006::FLAG_COMMAND_REQUEST_CONTINUATION
        );
        assert!(v0005::FLAG_COMMAND_REQUEST_MORE_FRAMES == v0006::FLAG_COMMAND_REQUEST_MORE_FRAMES);
        assert!(v0005::FLAG_COMMAND_REQUEST_EXPECT_DATA == v0006::FLAG_COMMAND_REQUEST_EXPECT_DATA);
        assert!(v0005::FLAG_COMMAND_DATA_CONTINUATION == v0006::FLAG_COMMAND_DATA_CONTINUATION);
        assert!(v0005::FLAG_COMMAND_DATA_EOS == v0006::FLAG_COMMAND_DATA_EOS);
    };
}
