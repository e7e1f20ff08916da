//! The 0006 client reactor: Mercurial 6.0's `wireprotoframing.clientreactor`
//! ported line by line, with its input streams (`inputstream`) and the
//! request side (`callcommand`, `flushcommands`, `_makecommandframes`,
//! `createcommandframes`).
//!
//! Receiving, per frame and in Mercurial's order: an odd stream id is an
//! error; a frame on an unknown stream needs `stream-begin`; an `encoded`
//! payload is decoded by the stream's decoder before anything else (even
//! for stream-settings frames and frames of inactive requests); a
//! `stream-end` frame forgets its stream before it is handled (so a
//! stream-settings frame that also ends the stream fails with the
//! `KeyError` of the lookup); stream-settings frames are handled whatever
//! their request id; a frame of a request that is not active (never sent,
//! or already finished) is an error; `command-response` and
//! `error-response` are handled and every other type raises
//! `ProgrammingError: unhandled frame type: N` after the request was
//! marked `receiving`. There is no errored state: every frame is judged
//! on its own.
//!
//! Sending: frames are produced when the generator is pulled, and request
//! states and the outgoing stream's `stream-begin` follow the order in
//! which they are pulled, as with Python's generators.

use std::collections::{BTreeMap, VecDeque};

use super::decoders::{lookup, StreamDecoder, StreamFault};
use super::outbox::{error, programming_error, split_command, Outbox};
use super::{
    ClientAction, ClientCrash, ClientOptions, ClientReactor, Command, Emitting, Fault, OverLimit,
    RequestState, SendGen,
};
use crate::python::cbor::{self, BufferingDecoder, DecodeError};
use crate::python::value::{dict_get, Value};
use crate::wire::frame::{Frame, STREAM_BEGIN, STREAM_ENCODED, STREAM_END};
use crate::wire::ids::v0006::*;
use crate::wire::proto::Proto;

/// `inputstream`: its decoder, `None` until stream settings name one
/// (Mercurial then passes payloads through unchanged).
struct InputStream {
    decoder: Option<StreamDecoder>,
}

pub struct ClientReactor0006 {
    out: Outbox,
    protocol_settings_sent: bool,
    incoming: BTreeMap<u8, InputStream>,
    settings_decoders: BTreeMap<u8, BufferingDecoder>,
}

impl ClientReactor0006 {
    pub fn new(opts: ClientOptions) -> Self {
        ClientReactor0006 {
            out: Outbox::new(opts),
            protocol_settings_sent: false,
            incoming: BTreeMap::new(),
            settings_decoders: BTreeMap::new(),
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

    fn on_stream_settings(&mut self, f: &Frame, payload: &[u8]) -> Result<ClientAction, Fault> {
        let more = f.flags & FLAG_STREAM_SETTINGS_CONTINUATION != 0;
        let eos = f.flags & FLAG_STREAM_SETTINGS_EOS != 0;
        if more && eos {
            return Ok(error(
                "stream encoding settings frame cannot have both continuation and end of stream flags set",
            ));
        }
        if !more && !eos {
            return Ok(error(
                "stream encoding settings frame must have continuation or end of stream flag set",
            ));
        }
        let limit = self.limit();
        let decoder = self
            .settings_decoders
            .entry(f.stream_id)
            .or_insert_with(|| BufferingDecoder::with_limit(limit));
        if let Err(e) = decoder.decode(payload) {
            if e.is_over_limit() {
                return Err(over_limit(
                    format!("stream settings of stream {}", f.stream_id),
                    &e,
                    limit,
                ));
            }
            let mut m = b"error decoding CBOR from stream encoding settings frame: ".to_vec();
            m.extend_from_slice(e.python_str().as_bytes());
            return Ok(ClientAction::Error { message: m });
        }
        if more {
            return Ok(ClientAction::Noop);
        }
        let decoded = decoder.get_available();
        self.settings_decoders.remove(&f.stream_id);
        if decoded.is_empty() {
            return Ok(error(
                "stream encoding settings frame did not contain CBOR data",
            ));
        }
        let mut prefix = b"error setting stream decoder: ".to_vec();
        // `self._incomingstreams[frame.streamid]` is looked up before the
        // name: a stream that this very frame ended raises KeyError.
        let Some(stream) = self.incoming.get_mut(&f.stream_id) else {
            prefix.extend_from_slice(f.stream_id.to_string().as_bytes());
            return Ok(ClientAction::Error { message: prefix });
        };
        let made = lookup(&decoded[0]).and_then(|name| StreamDecoder::new(name, &decoded[1..]));
        match made {
            Ok(d) => {
                stream.decoder = Some(d);
                Ok(ClientAction::Noop)
            }
            Err(m) => {
                prefix.extend_from_slice(&m);
                Ok(ClientAction::Error { message: prefix })
            }
        }
    }

    fn on_error_response(&mut self, rid: u16, payload: &[u8]) -> Result<ClientAction, Fault> {
        self.set_state(rid, RequestState::Errored);
        self.out.active.remove(&rid);
        let why = "the client reactor decodes an error-response payload without checking it";
        let mut vals = cbor::decode_all_limited(payload, self.limit()).map_err(|e| {
            if e.is_over_limit() {
                over_limit(
                    format!("error-response payload of request {rid}"),
                    &e,
                    self.limit(),
                )
            } else {
                Fault::Raises(ClientCrash::new(e.python_exception(), why))
            }
        })?;
        if vals.is_empty() {
            return Err(Fault::Raises(ClientCrash::new(
                "IndexError: list index out of range",
                "the error-response payload is empty: `cborutil.decodeall(payload)[0]`",
            )));
        }
        let m = vals.swap_remove(0);
        let kind = subscript(&m, "type")?;
        let message = subscript(&m, "message")?;
        Ok(ClientAction::ServerError {
            request_id: rid,
            kind,
            message,
        })
    }
}

/// `m[b'key']` for a decoded value, with Python's exceptions.
/// The start of `_makecommandframes(request)`: the request becomes
/// active and `sending`; its frames' (type, flags, payload), the
/// sender settings first if they are still to be sent.
fn start_request(out: &mut Outbox, settings_sent: &mut bool, id: u32) -> Result<Emitting, Fault> {
    if let Ok(rid) = u16::try_from(id) {
        out.active.insert(rid, ());
    }
    let mut parts = VecDeque::new();
    let Some(req) = out.requests.get_mut(&id) else {
        return Ok(Emitting {
            request_id: id,
            parts,
        });
    };
    req.state = RequestState::Sending;
    let encoders = out.opts.content_encoders.as_ref().filter(|e| !e.is_empty());
    if let (false, Some(enc)) = (*settings_sent, encoders) {
        *settings_sent = true;
        let v = Value::dict([(
            "contentencodings",
            Value::List(enc.iter().map(|e| Value::Bytes(e.clone())).collect()),
        )]);
        parts.push_back((
            SENDER_PROTOCOL_SETTINGS,
            FLAG_SENDER_PROTOCOL_SETTINGS_EOS,
            cbor::encode(&v).map_err(encode_crash)?,
        ));
    }
    let req = &out.requests[&id];
    command_frame_parts(&req.cmd, &mut parts)?;
    Ok(Emitting {
        request_id: id,
        parts,
    })
}

fn subscript(m: &Value, key: &str) -> Result<Value, Fault> {
    let why = "the error-response payload is not a map with `type` and `message`";
    let crash = |e: String| Fault::Raises(ClientCrash::new(e, why));
    match m {
        Value::Dict(d) => dict_get(d, &Value::bytes(key))
            .cloned()
            .ok_or_else(|| crash(format!("KeyError: {key}"))),
        Value::List(_) => Err(crash(
            "TypeError: list indices must be integers or slices, not bytes".into(),
        )),
        Value::Tuple(_) => Err(crash(
            "TypeError: tuple indices must be integers or slices, not bytes".into(),
        )),
        Value::Bytes(_) | Value::Chunk { .. } => Err(crash(
            "TypeError: byte indices must be integers or slices, not bytes".into(),
        )),
        other => Err(crash(format!(
            "TypeError: '{}' object is not subscriptable",
            other.type_name()
        ))),
    }
}

fn over_limit(what: String, e: &DecodeError, limit: u64) -> Fault {
    Fault::OverLimit(OverLimit {
        what,
        detail: e.0.clone(),
        limit,
    })
}

fn encode_crash(e: cbor::EncodeError) -> Fault {
    Fault::Raises(ClientCrash::new(
        format!("ValueError: {e}"),
        "cborutil.streamencode cannot encode the command's arguments",
    ))
}

/// `createcommandframes`: the CBOR map `{name, args?, redirect?}` in
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
    if let Some(r) = cmd.redirect.as_ref().filter(|r| r.truthy()) {
        m.push((Value::bytes("redirect"), r.clone()));
    }
    let data = cbor::encode(&Value::Dict(m)).map_err(encode_crash)?;
    split_command(&data, cmd.data.as_deref(), parts);
    Ok(())
}

impl ClientReactor for ClientReactor0006 {
    fn proto(&self) -> Proto {
        Proto::P0006
    }

    fn call_command(&mut self, cmd: Command) -> Result<(u16, ClientAction), Fault> {
        self.out.call_command(cmd)
    }

    fn flush_commands(&mut self) -> Result<ClientAction, Fault> {
        self.out.flush_commands()
    }

    fn next_frame(&mut self, gen: &mut SendGen) -> Option<Result<Frame, Fault>> {
        let settings_sent = &mut self.protocol_settings_sent;
        self.out
            .next_frame(gen, |out, id| start_request(out, settings_sent, id))
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
        if let std::collections::btree_map::Entry::Vacant(e) = self.incoming.entry(f.stream_id) {
            if f.stream_flags & STREAM_BEGIN == 0 {
                return Ok(error(
                    "received frame on unknown stream without beginning of stream flag set",
                ));
            }
            e.insert(InputStream { decoder: None });
        }
        let limit = self.limit();
        let mut payload = std::borrow::Cow::Borrowed(&f.payload[..]);
        if f.stream_flags & STREAM_ENCODED != 0 {
            let stream = self.incoming.get_mut(&f.stream_id).expect("inserted above");
            if let Some(d) = &mut stream.decoder {
                let name = d.name();
                match d.decode(&f.payload, limit) {
                    Ok(p) => payload = std::borrow::Cow::Owned(p.into_owned()),
                    Err(StreamFault::Raises(e)) => {
                        return Err(Fault::Raises(ClientCrash::new(
                            e,
                            format!("the stream's {name} decoder cannot decode this payload"),
                        )))
                    }
                    Err(StreamFault::OverLimit { produced, limit }) => {
                        return Err(Fault::OverLimit(OverLimit {
                            what: format!(
                                "the {name} payload of a frame of request {} on stream {}",
                                f.request_id, f.stream_id
                            ),
                            detail: format!(
                                "it decodes to more than {limit} bytes ({produced} so far from {} encoded bytes)",
                                f.payload.len()
                            ),
                            limit,
                        }))
                    }
                }
            }
        }
        if f.stream_flags & STREAM_END != 0 {
            self.incoming.remove(&f.stream_id);
        }
        if f.type_id == STREAM_SETTINGS {
            return self.on_stream_settings(f, &payload);
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
                    data: payload.into_owned(),
                })
            }
            ERROR_RESPONSE => self.on_error_response(rid, &payload),
            t => Err(programming_error(
                &format!("unhandled frame type: {t}"),
                "the client reactor handles only command-response, error-response and stream-settings frames",
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

    fn stream_encoding(&self, stream_id: u8) -> Option<&[u8]> {
        self.incoming
            .get(&stream_id)
            .and_then(|s| s.decoder.as_ref())
            .map(|d| d.name().as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::human::parse_human;

    fn f(s: &str) -> Frame {
        parse_human(Proto::P0006, s).unwrap().frame
    }

    fn sent(r: &mut ClientReactor0006, a: ClientAction) -> Vec<Frame> {
        let ClientAction::SendFrames(mut g) = a else {
            panic!("{a:?}")
        };
        let mut out = Vec::new();
        while let Some(fr) = r.next_frame(&mut g) {
            out.push(fr.unwrap());
        }
        out
    }

    fn unbuffered() -> ClientReactor0006 {
        ClientReactor0006::new(ClientOptions {
            buffer_sends: false,
            has_multiple_send: true,
            ..Default::default()
        })
    }

    #[test]
    fn frames_of_inactive_requests_and_odd_streams_are_refused() {
        let mut r = unbuffered();
        let refused = |a: Result<ClientAction, Fault>| match a {
            Ok(ClientAction::Error { message }) => String::from_utf8(message).unwrap(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            refused(r.on_frame(&f("1 1 stream-begin command-response eos "))),
            "received frame with odd numbered stream ID: 1"
        );
        assert_eq!(
            refused(r.on_frame(&f("1 2 0 command-response eos "))),
            "received frame on unknown stream without beginning of stream flag set"
        );
        assert_eq!(
            refused(r.on_frame(&f("1 2 stream-begin command-response eos "))),
            "received frame for inactive request ID: 1"
        );
        let (id, a) = r.call_command(Command::new("heads")).unwrap();
        assert_eq!(id, 1);
        // issued but not sent: still inactive
        assert_eq!(
            refused(r.on_frame(&f("1 2 0 command-response eos "))),
            "received frame for inactive request ID: 1"
        );
        assert_eq!(sent(&mut r, a).len(), 1);
        assert!(matches!(
            r.on_frame(&f("1 2 0 command-response eos cbor:{b'status': b'ok'}")),
            Ok(ClientAction::ResponseData {
                request_id: 1,
                eos: 2,
                expect_more: 0,
                ..
            })
        ));
        assert_eq!(r.requests(), vec![(1, RequestState::Received)]);
        // finished: inactive again
        assert_eq!(
            refused(r.on_frame(&f("1 2 0 command-response eos "))),
            "received frame for inactive request ID: 1"
        );
    }

    #[test]
    fn unhandled_types_raise_and_leave_the_request_receiving() {
        let mut r = unbuffered();
        let (_, a) = r.call_command(Command::new("heads")).unwrap();
        sent(&mut r, a);
        match r.on_frame(&f("1 2 stream-begin text-output 0 cbor:[]")) {
            Err(Fault::Raises(c)) => {
                assert_eq!(c.exception, "ProgrammingError: unhandled frame type: 6")
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(r.requests(), vec![(1, RequestState::Receiving)]);
    }

    #[test]
    fn error_responses_end_the_request_before_their_payload_is_read() {
        let mut r = unbuffered();
        for _ in 0..3 {
            let (_, a) = r.call_command(Command::new("heads")).unwrap();
            sent(&mut r, a);
        }
        let raised = |a: Result<ClientAction, Fault>| match a {
            Err(Fault::Raises(c)) => c.exception,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            raised(r.on_frame(&f("1 2 stream-begin error-response 0 "))),
            "IndexError: list index out of range"
        );
        assert_eq!(
            raised(r.on_frame(&f("3 2 0 error-response 0 cbor:[b'x']"))),
            "TypeError: list indices must be integers or slices, not bytes"
        );
        assert_eq!(
            raised(r.on_frame(&f("5 2 0 error-response 0 cbor:{b'message': b'm'}"))),
            "KeyError: type"
        );
        assert_eq!(
            r.requests(),
            vec![
                (1, RequestState::Errored),
                (3, RequestState::Errored),
                (5, RequestState::Errored)
            ]
        );
    }

    #[test]
    fn a_stream_ended_by_its_settings_frame_has_no_decoder_to_set() {
        let mut r = unbuffered();
        match r.on_frame(&f(
            "1 2 stream-begin|stream-end stream-settings eos cbor:b'zlib'",
        )) {
            Ok(ClientAction::Error { message }) => {
                assert_eq!(message, b"error setting stream decoder: 2")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn decoded_payloads_are_bounded() {
        let mut r = ClientReactor0006::new(ClientOptions {
            buffer_sends: false,
            limits: super::super::Limits { max_value: 1000 },
            ..Default::default()
        });
        let (_, a) = r.call_command(Command::new("heads")).unwrap();
        sent(&mut r, a);
        r.on_frame(&f("1 2 stream-begin stream-settings eos cbor:b'zlib'"))
            .unwrap();
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        std::io::Write::write_all(&mut e, &[0u8; 100_000]).unwrap();
        let fr = Frame::new(
            COMMAND_RESPONSE,
            FLAG_COMMAND_RESPONSE_EOS,
            e.finish().unwrap(),
        )
        .with_ids(1, 2, STREAM_ENCODED);
        match r.on_frame(&fr) {
            Err(Fault::OverLimit(o)) => {
                assert_eq!(o.limit, 1000);
                assert!(o.what.contains("zlib payload"), "{o}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn request_ids_past_16_bits_fail_when_framed() {
        let mut r = ClientReactor0006::new(ClientOptions {
            buffer_sends: false,
            has_multiple_send: true,
            ..Default::default()
        });
        r.out.next_request_id = 65535;
        let (_, a) = r.call_command(Command::new("a")).unwrap();
        assert_eq!(sent(&mut r, a)[0].request_id, 65535);
        let (_, a) = r.call_command(Command::new("b")).unwrap();
        let ClientAction::SendFrames(mut g) = a else {
            panic!()
        };
        match r.next_frame(&mut g) {
            Some(Err(Fault::Raises(c))) => assert!(c.exception.starts_with("struct.error")),
            other => panic!("{other:?}"),
        }
        assert!(r.next_frame(&mut g).is_none());
    }
}
