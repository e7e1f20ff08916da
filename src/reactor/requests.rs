//! Command requests assembled from their frames, as the 0005 and 0006
//! server reactors both do it: `_onframeidle`,
//! `_validatecommandrequestframe`, `_onframecommandreceiving` and the
//! first half of `_makeruncommandresult` are the same lines in Mercurial
//! 4.6/4.7 and 4.8–6.0 (and the frame ids and flags the same numbers,
//! [`crate::wire::ids::commands`]). Each reactor keeps what differs: its
//! states (0006 has `initial` and the protocol settings before `idle`) and
//! how a complete request is decoded and dispatched.

use std::borrow::Cow;

use super::{IdMap, IdSet, ServerCrash};
use crate::wire::frame::Frame;
use crate::wire::ids::commands::*;

/// A request whose frames are still arriving.
pub(super) struct Entry {
    payload: Vec<u8>,
    data: Option<Vec<u8>>,
    request_done: bool,
    expecting_data: bool,
}

/// What a frame did to the requests being received.
pub(super) enum Received<'f> {
    /// More frames are wanted.
    Want,
    /// The reactor errors with this message.
    Error(String),
    /// A request is complete: its map (CBOR, not yet decoded) and data.
    Complete {
        id: u16,
        /// Borrowed from the frame when the request was that one frame.
        payload: Cow<'f, [u8]>,
        data: Option<Vec<u8>>,
    },
}

/// The requests being received (`_receivingcommands`).
#[derive(Default)]
pub(super) struct Receiving(IdMap<Entry>);

/// `_validatecommandrequestframe`: the message when a `command-request`
/// frame's new and continuation flags do not make sense.
fn invalid_request(f: &Frame) -> Option<&'static str> {
    let new = f.flags & FLAG_COMMAND_REQUEST_NEW != 0;
    let cont = f.flags & FLAG_COMMAND_REQUEST_CONTINUATION != 0;
    match (new, cont) {
        (true, true) => {
            Some("received command request frame with both new and continuation flags set")
        }
        (false, false) => {
            Some("received command request frame with neither new nor continuation flags set")
        }
        _ => None,
    }
}

impl Receiving {
    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `_onframeidle`: a frame when no request is being received (or one
    /// that starts a new request while others are).
    pub(super) fn on_idle<'f>(
        &mut self,
        active: &IdSet,
        f: &'f Frame,
    ) -> Result<Received<'f>, ServerCrash> {
        if f.type_id != COMMAND_REQUEST {
            return Ok(Received::Error(format!(
                "expected command request frame; got {}",
                f.type_id
            )));
        }
        if let Some(m) = invalid_request(f) {
            return Ok(Received::Error(m.into()));
        }
        let id = f.request_id;
        if self.0.contains_key(&id) {
            return Ok(Received::Error(format!(
                "request with ID {id} already received"
            )));
        }
        if active.contains(id) {
            return Ok(Received::Error(format!(
                "request with ID {id} is already active"
            )));
        }
        if f.flags & FLAG_COMMAND_REQUEST_NEW == 0 {
            return Ok(Received::Error(
                "received command request frame without new flag set".into(),
            ));
        }
        let more = f.flags & FLAG_COMMAND_REQUEST_MORE_FRAMES != 0;
        let expecting_data = f.flags & FLAG_COMMAND_REQUEST_EXPECT_DATA != 0;
        if !more && !expecting_data {
            // A complete single-frame request: what entering it in the
            // table and taking it out again amounts to, without a copy.
            return Ok(Received::Complete {
                id,
                payload: Cow::Borrowed(&f.payload),
                data: None,
            });
        }
        self.0.insert(
            id,
            Entry {
                payload: f.payload.clone(),
                data: None,
                request_done: !more,
                expecting_data,
            },
        );
        Ok(Received::Want)
    }

    /// `_onframecommandreceiving`: a frame while requests are being
    /// received.
    pub(super) fn on_receiving<'f>(
        &mut self,
        active: &IdSet,
        f: &'f Frame,
    ) -> Result<Received<'f>, ServerCrash> {
        if f.type_id == COMMAND_REQUEST {
            if f.flags & FLAG_COMMAND_REQUEST_NEW != 0 {
                return self.on_idle(active, f);
            }
            if let Some(m) = invalid_request(f) {
                return Ok(Received::Error(m.into()));
            }
        }
        let id = f.request_id;
        if active.contains(id) {
            return Ok(Received::Error(format!(
                "received frame for request that is still active: {id}"
            )));
        }
        let Some(entry) = self.0.get_mut(&id) else {
            return Ok(not_receiving(id));
        };
        match f.type_id {
            COMMAND_REQUEST => {
                let more = f.flags & FLAG_COMMAND_REQUEST_MORE_FRAMES != 0;
                let expecting_data = f.flags & FLAG_COMMAND_REQUEST_EXPECT_DATA != 0;
                if entry.request_done {
                    return Ok(Received::Error(
                        "received command request frame when request frames were supposedly done"
                            .into(),
                    ));
                }
                if expecting_data != entry.expecting_data {
                    return Ok(Received::Error(
                        "mismatch between expect data flag and previous frame".into(),
                    ));
                }
                entry.payload.extend_from_slice(&f.payload);
                if !more {
                    entry.request_done = true;
                }
                if !more && !expecting_data {
                    return self.complete(id);
                }
                Ok(Received::Want)
            }
            COMMAND_DATA => {
                if !entry.expecting_data {
                    return Ok(Received::Error(format!(
                        "received command data frame for request that is not expecting data: {id}"
                    )));
                }
                entry
                    .data
                    .get_or_insert_with(Vec::new)
                    .extend_from_slice(&f.payload);
                if f.flags & FLAG_COMMAND_DATA_CONTINUATION != 0 {
                    Ok(Received::Want)
                } else if f.flags & FLAG_COMMAND_DATA_EOS != 0 {
                    self.complete(id)
                } else {
                    Ok(Received::Error("command data frame without flags".into()))
                }
            }
            t => Ok(Received::Error(format!(
                "received unexpected frame type: {t}"
            ))),
        }
    }

    /// The first half of `_makeruncommandresult`: the request leaves the
    /// table (the reactor then decodes it).
    fn complete(&mut self, id: u16) -> Result<Received<'static>, ServerCrash> {
        let done = self.0.get(&id).is_some_and(|e| e.request_done);
        if !done {
            return Err(ServerCrash::new(
                "ProgrammingError: should not be called without requestdone set",
                format!("request {id}'s data ended (command-data eos) while its command-request frames had announced more (the `more` flag); Mercurial asserts this never happens"),
            ));
        }
        let Some(entry) = self.0.remove(&id) else {
            return Ok(not_receiving(id));
        };
        Ok(Received::Complete {
            id,
            payload: Cow::Owned(entry.payload),
            data: entry.data,
        })
    }
}

fn not_receiving(id: u16) -> Received<'static> {
    Received::Error(format!(
        "received frame for request that is not receiving: {id}"
    ))
}
