//! Property tests for the codecs: frames <-> bytes, frames <-> human
//! strings, escaping, hex, CBOR, and "never panics" checks for every parser
//! that takes outside input (frame decoders, human strings, Python literals,
//! CBOR decoders, debugreflect).
//!
//! Runtime budget: a few seconds in a debug build (256 cases per property;
//! set `PROPTEST_CASES` for more).
//! Failures are not persisted to `proptest-regressions/`; minimal failing
//! inputs found so far are pinned as plain regression tests at the bottom.

use std::io::Read;

use hgframe::human::{parse_human, parse_human_bytes, to_human, to_literal, HumanError};
use hgframe::python::cbor::{self, BufferingDecoder};
use hgframe::python::escape::{escape_bytes, escape_decode, hex, unhex};
use hgframe::python::json::to_json;
use hgframe::python::json::JsonFlavor;
use hgframe::python::literal::parse_literal;
use hgframe::python::value::Value;
use hgframe::reflect::{reflect_bytes, Http500};
use hgframe::wire::frame::{DecodeError, FrameDecoder, FrameReader, LengthMode, SliceDecoder};
use hgframe::{Frame, Proto};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::test_runner::FailurePersistence;

const PROTOS: [Proto; 3] = [Proto::P0001, Proto::P0002, Proto::P0006];
const MODES: [LengthMode; 2] = [LengthMode::Correct, LengthMode::Mercurial];
const FLAVORS: [JsonFlavor; 2] = [JsonFlavor::Python2, JsonFlavor::Mercurial];

/// 256 cases per property; `PROPTEST_CASES=N` for a longer bug hunt.
fn config() -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(256),
        failure_persistence: None::<Box<dyn FailurePersistence>>,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------

fn proto_strategy() -> impl Strategy<Value = Proto> {
    prop::sample::select(PROTOS.to_vec())
}

/// Any frame of a revision. 0001 has no ids or stream fields on the wire,
/// so they are generated as 0 there.
fn frame_with_payload(
    proto: Proto,
    payload: impl Strategy<Value = Vec<u8>>,
) -> impl Strategy<Value = Frame> {
    let streams = proto.table().has_streams;
    (
        any::<u16>(),
        any::<u8>(),
        any::<u8>(),
        0u8..=15,
        0u8..=15,
        payload,
    )
        .prop_map(move |(r, s, sf, t, fl, p)| {
            let f = Frame::new(t, fl, p);
            if streams {
                f.with_ids(r, s, sf)
            } else {
                f
            }
        })
}

fn frame_strategy(proto: Proto) -> impl Strategy<Value = Frame> {
    frame_with_payload(proto, vec(any::<u8>(), 0..300))
}

fn proto_and_frames() -> impl Strategy<Value = (Proto, Vec<Frame>)> {
    proto_strategy().prop_flat_map(|p| (Just(p), vec(frame_strategy(p), 0..8)))
}

/// Chunk sizes for feeding an incremental decoder (cycled).
fn chunks_strategy() -> impl Strategy<Value = Vec<usize>> {
    vec(
        prop_oneof![3 => 1usize..4, 2 => 1usize..16, 1 => 1usize..400],
        1..12,
    )
}

/// Byte strings that often (not always) decode completely: arbitrary bytes,
/// raw headers with small lengths followed by exactly that many bytes
/// (random type/flag/id bytes), and such sequences with a random tail.
fn framish_bytes() -> impl Strategy<Value = Vec<u8>> {
    let raw_frame = (vec(any::<u8>(), 5), 0usize..40, any::<u8>()).prop_map(|(hdr, len, fill)| {
        // hdr: [request-id lo, hi, stream id, stream flags, type|flags]
        (hdr, len, fill)
    });
    prop_oneof![
        vec(any::<u8>(), 0..200),
        (any::<bool>(), vec(raw_frame, 0..6), vec(any::<u8>(), 0..3)).prop_map(
            |(four, frames, tail)| {
                let mut out = Vec::new();
                for (hdr, len, fill) in frames {
                    out.extend_from_slice(&[len as u8, 0, 0]);
                    if four {
                        out.push(hdr[4]);
                    } else {
                        out.extend_from_slice(&hdr);
                    }
                    out.extend((0..len).map(|i| fill.wrapping_add(i as u8)));
                }
                out.extend_from_slice(&tail);
                out
            }
        ),
    ]
}

fn int_strategy() -> impl Strategy<Value = i128> {
    let edges: Vec<i128> = vec![
        0,
        1,
        23,
        24,
        255,
        256,
        65535,
        65536,
        (1 << 32) - 1,
        1 << 32,
        (1 << 64) - 1,
        -1,
        -24,
        -25,
        -256,
        -257,
        -65536,
        -65537,
        -(1 << 32),
        -(1 << 32) - 1,
        -(1 << 64),
    ];
    prop_oneof![
        -30i128..30,
        any::<i64>().prop_map(i128::from),
        -(1i128 << 64)..(1i128 << 64),
        prop::sample::select(edges),
    ]
}

/// Value trees of the types Mercurial's CBOR carries both ways: None, Bool,
/// Int (-2^64 .. 2^64-1), Bytes, List, Dict with bytes keys (pairs in a
/// random order: the encoder sorts them).
fn value_strategy() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::None),
        any::<bool>().prop_map(Value::Bool),
        int_strategy().prop_map(Value::Int),
        vec(any::<u8>(), 0..40).prop_map(Value::Bytes),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Value::List),
            btree_map(vec(any::<u8>(), 0..12), inner, 0..6)
                .prop_map(|m| {
                    m.into_iter()
                        .map(|(k, v)| (Value::Bytes(k), v))
                        .collect::<Vec<_>>()
                })
                .prop_shuffle()
                .prop_map(Value::Dict),
        ]
    })
}

/// Strings built from pieces of the human-string grammar.
fn human_fragments() -> impl Strategy<Value = String> {
    let mut frags: Vec<String> = [
        "0",
        "1",
        "2",
        "7",
        "8",
        "15",
        "16",
        "255",
        "256",
        "65535",
        "65536",
        "-1",
        "+1",
        "1_0",
        "_",
        "01",
        "0x10",
        " ",
        " ",
        " ",
        "  ",
        "\t",
        "|",
        "|",
        "cbor:",
        "cbor:",
        "[",
        "]",
        "{",
        "}",
        "(",
        ")",
        ",",
        ":",
        "'",
        "\"",
        "b'",
        "b\"",
        "\\",
        "\\x",
        "\\x4",
        "\\x41",
        "\\0",
        "\\777",
        "\\n",
        "None",
        "True",
        "False",
        "set()",
        "#",
        "\n",
        "é",
        "\u{1F600}",
        "x",
        "foo",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for p in PROTOS {
        for t in p.table().types {
            frags.push(t.name.to_string());
            for f in t.flags {
                frags.push(f.name.to_string());
            }
        }
        for f in p.table().stream_flags {
            frags.push(f.name.to_string());
        }
    }
    frags.sort();
    frags.dedup();
    vec(prop::sample::select(frags), 0..24).prop_map(|v| v.concat())
}

/// Like [`human_fragments`] but as bytes, with some invalid UTF-8 mixed in.
fn human_fragment_bytes() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        4 => human_fragments().prop_map(String::into_bytes),
        1 => prop::sample::select(vec![
            vec![0xffu8],
            vec![0xc3],
            vec![0xe9],
            vec![0xe2, 0x82],
            vec![0x80],
            vec![0],
        ]),
        1 => vec(any::<u8>(), 0..6),
    ];
    vec(piece, 0..6).prop_map(|v| v.concat())
}

/// Strings built from pieces of the Python literal grammar.
fn literal_fragments() -> impl Strategy<Value = String> {
    let frags: Vec<&str> = vec![
        "b'",
        "'",
        "\"",
        "b\"",
        "rb'",
        "br'",
        "B'",
        "r'",
        "R'",
        "Rb'",
        "'''",
        "b'''",
        "\"\"\"",
        "u'",
        "f'",
        "\\",
        "\\x",
        "\\x4",
        "\\x41",
        "\\n",
        "\\'",
        "\\N{",
        "\\u0041",
        "\\777",
        "0",
        "1",
        "9",
        "-",
        "+",
        "_",
        "0x",
        "0o",
        "0b",
        "ff",
        "1.5",
        "1e5",
        "1j",
        "None",
        "True",
        "False",
        "set()",
        "set(",
        "[",
        "]",
        "{",
        "}",
        "(",
        ")",
        ",",
        ":",
        " ",
        "\n",
        "#",
        "abc",
        "é",
        "\u{1F600}",
        "18446744073709551616",
        "-18446744073709551616",
    ];
    vec(prop::sample::select(frags), 0..24).prop_map(|v| v.concat())
}

/// Strings built from bytes a CBOR decoder branches on.
fn cbor_fragments() -> impl Strategy<Value = Vec<u8>> {
    let tokens: Vec<Vec<u8>> = vec![
        vec![0x00],
        vec![0x17],
        vec![0x18, 0x40],
        vec![0x19, 0x01, 0x00],
        vec![0x1a, 0, 1, 0, 0],
        vec![0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        vec![0x1c],
        vec![0x1f],
        vec![0x20],
        vec![0x3b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        vec![0x40],
        vec![0x43, b'a', b'b', b'c'],
        vec![0x58, 0x02, b'x', b'y'],
        vec![0x59, 0x00],
        vec![0x5f],
        vec![0x60],
        vec![0x80],
        vec![0x81],
        vec![0x82],
        vec![0x98, 0x03],
        vec![0x9f],
        vec![0xa0],
        vec![0xa1],
        vec![0xa2],
        vec![0xbf],
        vec![0xc0],
        vec![0xd9, 0x01, 0x02],
        vec![0xd9, 0x01, 0x03],
        vec![0xf4],
        vec![0xf5],
        vec![0xf6],
        vec![0xf7],
        vec![0xf9, 0x3c, 0x00],
        vec![0xff],
    ];
    vec(prop::sample::select(tokens), 0..24).prop_map(|v| v.concat())
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

type Decoded = (Vec<(u64, Frame)>, Option<DecodeError>);

fn encode_all(proto: Proto, frames: &[Frame]) -> Vec<u8> {
    let mut out = Vec::new();
    for f in frames {
        f.encode_into(proto, &mut out).unwrap();
    }
    out
}

fn offsets_of(proto: Proto, frames: &[Frame]) -> Vec<u64> {
    let mut off = 0u64;
    frames
        .iter()
        .map(|f| {
            let o = off;
            off += f.encoded_len(proto) as u64;
            o
        })
        .collect()
}

fn decode_slice(proto: Proto, mode: LengthMode, bytes: &[u8]) -> Decoded {
    let mut frames = Vec::new();
    let mut err = None;
    let mut it = SliceDecoder::new(proto, mode, bytes);
    for r in it.by_ref() {
        match r {
            Ok(l) => {
                assert_eq!(
                    l.header.length,
                    l.frame.payload.len(),
                    "header length vs payload"
                );
                frames.push((l.offset, l.frame.to_owned()));
            }
            Err(e) => {
                err = Some(e);
                break;
            }
        }
    }
    // A failed decoder stays failed.
    assert!(it.next().is_none(), "SliceDecoder yielded after its end");
    (frames, err)
}

/// Feed `bytes` to a [`FrameDecoder`] in chunks of the given sizes (cycled),
/// checking `wanted()` against `next_frame()` at every step.
fn decode_incremental(proto: Proto, mode: LengthMode, bytes: &[u8], chunks: &[usize]) -> Decoded {
    let mut d = FrameDecoder::new(proto, mode);
    let mut frames = Vec::new();
    let mut pos = 0;
    let mut k = 0;
    let drain = |d: &mut FrameDecoder, frames: &mut Vec<(u64, Frame)>| loop {
        let wanted = d.wanted();
        match d.next_frame() {
            Some(l) => {
                assert_eq!(wanted, 0, "a frame was ready but wanted() was {wanted}");
                frames.push((l.offset, l.frame));
            }
            None => {
                assert!(wanted > 0, "wanted() was 0 but no frame was ready");
                break;
            }
        }
    };
    while pos < bytes.len() {
        let n = chunks[k % chunks.len()].max(1).min(bytes.len() - pos);
        k += 1;
        d.feed(&bytes[pos..pos + n]);
        pos += n;
        drain(&mut d, &mut frames);
    }
    drain(&mut d, &mut frames);
    let consumed: u64 = frames
        .last()
        .map(|(o, f)| o + f.encoded_len(proto) as u64)
        .unwrap_or(0);
    assert_eq!(d.pending(), &bytes[consumed as usize..], "pending bytes");
    (frames, d.finish().err())
}

/// A reader that returns at most the next chunk size per `read` call.
struct ChunkedReader<'a> {
    data: &'a [u8],
    chunks: Vec<usize>,
    k: usize,
}

impl Read for ChunkedReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.chunks[self.k % self.chunks.len()]
            .max(1)
            .min(buf.len())
            .min(self.data.len());
        self.k += 1;
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fn decode_reader(proto: Proto, mode: LengthMode, bytes: &[u8], chunks: &[usize]) -> Decoded {
    let r = ChunkedReader {
        data: bytes,
        chunks: chunks.to_vec(),
        k: 0,
    };
    let mut frames = Vec::new();
    let mut err = None;
    for item in FrameReader::new(proto, mode, r) {
        match item {
            Ok(l) => frames.push((l.offset, l.frame)),
            Err(hgframe::wire::frame::ReadError::Decode(e)) => {
                err = Some(e);
                break;
            }
            Err(e) => panic!("io error from an in-memory reader: {e}"),
        }
    }
    (frames, err)
}

fn decode_error_offset(e: &DecodeError) -> u64 {
    match e {
        DecodeError::TruncatedHeader { offset, .. }
        | DecodeError::TruncatedPayload { offset, .. } => *offset,
    }
}

/// Checks that hold for any error a human-string parse returns from a
/// `&str` line: the span is inside the line, on character boundaries, and
/// the error renders.
fn check_human_error_str(line: &str, e: &HumanError) {
    assert_eq!(e.line, line);
    assert!(
        e.start <= e.end && e.end <= e.line.len(),
        "span {}..{} outside the line ({} bytes): {e:?}",
        e.start,
        e.end,
        e.line.len()
    );
    assert!(
        e.line.is_char_boundary(e.start) && e.line.is_char_boundary(e.end),
        "span {}..{} not on char boundaries: {e:?}",
        e.start,
        e.end
    );
    assert!(!e.message.is_empty());
    let r = e.render();
    assert!(r.starts_with(&e.message));
}

/// A parsed frame renders back to a line that parses to the same frame.
fn check_to_human_roundtrip(proto: Proto, f: &Frame) -> String {
    let line = to_human(proto, f);
    assert!(
        !line.contains('\n'),
        "to_human made a multi-line string: {line:?}"
    );
    let back = parse_human(proto, &line)
        .unwrap_or_else(|e| panic!("to_human output does not parse: {line:?}: {}", e.render()));
    assert_eq!(&back.frame, f, "{line}");
    assert_eq!(
        back.warnings.is_empty(),
        proto.type_def(f.type_id).is_some(),
        "warnings for {line:?}: {:?}",
        back.warnings
    );
    line
}

fn encode_ok(v: &Value) -> Vec<u8> {
    cbor::encode(v).unwrap_or_else(|e| panic!("cannot encode {v:?}: {e}"))
}

const REFLECT_TAIL: &[u8] = b"received: <no frame>\n{\"action\": \"noop\"}";

/// Run `reflect_bytes` and check what can be checked without a server.
fn check_reflect(proto: Proto, body: &[u8]) {
    let r = reflect_bytes(proto, body);
    let (_, decode_err) = decode_slice(proto, LengthMode::Mercurial, body);
    match &r {
        Ok(out) => {
            assert!(
                out.ends_with(REFLECT_TAIL),
                "body does not end with the EOF noop: {:?}",
                String::from_utf8_lossy(out)
            );
            if body.is_empty() {
                assert_eq!(out, REFLECT_TAIL);
            } else {
                assert!(out.starts_with(b"received: "));
            }
            assert!(
                decode_err.is_none(),
                "undecodable body answered 200: {decode_err:?}"
            );
        }
        Err(Http500::Undecodable(e)) => {
            assert!(decode_error_offset(e) < body.len() as u64);
            assert_eq!(Some(e), decode_err.as_ref());
        }
        Err(_) => {}
    }
    // Deterministic.
    assert_eq!(r, reflect_bytes(proto, body));
}

// ---------------------------------------------------------------------------
// bytes -> frames -> bytes
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    #[test]
    fn frames_roundtrip_through_bytes(
        (proto, frames) in proto_and_frames(),
        chunks in chunks_strategy(),
    ) {
        let bytes = encode_all(proto, &frames);
        let expected: Vec<(u64, Frame)> =
            offsets_of(proto, &frames).into_iter().zip(frames.iter().cloned()).collect();
        prop_assert_eq!(
            bytes.len(),
            frames.iter().map(|f| f.encoded_len(proto)).sum::<usize>()
        );
        // Payloads are shorter than 65536 bytes, so the Mercurial length
        // misread does not change anything.
        for mode in MODES {
            let (got, err) = decode_slice(proto, mode, &bytes);
            prop_assert!(err.is_none(), "{:?}", err);
            prop_assert_eq!(&got, &expected);
            let (got, err) = decode_incremental(proto, mode, &bytes, &chunks);
            prop_assert!(err.is_none(), "{:?}", err);
            prop_assert_eq!(&got, &expected);
            let (got, err) = decode_reader(proto, mode, &bytes, &chunks);
            prop_assert!(err.is_none(), "{:?}", err);
            prop_assert_eq!(&got, &expected);
        }
    }

    #[test]
    fn complete_decodes_reencode_to_the_same_bytes(
        proto in proto_strategy(),
        bytes in framish_bytes(),
        chunks in chunks_strategy(),
    ) {
        for mode in MODES {
            let (frames, err) = decode_slice(proto, mode, &bytes);
            // The incremental decoder and the reader agree with the slice
            // decoder on every input, frames, offsets and error alike.
            prop_assert_eq!(
                &decode_incremental(proto, mode, &bytes, &chunks),
                &(frames.clone(), err.clone())
            );
            prop_assert_eq!(
                &decode_reader(proto, mode, &bytes, &chunks),
                &(frames.clone(), err.clone())
            );
            let consumed = frames
                .last()
                .map(|(o, f)| *o as usize + f.encoded_len(proto))
                .unwrap_or(0);
            match &err {
                None => prop_assert_eq!(consumed, bytes.len()),
                Some(e) => {
                    prop_assert_eq!(decode_error_offset(e), consumed as u64);
                    prop_assert!(consumed < bytes.len());
                    match e {
                        DecodeError::TruncatedHeader { got, want, hex: h, .. } => {
                            prop_assert_eq!(*want, proto.table().header_size);
                            prop_assert!(*got < *want);
                            prop_assert_eq!(*got, bytes.len() - consumed);
                            prop_assert_eq!(h, &hex(&bytes[consumed..]));
                        }
                        DecodeError::TruncatedPayload { want, got, .. } => {
                            prop_assert!(got < want);
                            prop_assert_eq!(
                                *got,
                                bytes.len() - consumed - proto.table().header_size
                            );
                        }
                    }
                }
            }
            let reencoded: Vec<Frame> = frames.iter().map(|(_, f)| f.clone()).collect();
            let again = encode_all(proto, &reencoded);
            if err.is_none() && mode == LengthMode::Correct {
                prop_assert_eq!(&again, &bytes);
            } else {
                // The decoded prefix re-encodes to the input's prefix when
                // lengths are read correctly.
                if mode == LengthMode::Correct {
                    prop_assert_eq!(&again[..], &bytes[..consumed]);
                }
            }
        }
    }
}

/// The incremental decoder compacts its buffer after 64 KiB; offsets must
/// survive that.
#[test]
fn incremental_decoder_offsets_survive_compaction() {
    for proto in PROTOS {
        let frames: Vec<Frame> = (0..400u32)
            .map(|i| {
                let f = Frame::new(
                    (i % 16) as u8,
                    (i / 16 % 16) as u8,
                    vec![i as u8; (i * 7 % 1000) as usize],
                );
                if proto.table().has_streams {
                    f.with_ids(i as u16, i as u8, (i * 3) as u8)
                } else {
                    f
                }
            })
            .collect();
        let bytes = encode_all(proto, &frames);
        let expected: Vec<(u64, Frame)> =
            offsets_of(proto, &frames).into_iter().zip(frames).collect();
        for chunks in [vec![1usize], vec![7, 300, 4096], vec![70_000]] {
            let (got, err) = decode_incremental(proto, LengthMode::Correct, &bytes, &chunks);
            assert!(err.is_none());
            assert_eq!(got, expected);
        }
    }
}

// ---------------------------------------------------------------------------
// text -> frame -> text
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    #[test]
    fn to_human_parses_back((proto, frames) in proto_and_frames()) {
        for f in &frames {
            check_to_human_roundtrip(proto, f);
        }
    }

    /// Payloads that are CBOR our encoder produced: 0006 renders them as
    /// `cbor:<literal>`, and they still parse back byte for byte.
    #[test]
    fn to_human_parses_back_cbor_payloads(
        proto in proto_strategy(),
        v in value_strategy(),
        (t, fl, r, s, sf) in (0u8..=15, 0u8..=15, any::<u16>(), any::<u8>(), any::<u8>()),
    ) {
        let payload = encode_ok(&v);
        let mut f = Frame::new(t, fl, payload);
        if proto.table().has_streams {
            f = f.with_ids(r, s, sf);
        }
        let line = check_to_human_roundtrip(proto, &f);
        if proto == Proto::P0006 {
            prop_assert!(line.contains(" cbor:"), "{}", line);
        } else {
            prop_assert!(!line.contains(" cbor:"), "{}", line);
        }
    }

    #[test]
    fn escape_roundtrip(b in vec(any::<u8>(), 0..300)) {
        let e = escape_bytes(&b);
        prop_assert!(e.bytes().all(|c| (0x20..0x7f).contains(&c)), "{:?}", e);
        prop_assert_eq!(escape_decode(e.as_bytes()).unwrap(), b.clone());
        let h = hex(&b);
        prop_assert_eq!(h.len(), 2 * b.len());
        prop_assert_eq!(unhex(&h).unwrap(), b.clone());
        prop_assert_eq!(unhex(&h.to_uppercase()).unwrap(), b);
    }

    #[test]
    fn escape_decode_and_unhex_never_panic(b in vec(any::<u8>(), 0..200), s in ".{0,100}") {
        match escape_decode(&b) {
            Ok(out) => prop_assert!(out.len() <= b.len()),
            Err(e) => {
                prop_assert!(e.pos() < b.len());
                prop_assert_eq!(b[e.pos()], b'\\');
            }
        }
        match unhex(&s) {
            Ok(out) => prop_assert!(out.len() * 2 <= s.len()),
            Err(hgframe::python::escape::HexError::BadDigit { pos, ch }) => {
                prop_assert_eq!(s[pos..].chars().next(), Some(ch));
            }
            Err(hgframe::python::escape::HexError::Odd { count }) => prop_assert!(count % 2 == 1),
        }
    }
}

// ---------------------------------------------------------------------------
// CBOR
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    #[test]
    fn cbor_roundtrip(v in value_strategy(), chunks in chunks_strategy()) {
        let bytes = encode_ok(&v);
        let decoded = cbor::decode_all(&bytes).unwrap();
        prop_assert_eq!(decoded.len(), 1);
        // Equal modulo map key order (the encoder sorts keys).
        prop_assert_eq!(encode_ok(&decoded[0]), bytes.clone());
        prop_assert!(decoded[0].py_eq(&v));
        // The buffering decoder fed in pieces gives the same value.
        let mut d = BufferingDecoder::new();
        let mut pos = 0;
        let mut k = 0;
        let mut got = Vec::new();
        while pos < bytes.len() {
            let n = chunks[k % chunks.len()].min(bytes.len() - pos);
            k += 1;
            d.decode(&bytes[pos..pos + n]).unwrap();
            pos += n;
            got.extend(d.get_available());
        }
        prop_assert_eq!(&got, &decoded);
        // Both JSON encoders take every value with bytes keys.
        for flavor in FLAVORS {
            let utf8 = std::str::from_utf8(&bytes).is_ok();
            let j = to_json(flavor, &decoded[0]);
            if flavor == JsonFlavor::Mercurial || utf8 {
                prop_assert!(j.is_ok(), "{:?}", j);
            }
        }
        // A literal for the value parses back to the same CBOR.
        let lit = to_literal(&v).unwrap();
        let back = parse_literal(&lit).unwrap_or_else(|e| panic!("{lit}: {e:?}"));
        prop_assert_eq!(encode_ok(&back), bytes);
    }

    #[test]
    fn cbor_sequences_roundtrip(vs in vec(value_strategy(), 0..5)) {
        let mut bytes = Vec::new();
        for v in &vs {
            bytes.extend(encode_ok(v));
        }
        let decoded = cbor::decode_all(&bytes).unwrap();
        prop_assert_eq!(decoded.len(), vs.len());
        for (d, v) in decoded.iter().zip(&vs) {
            prop_assert_eq!(encode_ok(d), encode_ok(v));
        }
    }

    #[test]
    fn cbor_decoders_never_panic(
        bytes in prop_oneof![vec(any::<u8>(), 0..200), cbor_fragments()],
        chunks in chunks_strategy(),
    ) {
        let all = cbor::decode_all(&bytes);
        if let Ok(values) = &all {
            for v in values {
                for flavor in FLAVORS {
                    let _ = to_json(flavor, v);
                }
                let _ = to_literal(v);
                // Decoded values re-encode (possibly differently: duplicate
                // keys merge, chunks lose their framing).
                let _ = cbor::encode(v);
            }
        }
        let mut d = BufferingDecoder::new();
        let mut pos = 0;
        let mut k = 0;
        let mut got = Vec::new();
        let mut failed = false;
        while pos < bytes.len() {
            let n = chunks[k % chunks.len()].min(bytes.len() - pos);
            k += 1;
            match d.decode(&bytes[pos..pos + n]) {
                Ok((_, consumed, _)) => prop_assert!(consumed <= n as i64),
                Err(_) => {
                    failed = true;
                    break;
                }
            }
            pos += n;
            got.extend(d.get_available());
        }
        // Whatever decodes completely in one go decodes the same in pieces.
        if let Ok(values) = all {
            prop_assert!(!failed);
            prop_assert_eq!(got, values);
        }
    }
}

// ---------------------------------------------------------------------------
// Human strings and literals never panic
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    #[test]
    fn parse_human_never_panics(
        line in prop_oneof![human_fragments(), ".{0,80}"],
    ) {
        for proto in PROTOS {
            match parse_human(proto, &line) {
                Ok(p) => {
                    // parse(to_human(parse(s))) == parse(s)
                    check_to_human_roundtrip(proto, &p.frame);
                    for w in &p.warnings {
                        prop_assert!(w.start <= w.end && w.end <= line.len());
                    }
                }
                Err(e) => check_human_error_str(&line, &e),
            }
        }
    }

    #[test]
    fn parse_human_bytes_never_panics(
        raw in prop_oneof![human_fragment_bytes(), vec(any::<u8>(), 0..80)],
    ) {
        for proto in PROTOS {
            match parse_human_bytes(proto, &raw) {
                Ok(p) => {
                    check_to_human_roundtrip(proto, &p.frame);
                }
                Err(e) => {
                    prop_assert!(e.start <= e.end);
                    prop_assert!(!e.message.is_empty());
                    if let Ok(s) = std::str::from_utf8(&raw) {
                        check_human_error_str(s, &e);
                    }
                }
            }
        }
    }

    /// Errors for lines that are not UTF-8 point inside the (lossily
    /// decoded) line and render.
    #[test]
    fn parse_human_bytes_errors_render(
        raw in prop_oneof![human_fragment_bytes(), vec(any::<u8>(), 0..80)],
    ) {
        for proto in PROTOS {
            if let Err(e) = parse_human_bytes(proto, &raw) {
                prop_assert!(
                    e.start <= e.end && e.end <= e.line.len(),
                    "span outside the line: {:?}", e
                );
                prop_assert!(
                    e.line.is_char_boundary(e.start) && e.line.is_char_boundary(e.end),
                    "span not on char boundaries: {:?}", e
                );
                let _ = e.render();
            }
        }
    }

    #[test]
    fn parse_literal_never_panics(
        text in prop_oneof![literal_fragments(), ".{0,60}"],
    ) {
        match parse_literal(&text) {
            Ok(v) => {
                if let Ok(bytes) = cbor::encode(&v) {
                    // What Mercurial's decoder accepts re-encodes identically.
                    if let Ok(values) = cbor::decode_all(&bytes) {
                        prop_assert_eq!(values.len(), 1);
                        prop_assert_eq!(encode_ok(&values[0]), bytes.clone());
                    }
                    if let Some(lit) = to_literal(&v) {
                        let back = parse_literal(&lit)
                            .unwrap_or_else(|e| panic!("{text:?} -> {lit:?}: {e:?}"));
                        prop_assert_eq!(encode_ok(&back), bytes);
                    }
                }
                for flavor in FLAVORS {
                    let _ = to_json(flavor, &v);
                }
            }
            Err(e) => {
                prop_assert!(e.pos <= text.len(), "{:?}", e);
                prop_assert!(text.is_char_boundary(e.pos), "{:?}", e);
                prop_assert!(!e.message.is_empty());
            }
        }
    }

    #[test]
    fn literals_of_values_parse_back(v in value_strategy()) {
        let lit = to_literal(&v).unwrap();
        let back = parse_literal(&lit).unwrap_or_else(|e| panic!("{lit}: {e:?}"));
        prop_assert_eq!(encode_ok(&back), encode_ok(&v));
        // Through the human-string parser too (0006 only).
        let line = format!("1 1 0 1 0 cbor:{lit}");
        let f = parse_human(Proto::P0006, &line).unwrap().frame;
        prop_assert_eq!(f.payload, encode_ok(&v));
    }
}

// ---------------------------------------------------------------------------
// debugreflect never panics
// ---------------------------------------------------------------------------

/// Frames from the captured vectors and golden reactor cases of a revision:
/// a pool of real, valid frames to splice together.
fn frame_pool(proto: Proto) -> Vec<Frame> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let mut pool = Vec::new();
    let dir = root.join("vectors").join(proto.name());
    if let Ok(entries) = std::fs::read_dir(&dir) {
        let mut paths: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "bin"))
            .collect();
        paths.sort();
        for p in paths {
            let bytes = std::fs::read(&p).unwrap();
            for l in SliceDecoder::new(proto, LengthMode::Correct, &bytes).map_while(Result::ok) {
                pool.push(l.frame.to_owned());
            }
        }
    }
    if proto == Proto::P0006 {
        let text = std::fs::read_to_string(root.join("hg60/serverreactor.json")).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        for case in json["cases"].as_array().unwrap() {
            for ev in case["events"].as_array().unwrap() {
                if let Some(h) = ev["hex"].as_str() {
                    let bytes = unhex(h).unwrap();
                    for l in
                        SliceDecoder::new(proto, LengthMode::Correct, &bytes).map_while(Result::ok)
                    {
                        pool.push(l.frame.to_owned());
                    }
                }
            }
        }
    }
    assert!(!pool.is_empty(), "no frames for {proto:?}");
    pool
}

/// Frames a revision's reactor has a chance of accepting.
fn plausible_frame(proto: Proto) -> BoxedStrategy<Frame> {
    let pool = frame_pool(proto);
    let ids = (
        0u16..4,
        0u8..4,
        prop::sample::select(vec![0u8, 1, 2, 4, 3, 5, 0x80]),
    );
    let from_pool = (prop::sample::select(pool), ids.clone(), any::<bool>())
        .prop_map(|(f, (r, s, sf), keep)| if keep { f } else { f.with_ids(r, s, sf) });
    let typed = (
        prop::sample::select(proto.table().types.iter().map(|t| t.id).collect::<Vec<_>>()),
        0u8..16,
        ids,
        prop_oneof![
            vec(any::<u8>(), 0..40),
            value_strategy().prop_map(|v| encode_ok(&v)),
            (vec(any::<u8>(), 0..8), value_strategy()).prop_map(|(name, args)| encode_ok(
                &Value::dict([("name", Value::Bytes(name)), ("args", args)])
            )),
            // 0001/0002 argument frames: u16 name length, u16 value length.
            (vec(any::<u8>(), 0..6), vec(any::<u8>(), 0..6)).prop_map(|(n, v)| {
                let mut p = (n.len() as u16).to_le_bytes().to_vec();
                p.extend((v.len() as u16).to_le_bytes());
                p.extend(n);
                p.extend(v);
                p
            }),
        ],
    )
        .prop_map(move |(t, fl, (r, s, sf), p)| {
            let f = Frame::new(t, fl, p);
            if proto.table().has_streams {
                f.with_ids(r, s, sf)
            } else {
                f
            }
        });
    prop_oneof![from_pool, typed].boxed()
}

fn plausible_body() -> impl Strategy<Value = (Proto, Vec<u8>)> {
    proto_strategy().prop_flat_map(|p| {
        (
            Just(p),
            vec(plausible_frame(p), 0..6),
            prop_oneof![4 => Just(0usize), 1 => 1usize..6],
        )
            .prop_map(|(p, frames, cut)| {
                let mut body = encode_all(p, &frames);
                body.truncate(body.len().saturating_sub(cut));
                (p, body)
            })
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn reflect_never_panics_on_any_bytes(bytes in framish_bytes()) {
        for proto in PROTOS {
            check_reflect(proto, &bytes);
        }
    }

    #[test]
    fn reflect_never_panics_on_plausible_frames((proto, body) in plausible_body()) {
        check_reflect(proto, &body);
    }
}

// ---------------------------------------------------------------------------
// Regression tests: minimal failing inputs found by the properties above and
// by the fuzz targets (fuzz/). All but the last were fixed in src/.
// ---------------------------------------------------------------------------

/// Run `body` in a child process (this test binary, this test only) on a
/// thread with a main thread's 8 MiB stack, so a stack overflow fails the
/// test instead of aborting the whole test run.
fn in_child_process(test_name: &str, body: fn()) {
    const CHILD: &str = "HGFRAME_PROPTEST_CHILD";
    if std::env::var_os(CHILD).is_some() {
        std::thread::Builder::new()
            .stack_size(8 << 20)
            .spawn(body)
            .unwrap()
            .join()
            .unwrap();
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            test_name,
            "--exact",
            "--include-ignored",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{test_name} failed in its child process ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .filter(|l| !l.trim().is_empty())
            .take(20)
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// `1 \xff\xfe 0 1 0 x` (0006): the UTF-8 error's span used to end inside
/// the U+FFFD that replaced `\xff` in the lossy line, and render() panicked.
#[test]
fn human_error_render_non_utf8_head() {
    let e = parse_human_bytes(Proto::P0006, b"1 \xff\xfe 0 1 0 x").unwrap_err();
    assert!(e.line.is_char_boundary(e.end), "{e:?}");
    let _ = e.render();
}

/// `1 1 0 1 0 \xff\\x` (0006; also 0002, and `1 0 \xff\\x` for 0001): the
/// escape error's span used to be in raw-byte coordinates of a lossy line.
#[test]
fn human_error_render_non_utf8_payload() {
    for (proto, raw) in [
        (Proto::P0006, &b"1 1 0 1 0 \xff\\x"[..]),
        (Proto::P0002, &b"1 1 0 1 0 \xff\\x"[..]),
        (Proto::P0001, &b"1 0 \xff\\x"[..]),
    ] {
        let e = parse_human_bytes(proto, raw).unwrap_err();
        assert!(
            e.line.is_char_boundary(e.start) && e.line.is_char_boundary(e.end),
            "{proto:?}: {e:?}"
        );
        let _ = e.render();
    }
}

/// `1 1 0 1 0 cbor:[\xe9` (0006): the literal is decoded as latin-1 (so `\xe9`
/// becomes 2 bytes) while the line is decoded lossily (3 bytes); the
/// literal error's position used to be in latin-1 coordinates.
#[test]
fn human_error_span_non_utf8_literal() {
    let raw = b"1 1 0 1 0 cbor:[\xe9";
    let e = parse_human_bytes(Proto::P0006, raw).unwrap_err();
    assert!(
        e.line.is_char_boundary(e.start) && e.line.is_char_boundary(e.end),
        "{e:?}"
    );
    let _ = e.render();
    // With valid 2-byte UTF-8 before the bad byte the span even leaves the line.
    let raw = "1 1 0 1 0 cbor:#éééééééééé"
        .bytes()
        .chain([0xff])
        .collect::<Vec<u8>>();
    let e = parse_human_bytes(Proto::P0006, &raw).unwrap_err();
    assert!(
        e.end <= e.line.len(),
        "{e:?} (line is {} bytes)",
        e.line.len()
    );
}

/// `r'\é'` (also `rb'\é'`, and the human line `1 1 0 1 0 cbor:r'\é'`):
/// in a raw string a backslash and the next *byte* used to be copied,
/// stopping inside the 2-byte `é` (a panic). Found by the `literal` fuzz
/// target; fixed.
#[test]
fn raw_string_backslash_non_ascii() {
    for text in [r"r'\é'", r"rb'\é'", r"R'\ѣ'", r"br'\é'"] {
        assert!(
            std::panic::catch_unwind(|| parse_literal(text)).is_ok(),
            "{text:?}"
        );
    }
    let line = r"1 1 0 1 0 cbor:r'\é'";
    assert!(
        std::panic::catch_unwind(|| parse_human(Proto::P0006, line)).is_ok(),
        "{line:?}"
    );
}

/// `parse_literal("[" * 100000)` (and so `cbor:[[[[...` on a human line)
/// used to recurse once per bracket and overflow the stack.
#[test]
fn deep_literal_does_not_overflow() {
    in_child_process("deep_literal_does_not_overflow", || {
        let _ = parse_literal(&"[".repeat(100_000));
        let _ = parse_literal(&"(".repeat(100_000));
    });
}

/// `decode_all([0x81] * 1_000_000 + [0x00])` used to decode (the decoder
/// keeps an explicit stack) into a value that overflowed the stack when it
/// was dropped, encoded or rendered.
#[test]
fn deep_cbor_does_not_overflow() {
    in_child_process("deep_cbor_does_not_overflow", || {
        // Past hgframe's nesting limit: an error, not a crash.
        let mut b = vec![0x81u8; 1_000_000];
        b.push(0);
        assert!(cbor::decode_all(&b).is_err());
        // At the limit: decoded, encoded, rendered (as Mercurial's
        // RecursionError) and dropped without overflowing.
        let mut b = vec![0x81u8; cbor::MAX_DEPTH];
        b.push(0);
        let v = cbor::decode_all(&b).unwrap();
        assert_eq!(cbor::encode(&v[0]).unwrap(), b);
        assert!(to_json(JsonFlavor::Mercurial, &v[0]).is_err());
        drop(v);
    });
}

/// A 0006 command request whose CBOR payload nests a million arrays, sent
/// as 17 frames of at most 60000 bytes (`new|more`, `continuation|more`,
/// ..., `continuation`; debugreflect reads lengths like Mercurial, so each
/// frame stays under 65536 bytes): a 1 MB body used to take debugreflect
/// down.
#[test]
fn deep_cbor_reflect_does_not_overflow() {
    in_child_process("deep_cbor_reflect_does_not_overflow", || {
        let mut payload = vec![0x81u8; 1_000_000];
        payload.push(0);
        let parts: Vec<&[u8]> = payload.chunks(60_000).collect();
        let mut body = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            let first = i == 0;
            let last = i + 1 == parts.len();
            let flags = if first { 0x1 } else { 0x2 } | if last { 0 } else { 0x4 };
            let sflags = if first { 1 } else { 0 };
            Frame::new(1, flags, part.to_vec())
                .with_ids(1, 1, sflags)
                .encode_into(Proto::P0006, &mut body)
                .unwrap();
        }
        let r = reflect_bytes(Proto::P0006, &body);
        assert!(!matches!(r, Err(Http500::Undecodable(_))), "{r:?}");
    });
}

// ---------------------------------------------------------------------------
// Response bodies through the client reactor
// ---------------------------------------------------------------------------

/// Frames a server might send, and ones it should not: every type, flag,
/// stream flag and a few request and stream ids, with payloads that are
/// CBOR fragments, raw bytes, stream-settings names, or zlib of CBOR.
fn response_frames() -> impl Strategy<Value = Vec<u8>> {
    let payload = prop_oneof![
        cbor_fragments(),
        vec(any::<u8>(), 0..40),
        prop::sample::select(vec![
            b"Hidentity".to_vec(),
            b"Dzlib".to_vec(),
            b"Hzstd-8mb".to_vec(),
            b"\x44zl".to_vec(),
            b"ib".to_vec(),
        ]),
        cbor_fragments().prop_map(|c| {
            use std::io::Write;
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(&c).unwrap();
            e.flush().unwrap();
            e.get_ref().clone()
        }),
    ];
    let frame = (
        prop::sample::select(vec![0u16, 1, 3, 5, 2, 9]),
        prop::sample::select(vec![0u8, 1, 2, 4, 255]),
        0u8..8,
        prop::sample::select(vec![3u8, 3, 3, 9, 9, 5, 6, 7, 1, 2, 8, 4, 15]),
        0u8..16,
        payload,
    );
    vec(frame, 0..12).prop_map(|frames| {
        let mut out = Vec::new();
        for (rid, sid, sflags, t, flags, p) in frames {
            Frame::new(t, flags, p)
                .with_ids(rid, sid, sflags)
                .encode_into(Proto::P0006, &mut out)
                .unwrap();
        }
        out
    })
}

proptest! {
    #![proptest_config(config())]

    /// Never a panic, one frame event per frame in order, objects only for
    /// requests that had data, and the same events whatever the bound as
    /// long as nothing passes it.
    #[test]
    fn response_bodies_decode_without_panics(body in response_frames(), cut in 0usize..64) {
        use hgframe::reactor::client::response::{ResponseDecoder, ResponseEvent, Verdict};
        use hgframe::reactor::client::Limits;
        let body = &body[..body.len().saturating_sub(cut % 4)];
        let mut runs = Vec::new();
        for bound in [u64::MAX, 1 << 20, 64] {
            let mut dec = ResponseDecoder::assuming_requests(Proto::P0006, Limits { max_value: bound }).unwrap();
            let mut seen = Vec::new();
            let mut with_data = std::collections::BTreeSet::new();
            let mut over = false;
            let mut pushed = 0u64;
            'frames: for item in SliceDecoder::new(Proto::P0006, LengthMode::Correct, body) {
                let Ok(l) = item else { break };
                let l = hgframe::wire::frame::Located { offset: l.offset, header: l.header, frame: l.frame.to_owned() };
                pushed += 1;
                if dec.push_frame(l).is_err() {
                    over = true;
                    break;
                }
                while let Some(ev) = dec.poll() {
                    match ev {
                        Ok(ResponseEvent::Frame(f)) => {
                            prop_assert_eq!(f.index + 1, pushed);
                            if let Verdict::Data { request_id, .. } = f.verdict {
                                with_data.insert(request_id);
                            }
                            seen.push(format!("{:?}", f.verdict));
                        }
                        Ok(ResponseEvent::Object { request_id, index, value }) => {
                            prop_assert!(with_data.contains(&request_id));
                            seen.push(format!("{request_id} {index} {value:?}"));
                        }
                        Ok(ResponseEvent::DataError { request_id, error }) => {
                            prop_assert!(with_data.contains(&request_id));
                            seen.push(format!("{request_id} {error}"));
                        }
                        Err(_) => {
                            over = true;
                            break 'frames;
                        }
                    }
                }
            }
            prop_assert_eq!(dec.summary().frames, pushed);
            runs.push((over, seen));
        }
        prop_assert!(!runs[0].0, "nothing is over an unbounded limit");
        if !runs[1].0 {
            prop_assert_eq!(&runs[1].1, &runs[0].1);
        }
    }
}
