//! Building client requests, as Mercurial's clients lay them out.
//!
//! For revisions with [`RequestLayout::CborMap`] (0006), `createcommandframes`: the CBOR map `{name, args?, redirect?}` split
//! into `command-request` frames of at most 32768 bytes (`new`, then
//! `continuation`; `more` while more follow; `have-data` on every frame
//! when data follows), then `command-data` frames (`continuation`, last
//! `eos`; an exact multiple of 32768 ends with an empty `eos` frame).
//! The HTTP peer sends a `sender-protocol-settings` frame first. For
//! [`RequestLayout::NameAndArguments`] (the 2018 snapshots), a
//! `command-name` frame and one `command-argument` frame per argument.
//! Frames only: no I/O, no reactor state.

use crate::python::cbor;
use crate::python::value::Value;
use crate::wire::frame::{Frame, DEFAULT_MAX_FRAME_SIZE, STREAM_BEGIN};
use crate::wire::ids::{commands, v0006};
use crate::wire::proto::{Proto, RequestLayout};

/// A client output stream (stream-begin on its first frame).
#[derive(Debug, Clone)]
pub struct ClientStream {
    pub id: u8,
    active: bool,
}

impl ClientStream {
    pub fn new(id: u8) -> Self {
        ClientStream { id, active: false }
    }

    /// The stream has begun elsewhere (e.g. a frame the user wrote with
    /// `stream-begin`): the next frame does not carry it again.
    pub fn mark_begun(&mut self) {
        self.active = true;
    }

    pub fn make_frame(
        &mut self,
        request_id: u16,
        type_id: u8,
        flags: u8,
        payload: Vec<u8>,
    ) -> Frame {
        let sflags = if self.active { 0 } else { STREAM_BEGIN };
        self.active = true;
        Frame::new(type_id, flags, payload).with_ids(request_id, self.id, sflags)
    }
}

/// `sender-protocol-settings` announcing content encodings.
pub fn settings_frame(stream: &mut ClientStream, encodings: &[Vec<u8>]) -> Frame {
    let v = Value::dict([(
        "contentencodings",
        Value::List(encodings.iter().map(|e| Value::Bytes(e.clone())).collect()),
    )]);
    let payload = cbor::encode(&v).unwrap_or_default();
    stream.make_frame(
        1,
        v0006::SENDER_PROTOCOL_SETTINGS,
        v0006::FLAG_SENDER_PROTOCOL_SETTINGS_EOS,
        payload,
    )
}

/// `createcommandframes`, the map encoded with the revision's CBOR codec
/// (0005: the bundled cbor2, canonical; 0006: cborutil). Both revisions
/// number `command-request` and `command-data` and their flags alike
/// ([`commands`], checked when compiling), so the ids below serve both.
pub fn command_frames(
    proto: Proto,
    stream: &mut ClientStream,
    request_id: u16,
    name: &[u8],
    args: Option<Value>,
    redirect: Option<Value>,
    data: Option<&[u8]>,
) -> Result<Vec<Frame>, String> {
    let mut m = vec![(Value::bytes("name"), Value::Bytes(name.to_vec()))];
    if let Some(a) = args.filter(|a| !matches!(a, Value::Dict(d) if d.is_empty())) {
        m.push((Value::bytes("args"), a));
    }
    if let Some(r) = redirect {
        m.push((Value::bytes("redirect"), r));
    }
    let payload = proto.encode_cbor(&Value::Dict(m))?;
    let mut frames = Vec::new();
    let mut offset = 0;
    loop {
        let mut flags = if offset == 0 {
            commands::FLAG_COMMAND_REQUEST_NEW
        } else {
            commands::FLAG_COMMAND_REQUEST_CONTINUATION
        };
        if data.is_some() {
            flags |= commands::FLAG_COMMAND_REQUEST_EXPECT_DATA;
        }
        let end = (offset + DEFAULT_MAX_FRAME_SIZE).min(payload.len());
        let chunk = payload[offset..end].to_vec();
        offset = end;
        if chunk.len() == DEFAULT_MAX_FRAME_SIZE && offset < payload.len() {
            flags |= commands::FLAG_COMMAND_REQUEST_MORE_FRAMES;
        }
        frames.push(stream.make_frame(request_id, commands::COMMAND_REQUEST, flags, chunk));
        if flags & commands::FLAG_COMMAND_REQUEST_MORE_FRAMES == 0 {
            break;
        }
    }
    if let Some(data) = data {
        let mut offset = 0;
        loop {
            let end = (offset + DEFAULT_MAX_FRAME_SIZE).min(data.len());
            let chunk = data[offset..end].to_vec();
            offset = end;
            let full = chunk.len() == DEFAULT_MAX_FRAME_SIZE;
            let flags = if full {
                commands::FLAG_COMMAND_DATA_CONTINUATION
            } else {
                commands::FLAG_COMMAND_DATA_EOS
            };
            frames.push(stream.make_frame(request_id, commands::COMMAND_DATA, flags, chunk));
            if !full {
                break;
            }
        }
    }
    Ok(frames)
}

/// `command-name` then `command-argument` frames (0001/0002): `eos` on the
/// name when there are no arguments, else `have-args`; `eoa` on the last
/// argument. Argument names and values must be bytes.
pub fn name_argument_frames(
    stream: &mut ClientStream,
    request_id: u16,
    name: &[u8],
    args: Vec<(Value, Value)>,
) -> Result<Vec<Frame>, String> {
    use crate::wire::ids::v0001::{
        COMMAND_ARGUMENT, COMMAND_NAME, FLAG_COMMAND_ARGUMENT_EOA as EOA,
        FLAG_COMMAND_NAME_EOS as EOS, FLAG_COMMAND_NAME_HAVE_ARGS as HAVE_ARGS,
    };
    let mut frames = Vec::new();
    let flags = if args.is_empty() { EOS } else { HAVE_ARGS };
    frames.push(stream.make_frame(request_id, COMMAND_NAME, flags, name.to_vec()));
    let n = args.len();
    for (i, (k, v)) in args.into_iter().enumerate() {
        let (Some(k), Some(v)) = (k.as_bytes(), v.as_bytes()) else {
            return Err("0001/0002 arguments are bytes: use plain text or hex: values".into());
        };
        let mut p = Vec::new();
        p.extend_from_slice(&(k.len() as u16).to_le_bytes());
        p.extend_from_slice(&(v.len() as u16).to_le_bytes());
        p.extend_from_slice(k);
        p.extend_from_slice(v);
        frames.push(stream.make_frame(
            request_id,
            COMMAND_ARGUMENT,
            if i + 1 == n { EOA } else { 0 },
            p,
        ));
    }
    Ok(frames)
}

/// A command request in the revision's layout. Revisions without streams
/// get ids and stream fields of 0.
pub fn request_frames(
    proto: Proto,
    stream: &mut ClientStream,
    request_id: u16,
    name: &[u8],
    args: Vec<(Value, Value)>,
) -> Result<Vec<Frame>, String> {
    let mut frames = match proto.table().requests {
        RequestLayout::CborMap => {
            let args = (!args.is_empty()).then_some(Value::Dict(args));
            command_frames(proto, stream, request_id, name, args, None, None)?
        }
        RequestLayout::NameAndArguments => name_argument_frames(stream, request_id, name, args)?,
    };
    if !proto.table().has_streams {
        for f in &mut frames {
            f.request_id = 0;
            f.stream_id = 0;
            f.stream_flags = 0;
        }
    }
    Ok(frames)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::python::escape::hex;
    use crate::wire::proto::Proto;

    #[test]
    fn request_ids_are_shared_by_0005_and_0006() {
        use crate::wire::ids::{v0005 as a, v0006 as b};
        assert_eq!(a::COMMAND_REQUEST, b::COMMAND_REQUEST);
        assert_eq!(a::COMMAND_DATA, b::COMMAND_DATA);
        assert_eq!(a::FLAG_COMMAND_REQUEST_NEW, b::FLAG_COMMAND_REQUEST_NEW);
        assert_eq!(
            a::FLAG_COMMAND_REQUEST_CONTINUATION,
            b::FLAG_COMMAND_REQUEST_CONTINUATION
        );
        assert_eq!(
            a::FLAG_COMMAND_REQUEST_MORE_FRAMES,
            b::FLAG_COMMAND_REQUEST_MORE_FRAMES
        );
        assert_eq!(
            a::FLAG_COMMAND_REQUEST_EXPECT_DATA,
            b::FLAG_COMMAND_REQUEST_EXPECT_DATA
        );
        assert_eq!(
            a::FLAG_COMMAND_DATA_CONTINUATION,
            b::FLAG_COMMAND_DATA_CONTINUATION
        );
        assert_eq!(a::FLAG_COMMAND_DATA_EOS, b::FLAG_COMMAND_DATA_EOS);
    }

    #[test]
    fn requests_0005_use_cbor2_canonical_order() {
        // 4.7.2's createcommandframes(stream(1), 1, b'command1',
        // {b'foo': b'val1', b'bar1': b'val'}): canonical cbor2 puts the
        // shorter key first and `args` before `name`.
        let mut s = ClientStream::new(1);
        let args = Value::dict([("foo", Value::bytes("val1")), ("bar1", Value::bytes("val"))]);
        let f =
            command_frames(Proto::P0005, &mut s, 1, b"command1", Some(args), None, None).unwrap();
        assert_eq!(
            hex(&f[0].payload),
            "a24461726773a243666f6f4476616c3144626172314376616c446e616d6548636f6d6d616e6431"
        );
    }

    #[test]
    fn matches_mercurial_builders() {
        // test-wireproto-framing.py: 3 args + 100 bytes of data
        let mut s = ClientStream::new(1);
        let args = Value::dict([
            ("key1", Value::bytes("key1value")),
            ("key2", Value::bytes("key2value")),
            ("key3", Value::bytes("key3value")),
        ]);
        let data = vec![b'x'; 100];
        let f = command_frames(
            Proto::P0006,
            &mut s,
            1,
            b"command",
            Some(args),
            None,
            Some(&data),
        )
        .unwrap();
        assert_eq!(f.len(), 2);
        assert_eq!(
            crate::human::to_human(Proto::P0006, &f[0]),
            "1 1 stream-begin command-request new|have-data cbor:{b'args': {b'key1': b'key1value', b'key2': b'key2value', b'key3': b'key3value'}, b'name': b'command'}"
        );
        // exact max frame of data: a full continuation frame and an empty eos
        let mut s = ClientStream::new(1);
        let data = vec![b'x'; 32768];
        let f =
            command_frames(Proto::P0006, &mut s, 1, b"command", None, None, Some(&data)).unwrap();
        assert_eq!(f.len(), 3);
        assert_eq!(f[1].flags, 1);
        assert_eq!((f[2].flags, f[2].payload.len()), (2, 0));
        // the http peer's settings frame (vectors/real-heads-identity.bin)
        let mut s = ClientStream::new(1);
        let sf = settings_frame(&mut s, &[b"identity".to_vec()]);
        assert_eq!(
            hex(&sf.encode(Proto::P0006).unwrap()),
            "1c00000100010182a150636f6e74656e74656e636f64696e6773814869646".to_string()
                + "56e74697479"
        );
    }
}
