//! Incoming stream bookkeeping shared by the 0002 and 0006 reactors.
//!
//! Runs before the state machine sees a frame, in Mercurial's order: an
//! even stream id is an error; a frame on an unknown stream needs
//! `stream-begin`; the `encoded` flag is unimplemented (Mercurial raises
//! `ProgrammingError`); `stream-end` forgets the stream.

use super::{msg, Action, ServerCrash, State};
use crate::wire::frame::{Frame, STREAM_BEGIN, STREAM_ENCODED, STREAM_END};

/// The set of active incoming streams.
#[derive(Default, Clone)]
pub struct InputStreams {
    active: [u64; 4],
}

/// Outcome of the stream checks.
pub enum StreamCheck {
    /// Go on to the state machine.
    Ok,
    /// Report this error and enter the errored state.
    Error(Action),
}

impl InputStreams {
    fn has(&self, id: u8) -> bool {
        self.active[(id >> 6) as usize] & (1 << (id & 63)) != 0
    }

    /// Apply the stream rules to a received frame.
    pub fn check(&mut self, f: &Frame) -> Result<StreamCheck, ServerCrash> {
        if f.stream_id.is_multiple_of(2) {
            return Ok(StreamCheck::Error(msg(format!(
                "received frame with even numbered stream ID: {}",
                f.stream_id
            ))));
        }
        if !self.has(f.stream_id) {
            if f.stream_flags & STREAM_BEGIN == 0 {
                return Ok(StreamCheck::Error(msg(
                    "received frame on unknown inactive stream without beginning of stream flag set",
                )));
            }
            self.active[(f.stream_id >> 6) as usize] |= 1 << (f.stream_id & 63);
        }
        if f.stream_flags & STREAM_ENCODED != 0 {
            return Err(ServerCrash::new(
                "ProgrammingError: support for decoding stream payloads not yet implemented",
                "the frame has the `encoded` stream flag, which Mercurial's server reactor does not implement",
            ));
        }
        if f.stream_flags & STREAM_END != 0 {
            self.active[(f.stream_id >> 6) as usize] &= !(1 << (f.stream_id & 63));
        }
        Ok(StreamCheck::Ok)
    }
}

impl InputStreams {
    /// The prologue of `onframerecv` for revisions with streams: run the
    /// stream checks, and on a failure enter the errored state and return
    /// what the reactor returns for this frame.
    pub fn prologue(
        &mut self,
        f: &Frame,
        state: &mut State,
    ) -> Option<Result<Action, ServerCrash>> {
        match self.check(f) {
            Ok(StreamCheck::Ok) => None,
            Ok(StreamCheck::Error(a)) => {
                *state = State::Errored;
                Some(Ok(a))
            }
            Err(c) => {
                *state = State::Errored;
                Some(Err(c))
            }
        }
    }
}
