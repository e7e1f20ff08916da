//! Property tests for what revision 0005 and the server flavours add: the
//! bundled-cbor2 port (any bytes decode or fail, never panic; a decoded
//! value's canonical encoding decodes to the same value), Python 2 literals,
//! human strings and debugreflect for every release `--hg` selects, and
//! responses decoded as a 4.6/4.7 client does (the 0005 client reactor and
//! cbor2 sequences read at eos, bounded): never a panic, whatever the
//! frames, and the bound holds.

use hgframe::human::{parse_human_bytes, to_human};
use hgframe::python::cbor2::{encode_canonical, load, load_prefix, ReadError, SequenceReader};
use hgframe::python::literal::parse_literal_in;
use hgframe::python::Py;
use hgframe::reactor::client::response::ResponseDecoder;
use hgframe::reactor::client::Limits;
use hgframe::reflect::reflect_bytes;
use hgframe::wire::frame::{Frame, LengthMode, Located, SliceDecoder};
use hgframe::wire::proto::release;
use hgframe::Proto;
use proptest::collection::vec;
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// The revisions and flavours of every release line.
fn release_protos() -> Vec<Proto> {
    ["4.7", "4.8", "5.0-py2", "6.0"]
        .iter()
        .map(|v| release(v).unwrap().proto)
        .collect()
}

/// Bytes biased towards CBOR heads of every major type.
fn cborish() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        any::<u8>(),
        prop::sample::select(vec![
            0x9f, 0xbf, 0xff, 0x5f, 0x7f, 0x81, 0xa1, 0x41, 0x61, 0xc2, 0xc3, 0xd8, 0x1c, 0x1d,
            0xd9, 0x01, 0x02, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xf4, 0xf5, 0xf6, 0x1b, 0x00,
        ]),
    ];
    vec(byte, 0..40)
}

/// Text biased towards Python 2 literal syntax.
fn py2_literal() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "'", "u'", "ur'", "b'", "br'", "\"", "\\x", "\\u00e9", "\\", "017", "08", "10L", "0x1f",
        "1.5", "1e400", "-", "+", "[", "]", "{", "}", "(", ")", ",", ":", " ", "None", "True",
        "set()", "é", "\u{20ac}", "1_0", "j", "#", "\n",
    ]);
    vec(piece, 0..16).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn cbor2_load_never_panics_and_reencodes(b in cborish()) {
        if let Ok((v, n)) = load_prefix(&b) {
            prop_assert!(n <= b.len());
            // What cbor2 decoded and can encode again decodes the same.
            if let Ok(enc) = encode_canonical(&v) {
                let again = load(&enc);
                prop_assert!(again.is_ok(), "{:?} -> {:02x?}", v, enc);
            }
        }
    }

    #[test]
    fn python2_literals_never_panic(s in py2_literal()) {
        let _ = parse_literal_in(Py::Two, &s);
    }

    #[test]
    fn human_strings_of_every_release_never_panic(
        head in prop::sample::select(vec!["1 1 0 1 0 ", "1 1 stream-begin command-request new ", "1 2 0 8 0 ", "x 1 0 1 0 "]),
        lit in py2_literal(),
        cbor in any::<bool>(),
    ) {
        let line = format!("{head}{}{lit}", if cbor { "cbor:" } else { "" });
        for p in release_protos() {
            if let Ok(parsed) = parse_human_bytes(p, line.as_bytes()) {
                // What parses renders back to a line that parses the same.
                let back = to_human(p, &parsed.frame);
                let again = parse_human_bytes(p, back.as_bytes());
                prop_assert!(again.is_ok(), "{p:?}: {line:?} -> {back:?}");
                prop_assert_eq!(again.unwrap().frame, parsed.frame);
            }
        }
    }

    #[test]
    fn reflect_of_every_release_never_panics(
        frames in vec((0u16..6, prop::sample::select(vec![0u8, 1, 2, 3]), 0u8..8, 0u8..16, 0u8..16, cborish()), 0..5),
        cut in 0usize..4,
    ) {
        for p in release_protos() {
            let mut body = Vec::new();
            for (rid, sid, sf, t, fl, payload) in &frames {
                Frame::new(*t, *fl, payload.clone())
                    .with_ids(*rid, *sid, *sf)
                    .encode_into(p, &mut body)
                    .unwrap();
            }
            body.truncate(body.len().saturating_sub(cut));
            let _ = reflect_bytes(p, &body);
        }
    }

    #[test]
    fn response_0005_decoding_never_panics(
        frames in vec((0u16..8, prop::sample::select(vec![0u8, 1, 2, 4]), 0u8..8, 0u8..16, 0u8..4, cborish()), 0..8),
        cut in 0usize..4,
        bound in prop::sample::select(vec![48u64, 512, 1 << 20]),
    ) {
        let p = Proto::P0005;
        let mut body = Vec::new();
        for (rid, sid, sf, t, fl, payload) in &frames {
            Frame::new(*t, *fl, payload.clone())
                .with_ids(*rid, *sid, *sf)
                .encode_into(p, &mut body)
                .unwrap();
        }
        body.truncate(body.len().saturating_sub(cut));
        decode_0005(&body, bound);
    }

    #[test]
    fn response_0005_bytes_never_panic(b in vec(any::<u8>(), 0..200)) {
        decode_0005(&b, 1 << 20);
    }

    #[test]
    fn cbor2_sequences_end_and_hold_the_bound(b in cborish(), bound in 0u64..4096) {
        let mut r = SequenceReader::new(&b[..], bound);
        let mut last = 0;
        while let Some(v) = r.next_value() {
            prop_assert!(r.position() > last || v.is_err());
            prop_assert!(r.position() <= b.len());
            last = r.position();
            if let Err(ReadError::OverLimit { needed, limit }) = v {
                prop_assert!(needed > limit && limit == bound);
            }
        }
        // Unbounded, it reads what load_prefix reads, value after value.
        let mut r = SequenceReader::new(&b[..], u64::MAX);
        if let Some(Ok(v)) = r.next_value() {
            let (w, n) = load_prefix(&b).unwrap();
            prop_assert_eq!(v, w);
            prop_assert_eq!(n, r.position());
        }
    }
}

/// A 0005 response body through the client reactor, every event drained.
fn decode_0005(body: &[u8], bound: u64) {
    let mut dec =
        ResponseDecoder::assuming_requests(Proto::P0005, Limits { max_value: bound }).unwrap();
    for item in SliceDecoder::new(Proto::P0005, LengthMode::Correct, body) {
        let Ok(l) = item else { break };
        let l = Located {
            offset: l.offset,
            header: l.header,
            frame: l.frame.to_owned(),
        };
        if dec.push_frame(l).is_err() {
            return;
        }
        while let Some(ev) = dec.poll() {
            if ev.is_err() {
                return;
            }
        }
    }
    let _ = dec.summary();
}
