//! The 0005 client reactor: Mercurial 4.7.2's
//! `wireprotoframing.clientreactor` ported line by line (4.6's differs
//! only in comments), with its output stream and `createcommandframes`,
//! and what 4.7.2's `wireprotov2peer.clienthandler` adds on top of an
//! action ([`ClientReactor::peer_raises`]).
//!
//! What 4.7.2's reactor does not have, next to 6.0's: no content
//! encoders (no `sender-protocol-settings` frame; [`ClientOptions`]'s
//! encoders are not used), no redirect (a command with one fails as
//! `callcommand` does given an unknown keyword), no stream decoding (a
//! frame with the `encoded` flag raises, as does every `stream-settings`
//! frame: only `command-response` and `error-response` are handled). The
//! request map `{name, args?}` is encoded with the bundled cbor2,
//! canonical; an `error-response` payload is read with `cbor.loads` (one
//! value, the rest ignored).
//!
//! Receiving, per frame and in Mercurial's order: an odd stream id is an
//! error; a frame on an unknown stream needs `stream-begin` (the stream is
//! then known); the `encoded` flag raises; `stream-end` forgets the
//! stream; a frame of a request that is not active is an error; the
//! request becomes `receiving`; `command-response` and `error-response`
//! are handled and every other type raises `ProgrammingError: unhandled
//! frame type: N`.
//!
//! Not ported: the decoders `clienthandler` applies at a request's `eos`
//! for `heads`, `known`, `listkeys`, `branchmap`, `lookup` and `pushkey`
//! (`COMMAND_DECODERS`, and `formatrichmessage` for a status other than
//! `ok`). They can raise too (`StopIteration` for a response with no value
//! after the status map, `KeyError` for a status map without `status`,
//! what `%`-formatting an error message raises...), but what they raise
//! depends on Python 2's dict order, its string formatting and the
//! locale, so [`ClientReactor::peer_raises`] says what the handler does
//! with the reactor's actions and no more; [`super::response`] hands out
//! the objects the decoders would read.

use std::collections::VecDeque;

use super::outbox::{error, programming_error, split_command, Outbox};
use super::{
    ClientAction, ClientCrash, ClientOptions, ClientReactor, Command, Emitting, Fault, OverLimit,
    RequestState, SendGen,
};
use crate::python::cbor2::{self, ReadError};
use crate::python::value::{dict_get_in, Value};
use crate::python::Py;
use crate::wire::frame::{Frame, STREAM_BEGIN, STREAM_ENCODED, STREAM_END};
use crate::wire::ids::v0005::*;
use crate::wire::proto::Proto;

pub struct ClientReactor0005 {
    out: Outbox,
    /// `_incomingstreams`: the streams begun and not ended.
    incoming: Vec<u8>,
}

impl ClientReactor0005 {
    pub fn new(opts: ClientOptions) -> Self {
        ClientReactor0005 {
            out: Outbox::new(opts),
            incoming: Vec::new(),
        }
    }

    fn limit(&self) -> u64 {
        self.out.opts.limits.max_value
    }

    fn set_state(&mut self, rid: u16, state: RequestState) {
        if let Some(r) = self.out.requests.get_mut(&(rid as u32)) {
            r.state = state;
        }
    }

    /// `_onerrorresponseframe`: the request is finished before its payload
    /// is read with `cbor.loads`.
    fn on_error_response(&mut self, rid: u16, payload: &[u8]) -> Result<ClientAction, Fault> {
        self.set_state(rid, RequestState::Errored);
        self.out.active.remove(&rid);
        let limit = self.limit();
        let m = cbor2::load_limited(payload, limit).map_err(|e| match e {
            ReadError::Raises(e) => Fault::Raises(ClientCrash::new(
                e,
                "the client reactor decodes an error-response payload without checking it",
            )),
            ReadError::OverLimit { needed, limit } => Fault::OverLimit(OverLimit {
                what: format!("error-response payload of request {rid}"),
                detail: format!("it would hold {needed} bytes in memory"),
                limit,
            }),
        })?;
        let kind = subscript(&m, "type")?;
        let message = subscript(&m, "message")?;
        Ok(ClientAction::ServerError {
            request_id: rid,
            kind,
            message,
        })
    }
}

/// `m['key']` on Python 2 for a value cbor2 decoded, with its exceptions.
/// The start of `_makecommandframes(request)`: the request becomes
/// active and `sending`; its frames' (type, flags, payload).
fn start_request(out: &mut Outbox, id: u32) -> Result<Emitting, Fault> {
    if let Ok(rid) = u16::try_from(id) {
        out.active.insert(rid, ());
    }
    let mut parts = VecDeque::new();
    if let Some(req) = out.requests.get_mut(&id) {
        req.state = RequestState::Sending;
        command_frame_parts(&req.cmd, &mut parts)?;
    }
    Ok(Emitting {
        request_id: id,
        parts,
    })
}

fn subscript(m: &Value, key: &str) -> Result<Value, Fault> {
    let why = "the error-response payload is not a map with `type` and `message`";
    let crash = |e: String| Fault::Raises(ClientCrash::new(e, why));
    let no_getitem = |name: &str| {
        Err(crash(format!(
            "TypeError: '{name}' object has no attribute '__getitem__'"
        )))
    };
    match m {
        // 'type' == u'type' on Python 2: text keys match too.
        Value::Dict(d) => dict_get_in(Py::Two, d, &Value::bytes(key))
            .cloned()
            .ok_or_else(|| crash(format!("KeyError: {key}"))),
        Value::List(_) | Value::Tuple(_) => Err(crash(
            "TypeError: list indices must be integers, not str".into(),
        )),
        Value::Bytes(_) | Value::Chunk { .. } => Err(crash(
            "TypeError: string indices must be integers, not str".into(),
        )),
        Value::Str(_) => Err(crash("TypeError: string indices must be integers".into())),
        Value::ByteArray(_) => Err(crash(
            "TypeError: bytearray indices must be integers".into(),
        )),
        // A MIME message (tag 36) looks the name up among its headers;
        // the port keeps no headers, so it finds none, as for most texts.
        Value::Opaque("instance", _) => Ok(Value::None),
        Value::Opaque("datetime", _) => no_getitem("datetime.datetime"),
        Value::Opaque("SRE_Pattern", _) => no_getitem("_sre.SRE_Pattern"),
        other => no_getitem(other.type_name_in(Py::Two)),
    }
}

/// `createcommandframes`: `cbor.dumps({name, args?}, canonical=True)` in
/// `command-request` frames of at most 32768 bytes, then the data in
/// `command-data` frames.
fn command_frame_parts(
    cmd: &Command,
    parts: &mut VecDeque<(u8, u8, Vec<u8>)>,
) -> Result<(), Fault> {
    let mut m = vec![(Value::bytes("name"), Value::Bytes(cmd.name.clone()))];
    if cmd.args.truthy() {
        m.push((Value::bytes("args"), cmd.args.clone()));
    }
    let data = cbor2::encode_canonical(&Value::Dict(m)).map_err(|e| {
        Fault::Raises(ClientCrash::new(
            e.to_string(),
            "cbor2 cannot encode the command's arguments",
        ))
    })?;
    split_command(&data, cmd.data.as_deref(), parts);
    Ok(())
}

impl ClientReactor for ClientReactor0005 {
    fn proto(&self) -> Proto {
        Proto::P0005
    }

    fn call_command(&mut self, cmd: Command) -> Result<(u16, ClientAction), Fault> {
        if cmd.redirect.is_some() {
            return Err(Fault::Raises(ClientCrash::new(
                "TypeError: callcommand() got an unexpected keyword argument 'redirect'",
                "4.6/4.7 clients have no content redirects",
            )));
        }
        self.out.call_command(cmd)
    }

    fn flush_commands(&mut self) -> Result<ClientAction, Fault> {
        self.out.flush_commands()
    }

    fn next_frame(&mut self, gen: &mut SendGen) -> Option<Result<Frame, Fault>> {
        self.out.next_frame(gen, start_request)
    }

    fn on_frame(&mut self, f: &Frame) -> Result<ClientAction, Fault> {
        if f.stream_id % 2 == 1 {
            return Ok(ClientAction::Error {
                message: format!(
                    "received frame with odd numbered stream ID: {}",
                    f.stream_id
                )
                .into_bytes(),
            });
        }
        if !self.incoming.contains(&f.stream_id) {
            if f.stream_flags & STREAM_BEGIN == 0 {
                return Ok(error(
                    "received frame on unknown stream without beginning of stream flag set",
                ));
            }
            self.incoming.push(f.stream_id);
        }
        if f.stream_flags & STREAM_ENCODED != 0 {
            return Err(programming_error(
                "support for decoding stream payloads not yet implemneted",
                "4.6/4.7 clients decode no stream payloads (the message's typo is Mercurial's)",
            ));
        }
        if f.stream_flags & STREAM_END != 0 {
            self.incoming.retain(|s| *s != f.stream_id);
        }
        if !self.out.active.contains_key(&f.request_id) {
            return Ok(ClientAction::Error {
                message: format!("received frame for inactive request ID: {}", f.request_id)
                    .into_bytes(),
            });
        }
        let rid = f.request_id;
        self.set_state(rid, RequestState::Receiving);
        match f.type_id {
            COMMAND_RESPONSE => {
                if f.flags & FLAG_COMMAND_RESPONSE_EOS != 0 {
                    self.set_state(rid, RequestState::Received);
                    self.out.active.remove(&rid);
                }
                Ok(ClientAction::ResponseData {
                    request_id: rid,
                    expect_more: f.flags & FLAG_COMMAND_RESPONSE_CONTINUATION,
                    eos: f.flags & FLAG_COMMAND_RESPONSE_EOS,
                    data: f.payload.clone(),
                })
            }
            ERROR_RESPONSE => self.on_error_response(rid, &f.payload),
            t => Err(programming_error(
                &format!("unhandled frame type: {t}"),
                "4.6/4.7 clients handle only command-response and error-response frames",
            )),
        }
    }

    fn requests(&self) -> Vec<(u16, RequestState)> {
        self.out
            .requests
            .iter()
            .filter_map(|(id, r)| u16::try_from(*id).ok().map(|i| (i, r.state)))
            .collect()
    }

    fn stream_encoding(&self, _stream_id: u8) -> Option<&[u8]> {
        None
    }

    /// `clienthandler._processframe` of 4.7.2 raises after every `error`
    /// action: `RepoError(message)` when the request has no future (never
    /// issued, or finished by its `eos`), else — having set the future's
    /// exception — `ProgrammingError: unhandled action from clientreactor:
    /// error`, as its `if/else` does not return after an error. Either way
    /// the response thread ends and the rest of the body is not read.
    fn peer_raises(&self, request_id: u16, action: &ClientAction) -> Option<ClientCrash> {
        let has_future = self
            .out
            .requests
            .get(&(request_id as u32))
            .is_some_and(|r| r.state != RequestState::Received);
        match action {
            ClientAction::Error { message } if !has_future => Some(ClientCrash::new(
                format!("RepoError: {}", String::from_utf8_lossy(message)),
                "4.7's client handler raises the reactor's error for a request it is not waiting for",
            )),
            // An error-response is only read for an active request, which
            // the peer waits for.
            ClientAction::Error { .. } | ClientAction::ServerError { .. } => Some(ClientCrash::new(
                "ProgrammingError: unhandled action from clientreactor: error",
                "4.7's client handler sets the request's exception, then falls through to its check for unknown actions",
            )),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::human::parse_human;

    fn f(s: &str) -> Frame {
        parse_human(Proto::P0005, s).unwrap().frame
    }

    fn sent(r: &mut ClientReactor0005, a: ClientAction) -> Vec<Frame> {
        let ClientAction::SendFrames(mut g) = a else {
            panic!("{a:?}")
        };
        let mut out = Vec::new();
        while let Some(fr) = r.next_frame(&mut g) {
            out.push(fr.unwrap());
        }
        out
    }

    fn unbuffered() -> ClientReactor0005 {
        ClientReactor0005::new(ClientOptions {
            buffer_sends: false,
            has_multiple_send: true,
            ..Default::default()
        })
    }

    fn raised(a: Result<ClientAction, Fault>) -> String {
        match a {
            Err(Fault::Raises(c)) => c.exception,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn requests_are_cbor2_canonical_without_settings() {
        let mut r = ClientReactor0005::new(ClientOptions {
            content_encoders: Some(vec![b"zlib".to_vec()]),
            ..Default::default()
        });
        let mut c = Command::new("known");
        c.args = Value::dict([("nodes", Value::List(vec![])), ("x", Value::Int(1))]);
        r.call_command(c).unwrap();
        let a = r.flush_commands().unwrap();
        let frames = sent(&mut r, a);
        assert_eq!(frames.len(), 1, "no sender-protocol-settings frame");
        let fr = &frames[0];
        assert_eq!(
            (
                fr.request_id,
                fr.stream_id,
                fr.stream_flags,
                fr.type_id,
                fr.flags
            ),
            (
                1,
                1,
                STREAM_BEGIN,
                COMMAND_REQUEST,
                FLAG_COMMAND_REQUEST_NEW
            )
        );
        // keys sorted by encoded length: args before name; x before nodes
        assert_eq!(
            crate::python::escape::hex(&fr.payload),
            "a24461726773a2417801456e6f64657380446e616d65456b6e6f776e"
        );
    }

    #[test]
    fn encoded_frames_and_stream_settings_raise() {
        let mut r = unbuffered();
        let (_, a) = r.call_command(Command::new("heads")).unwrap();
        sent(&mut r, a);
        assert_eq!(
            raised(r.on_frame(&f("1 2 stream-begin|encoded command-response eos x"))),
            "ProgrammingError: support for decoding stream payloads not yet implemneted"
        );
        // the stream was registered before the raise
        assert_eq!(
            raised(r.on_frame(&f("1 2 0 stream-settings 0 cbor:b'zlib'"))),
            "ProgrammingError: unhandled frame type: 8"
        );
        assert_eq!(r.requests(), vec![(1, RequestState::Receiving)]);
        assert!(matches!(
            r.on_frame(&f(
                "1 2 stream-end command-response eos cbor:{b'status': b'ok'}"
            )),
            Ok(ClientAction::ResponseData { eos: 2, .. })
        ));
        assert!(matches!(
            r.on_frame(&f("1 2 0 command-response eos ")),
            Ok(ClientAction::Error { .. })
        ));
    }

    #[test]
    fn error_responses_are_read_with_cbor2() {
        let mut r = unbuffered();
        for _ in 0..5 {
            let (_, a) = r.call_command(Command::new("heads")).unwrap();
            sent(&mut r, a);
        }
        assert!(raised(r.on_frame(&f("1 2 stream-begin error-response 0 ")))
            .starts_with("CBORDecodeError: error reading major type at index 0"));
        assert_eq!(
            raised(r.on_frame(&f("3 2 0 error-response 0 cbor:[b'x']"))),
            "TypeError: list indices must be integers, not str"
        );
        assert_eq!(
            raised(r.on_frame(&f("5 2 0 error-response 0 cbor:{b'type': 1}"))),
            "KeyError: message"
        );
        // text keys match on Python 2; trailing bytes are ignored
        let mut fr = f("7 2 0 error-response 0 cbor:{u'type': b't', b'message': [1]}");
        fr.payload.push(0xff);
        match r.on_frame(&fr) {
            Ok(ClientAction::ServerError {
                request_id: 7,
                kind,
                message,
            }) => {
                assert_eq!(kind, Value::bytes("t"));
                assert_eq!(message, Value::List(vec![Value::Int(1)]));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            raised(r.on_frame(&f("9 2 0 error-response 0 cbor:7"))),
            "TypeError: 'int' object has no attribute '__getitem__'"
        );
        assert!(r
            .requests()
            .iter()
            .all(|(_, s)| *s == RequestState::Errored));
    }

    #[test]
    fn the_peer_raises_on_every_error() {
        let mut r = unbuffered();
        let (_, a) = r.call_command(Command::new("heads")).unwrap();
        sent(&mut r, a);
        let a = r
            .on_frame(&f(
                "1 2 stream-begin error-response 0 cbor:{b'type': b'server', b'message': [{b'msg': b'm'}]}",
            ))
            .unwrap();
        assert_eq!(
            r.peer_raises(1, &a).unwrap().exception,
            "ProgrammingError: unhandled action from clientreactor: error"
        );
        let a = r.on_frame(&f("3 2 0 command-response eos ")).unwrap();
        assert_eq!(
            r.peer_raises(3, &a).unwrap().exception,
            "RepoError: received frame for inactive request ID: 3"
        );
        let data = ClientAction::ResponseData {
            request_id: 1,
            expect_more: 0,
            eos: 2,
            data: Vec::new(),
        };
        assert!(r.peer_raises(1, &data).is_none());
    }

    #[test]
    fn redirects_are_refused() {
        let mut r = unbuffered();
        let mut c = Command::new("heads");
        c.redirect = Some(Value::dict([("targets", Value::List(vec![]))]));
        assert!(matches!(r.call_command(c), Err(Fault::Raises(_))));
        // no id was taken
        let (id, _) = r.call_command(Command::new("heads")).unwrap();
        assert_eq!(id, 1);
    }

    #[test]
    fn error_response_payloads_are_bounded() {
        let mut r = ClientReactor0005::new(ClientOptions {
            buffer_sends: false,
            limits: super::super::Limits { max_value: 1000 },
            ..Default::default()
        });
        let (_, a) = r.call_command(Command::new("heads")).unwrap();
        sent(&mut r, a);
        // 500 nested one-item lists: more items than the bound allows
        let mut p = vec![0x81; 500];
        p.push(0);
        let fr = Frame::new(ERROR_RESPONSE, 0, p).with_ids(1, 2, STREAM_BEGIN);
        assert!(matches!(r.on_frame(&fr), Err(Fault::OverLimit(_))));
    }
}
