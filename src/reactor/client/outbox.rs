//! The sending half that both client reactors share: Mercurial's
//! `clientreactor` of 4.6/4.7 and of 4.8–6.0 issue, buffer, flush and frame
//! commands alike (`callcommand`, `flushcommands`, the `_makecommandframes`
//! generator, stream 1's `makeframe`); they differ in what a request's
//! frames are, which each reactor gives as its `start_request`.

use std::collections::{BTreeMap, VecDeque};

use super::{
    ClientAction, ClientCrash, ClientOptions, Command, Emitting, Fault, GenSource, RequestState,
    SendGen,
};
use crate::reactor::IdMap;
use crate::wire::frame::{Frame, DEFAULT_MAX_FRAME_SIZE, STREAM_BEGIN};
// 0005 and 0006 number these alike (checked when compiling).
use crate::wire::ids::commands::{
    COMMAND_DATA, COMMAND_REQUEST, FLAG_COMMAND_DATA_CONTINUATION, FLAG_COMMAND_DATA_EOS,
    FLAG_COMMAND_REQUEST_CONTINUATION, FLAG_COMMAND_REQUEST_EXPECT_DATA,
    FLAG_COMMAND_REQUEST_MORE_FRAMES, FLAG_COMMAND_REQUEST_NEW,
};

/// `commandrequest`.
pub(super) struct Request {
    pub cmd: Command,
    pub state: RequestState,
}

/// The stream a client sends on.
const OUTGOING_STREAM: u8 = 1;

pub(super) struct Outbox {
    pub opts: ClientOptions,
    pub can_issue_commands: bool,
    pub can_send: bool,
    /// Python ints do not overflow; ids past 65535 fail when framed.
    pub next_request_id: u32,
    /// `_outgoingstream._active`: stream 1 has begun.
    pub outgoing_active: bool,
    pub pending: VecDeque<u32>,
    /// Every request created, by id.
    pub requests: BTreeMap<u32, Request>,
    pub active: IdMap<()>,
}

pub(super) fn programming_error(msg: &str, why: &str) -> Fault {
    Fault::Raises(ClientCrash::new(format!("ProgrammingError: {msg}"), why))
}

impl Outbox {
    pub fn new(opts: ClientOptions) -> Self {
        Outbox {
            opts,
            can_issue_commands: true,
            can_send: true,
            next_request_id: 1,
            outgoing_active: false,
            pending: VecDeque::new(),
            requests: BTreeMap::new(),
            active: IdMap::default(),
        }
    }

    /// `stream.makeframe` on stream 1.
    pub fn make_frame(
        &mut self,
        request_id: u32,
        type_id: u8,
        flags: u8,
        payload: Vec<u8>,
    ) -> Result<Frame, Fault> {
        let rid = u16::try_from(request_id).map_err(|_| {
            Fault::Raises(ClientCrash::new(
                "struct.error: 'H' format requires 0 <= number <= 65535",
                format!("request id {request_id} does not fit the header's 16 bits (ids grow by 2 per command)"),
            ))
        })?;
        let sflags = if self.outgoing_active {
            0
        } else {
            STREAM_BEGIN
        };
        self.outgoing_active = true;
        Ok(Frame::new(type_id, flags, payload).with_ids(rid, OUTGOING_STREAM, sflags))
    }

    /// `callcommand` (after what a revision checks first).
    pub fn call_command(&mut self, cmd: Command) -> Result<(u16, ClientAction), Fault> {
        if !self.can_issue_commands {
            return Err(programming_error(
                "cannot issue new commands",
                "a client without multiple sends issues no command after its one send",
            ));
        }
        let id = self.next_request_id;
        self.next_request_id += 2;
        self.requests.insert(
            id,
            Request {
                cmd,
                state: RequestState::Pending,
            },
        );
        // Ids past 65535 are only refused when a frame carries them.
        let shown = id.min(u16::MAX as u32) as u16;
        if self.opts.buffer_sends {
            self.pending.push_back(id);
            return Ok((shown, ClientAction::Noop));
        }
        if !self.can_send {
            return Err(programming_error(
                "sends cannot be performed on this instance",
                "a client without multiple sends sends once",
            ));
        }
        if !self.opts.has_multiple_send {
            self.can_send = false;
            self.can_issue_commands = false;
        }
        Ok((
            shown,
            ClientAction::SendFrames(SendGen::new(GenSource::One(Some(id)))),
        ))
    }

    /// `flushcommands`.
    pub fn flush_commands(&mut self) -> Result<ClientAction, Fault> {
        if self.pending.is_empty() {
            return Ok(ClientAction::Noop);
        }
        if !self.can_send {
            return Err(programming_error(
                "sends cannot be performed on this instance",
                "a client without multiple sends sends once",
            ));
        }
        if !self.opts.has_multiple_send {
            self.can_issue_commands = false;
            self.can_send = false;
        }
        Ok(ClientAction::SendFrames(SendGen::new(GenSource::Pending)))
    }

    /// The next frame of a send generator; `start_request` begins a
    /// request's frames (the part each revision writes its own way).
    pub fn next_frame(
        &mut self,
        gen: &mut SendGen,
        mut start_request: impl FnMut(&mut Outbox, u32) -> Result<Emitting, Fault>,
    ) -> Option<Result<Frame, Fault>> {
        loop {
            if gen.done {
                return None;
            }
            if let Some(cur) = &mut gen.current {
                if let Some((t, fl, p)) = cur.parts.pop_front() {
                    let id = cur.request_id;
                    let r = self.make_frame(id, t, fl, p);
                    if r.is_err() {
                        gen.done = true;
                    }
                    return Some(r);
                }
                // The generator resumes after the request's last frame.
                let id = cur.request_id;
                gen.current = None;
                if let Some(r) = self.requests.get_mut(&id) {
                    r.state = RequestState::Sent;
                }
            }
            let next = match &mut gen.source {
                GenSource::One(id) => id.take(),
                GenSource::Pending => self.pending.pop_front(),
            };
            let Some(id) = next else {
                gen.done = true;
                return None;
            };
            match start_request(self, id) {
                Ok(e) => gen.current = Some(e),
                Err(f) => {
                    gen.done = true;
                    return Some(Err(f));
                }
            }
        }
    }
}

/// An action refusing a frame with Mercurial's message.
pub(super) fn error(m: &str) -> ClientAction {
    ClientAction::Error {
        message: m.as_bytes().to_vec(),
    }
}

/// The rest of `createcommandframes`: the encoded request `data` in
/// `command-request` frames of at most 32768 bytes (`expect-data` when a
/// body follows), then `body` in `command-data` frames.
pub(super) fn split_command(
    data: &[u8],
    body: Option<&[u8]>,
    parts: &mut VecDeque<(u8, u8, Vec<u8>)>,
) {
    let have_data = body.is_some();
    let mut offset = 0;
    loop {
        let mut flags = if offset == 0 {
            FLAG_COMMAND_REQUEST_NEW
        } else {
            FLAG_COMMAND_REQUEST_CONTINUATION
        };
        if have_data {
            flags |= FLAG_COMMAND_REQUEST_EXPECT_DATA;
        }
        let end = (offset + DEFAULT_MAX_FRAME_SIZE).min(data.len());
        let payload = data[offset..end].to_vec();
        offset = end;
        if payload.len() == DEFAULT_MAX_FRAME_SIZE && offset < data.len() {
            flags |= FLAG_COMMAND_REQUEST_MORE_FRAMES;
        }
        parts.push_back((COMMAND_REQUEST, flags, payload));
        if flags & FLAG_COMMAND_REQUEST_MORE_FRAMES == 0 {
            break;
        }
    }
    if let Some(d) = body {
        let mut offset = 0;
        loop {
            let end = (offset + DEFAULT_MAX_FRAME_SIZE).min(d.len());
            let payload = d[offset..end].to_vec();
            offset = end;
            let full = payload.len() == DEFAULT_MAX_FRAME_SIZE;
            let flags = if full {
                FLAG_COMMAND_DATA_CONTINUATION
            } else {
                FLAG_COMMAND_DATA_EOS
            };
            parts.push_back((COMMAND_DATA, flags, payload));
            if !full {
                break;
            }
        }
    }
}
