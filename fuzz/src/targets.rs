//! One function per fuzz target. Each takes arbitrary bytes, must never
//! panic, and asserts what must hold for every input (round trips,
//! agreement between decoders, error positions inside the input).

use hgframe::human::{parse_human, parse_human_bytes, to_human, to_literal};
use hgframe::python::cbor::{self, BufferingDecoder};
use hgframe::python::json::to_json;
use hgframe::python::json::JsonFlavor;
use hgframe::python::literal::parse_literal;
use hgframe::python::value::Value;
use hgframe::reflect::{reflect_blocks_until, Http500};
use hgframe::wire::frame::{
    DecodeError, FrameDecoder, FrameReader, LengthMode, ReadError, SliceDecoder,
};
use hgframe::{Frame, Proto};

const PROTOS: [Proto; 3] = [Proto::P0001, Proto::P0002, Proto::P0006];
const MODES: [LengthMode; 2] = [LengthMode::Correct, LengthMode::Mercurial];
const FLAVORS: [JsonFlavor; 2] = [JsonFlavor::Python2, JsonFlavor::Mercurial];

type Decoded = (Vec<(u64, Frame)>, Option<DecodeError>);

fn slice_decode(proto: Proto, mode: LengthMode, data: &[u8]) -> Decoded {
    let mut frames = Vec::new();
    for r in SliceDecoder::new(proto, mode, data) {
        match r {
            Ok(l) => {
                assert_eq!(l.header.length, l.frame.payload.len());
                frames.push((l.offset, l.frame.to_owned()));
            }
            Err(e) => return (frames, Some(e)),
        }
    }
    (frames, None)
}

fn incremental_decode(proto: Proto, mode: LengthMode, data: &[u8], step: usize) -> Decoded {
    let mut d = FrameDecoder::new(proto, mode);
    let mut frames = Vec::new();
    let mut drain = |d: &mut FrameDecoder| loop {
        let wanted = d.wanted();
        match d.next_frame() {
            Some(l) => {
                assert_eq!(wanted, 0);
                frames.push((l.offset, l.frame));
            }
            None => {
                assert!(wanted > 0);
                break;
            }
        }
    };
    for chunk in data.chunks(step.max(1)) {
        d.feed(chunk);
        drain(&mut d);
    }
    drain(&mut d);
    (frames, d.finish().err())
}

fn reader_decode(proto: Proto, mode: LengthMode, data: &[u8]) -> Decoded {
    let mut frames = Vec::new();
    for r in FrameReader::new(proto, mode, data) {
        match r {
            Ok(l) => frames.push((l.offset, l.frame)),
            Err(ReadError::Decode(e)) => return (frames, Some(e)),
            Err(e) => panic!("I/O error reading a slice: {e}"),
        }
    }
    (frames, None)
}

/// `SliceDecoder`, `FrameDecoder` (fed in pieces whose size comes from the
/// first input byte) and `FrameReader` on the input, every revision and
/// length mode: they agree, offsets add up, and what decodes completely
/// with correct lengths re-encodes to the input.
pub fn decode(data: &[u8]) {
    let step = data.first().map_or(1, |b| 1 + (*b as usize % 19));
    for proto in PROTOS {
        for mode in MODES {
            let (frames, err) = slice_decode(proto, mode, data);
            let inc = incremental_decode(proto, mode, data, step);
            assert_eq!(inc.0, frames);
            assert_eq!(inc.1, err);
            let rd = reader_decode(proto, mode, data);
            assert_eq!(rd.0, frames);
            assert_eq!(rd.1, err);
            let mut again = Vec::new();
            for (off, f) in &frames {
                assert_eq!(*off as usize, again.len());
                f.encode_into(proto, &mut again)
                    .expect("decoded frame re-encodes");
            }
            if mode == LengthMode::Correct {
                assert_eq!(&again[..], &data[..again.len()]);
                if err.is_none() {
                    assert_eq!(again.len(), data.len());
                }
            }
            if let Some(e) = err {
                let off = match e {
                    DecodeError::TruncatedHeader { offset, .. }
                    | DecodeError::TruncatedPayload { offset, .. } => offset,
                };
                assert!((off as usize) < data.len());
            }
        }
    }
}

/// `parse_human_bytes` for every revision; a parsed frame renders back
/// (`to_human`) to a line that parses to the same frame; an error's span
/// is inside the line and the error renders (as the CLI does).
pub fn human(data: &[u8]) {
    for proto in PROTOS {
        match parse_human_bytes(proto, data) {
            Ok(p) => {
                let line = to_human(proto, &p.frame);
                let back = parse_human(proto, &line)
                    .unwrap_or_else(|e| panic!("to_human gave {line:?}: {}", e.render()));
                assert_eq!(back.frame, p.frame, "{line}");
                let bytes = p.frame.encode(proto).expect("parsed frame encodes");
                assert_eq!(bytes.len(), p.frame.encoded_len(proto));
            }
            Err(e) => {
                assert!(e.start <= e.end, "{e:?}");
                let _ = e.render();
            }
        }
    }
}

/// `parse_literal` on UTF-8 input, then `cbor::encode`; what encodes and
/// decodes again re-encodes to the same bytes, and the value's own literal
/// (`to_literal`) parses back to it.
pub fn literal(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse_literal(text) {
        Ok(v) => {
            for flavor in FLAVORS {
                let _ = to_json(flavor, &v);
            }
            let Ok(bytes) = cbor::encode(&v) else { return };
            if let Ok(values) = cbor::decode_all(&bytes) {
                assert_eq!(values.len(), 1);
                assert_eq!(cbor::encode(&values[0]).ok().as_ref(), Some(&bytes));
            }
            if let Some(lit) = to_literal(&v) {
                let back = parse_literal(&lit)
                    .unwrap_or_else(|e| panic!("{text:?} -> {lit:?} does not parse: {e:?}"));
                assert_eq!(cbor::encode(&back).ok().as_ref(), Some(&bytes), "{lit}");
            }
        }
        Err(e) => {
            assert!(e.pos <= text.len(), "{e:?}");
            assert!(text.is_char_boundary(e.pos), "{e:?}");
        }
    }
}

fn exercise_value(v: &Value) {
    for flavor in FLAVORS {
        let _ = to_json(flavor, v);
    }
    let _ = to_literal(v);
    let _ = cbor::encode(v);
}

/// `cbor::decode_all` and `BufferingDecoder` (whole, one byte at a time, and
/// in pieces sized by the first byte); decoded values go through both JSON
/// encoders, `to_literal` and the encoder. Whatever `decode_all` accepts,
/// the buffering decoder decodes to the same values however it is fed.
/// The bound every decoder of hgframe's runs under (as the product does:
/// `--max-value`), small so a value is never rendered for seconds.
const BOUND: u64 = 1 << 20;

pub fn cbor(data: &[u8]) {
    let all = cbor::decode_all_limited(data, BOUND);
    if let Ok(values) = &all {
        values.iter().for_each(exercise_value);
    }
    let step = data.first().map_or(1, |b| 1 + (*b as usize % 13));
    for step in [data.len().max(1), 1, step] {
        let mut d = BufferingDecoder::with_held_limit(BOUND);
        let mut got = Vec::new();
        let mut failed = false;
        for chunk in data.chunks(step) {
            match d.decode(chunk) {
                Ok((_, consumed, _)) => assert!(consumed <= chunk.len() as i64),
                Err(_) => {
                    failed = true;
                    break;
                }
            }
            got.extend(d.get_available());
        }
        if let Ok(values) = &all {
            assert!(
                !failed,
                "decode_all accepted what the buffering decoder rejects"
            );
            assert_eq!(&got, values);
        }
    }
}

/// The debugreflect body of every revision for the input as a request
/// body: a 200 body ends with the EOF line and `{"action": "noop"}`, and the
/// server fails to read exactly the bodies the frame decoder cannot decode
/// (unless it crashed earlier).
pub fn reflect(data: &[u8]) {
    for proto in PROTOS {
        let (_, err) = slice_decode(proto, LengthMode::Mercurial, data);
        let opts = hgframe::reactor::ReactorOptions {
            max_value: BOUND,
            ..Default::default()
        };
        match reflect_blocks_until(proto, data.to_vec(), opts, |_| false)
            .map(|b| b.map(|b| b.concat()).unwrap_or_default())
        {
            Ok(body) => {
                assert!(
                    body.ends_with(b"received: <no frame>\n{\"action\": \"noop\"}"),
                    "{}",
                    String::from_utf8_lossy(&body)
                );
                assert!(err.is_none(), "undecodable input answered 200");
            }
            Err(Http500::Undecodable(e)) => assert_eq!(Some(e), err),
            Err(_) => {}
        }
    }
}

/// The input as a response body through each client reactor (0006 and
/// 0005), with requests assumed and a small memory bound: every frame
/// yields exactly one frame event, in order; objects only for requests
/// whose data came; the summary counts the frames; over the bound is an
/// error, never a panic. The bounded CBOR decoders (cborutil's, and the
/// cbor2 sequence reader 4.6/4.7 clients read data with) agree with the
/// unbounded ones.
pub fn response(data: &[u8]) {
    use hgframe::python::cbor2::SequenceReader;
    use hgframe::reactor::client::has_client_reactor;

    // Every revision with a client reactor: 0006 (streams, cborutil) and
    // 0005 (data read at eos as a cbor2 sequence).
    for proto in Proto::all().filter(|p| has_client_reactor(*p)) {
        response_as(proto, data);
    }
    if let Ok(values) = cbor::decode_all(data) {
        if let Ok(bounded) = cbor::decode_all_limited(data, u64::MAX) {
            assert_eq!(bounded, values);
        }
    }
    // The bounded cbor2 sequence reader reads what the unbounded one does,
    // until the bound stops it.
    let mut all = SequenceReader::new(data, u64::MAX);
    let mut bounded = SequenceReader::new(data, 1 << 12);
    while let Some(v) = bounded.next_value() {
        let w = all.next_value().expect("as many values");
        match v {
            Ok(v) => assert_eq!(Ok(v), w),
            Err(hgframe::python::cbor2::ReadError::OverLimit { .. }) => break,
            Err(e) => assert_eq!(Err(e), w),
        }
    }
}

fn response_as(proto: Proto, data: &[u8]) {
    use hgframe::reactor::client::response::{ResponseDecoder, ResponseEvent, Verdict};
    use hgframe::reactor::client::Limits;
    use hgframe::wire::frame::Located;

    let bound = 1 << 16;
    let mut dec = ResponseDecoder::assuming_requests(proto, Limits { max_value: bound })
        .expect("a revision with a client reactor");
    let mut pushed = 0u64;
    let mut with_data = std::collections::BTreeSet::new();
    'frames: for item in SliceDecoder::new(proto, LengthMode::Correct, data) {
        let Ok(l) = item else { break };
        let l = Located {
            offset: l.offset,
            header: l.header,
            frame: l.frame.to_owned(),
        };
        pushed += 1;
        if dec.push_frame(l).is_err() {
            break;
        }
        let mut frame_events = 0;
        while let Some(ev) = dec.poll() {
            match ev {
                Ok(ResponseEvent::Frame(f)) => {
                    frame_events += 1;
                    assert_eq!(f.index + 1, pushed);
                    if let Verdict::Data { request_id, .. } = f.verdict {
                        with_data.insert(request_id);
                    }
                }
                Ok(ResponseEvent::Object { request_id, .. })
                | Ok(ResponseEvent::DataError { request_id, .. }) => {
                    assert!(with_data.contains(&request_id))
                }
                Err(_) => break 'frames,
            }
        }
        assert_eq!(frame_events, 1);
    }
    assert_eq!(dec.summary().frames, pushed);
}
// ---------------------------------------------------------------------------
// transcript

use hgframe::replay::{run_script, Exec, Fatal, RunOptions, ScriptReport};

/// A marker no legitimate output contains: the content of a file outside
/// the transcript's directory that a confined `respond KEY @FILE` must never
/// read.
const CANARY: &str = "hgframe-fuzz-CANARY-7c1e0b";

/// `<tmp>/hgframe-fuzz-transcript/`: `canary` (outside the script's
/// directory, must never be read) and `dir/` with one small regular file
/// `resp` (so `respond KEY @resp` can succeed). Scripts are named
/// `dir/t.hgframe`; nothing else is ever written or read.
fn transcript_file() -> &'static str {
    static FILE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    FILE.get_or_init(|| {
        let root = std::env::temp_dir().join("hgframe-fuzz-transcript");
        let dir = root.join("dir");
        std::fs::create_dir_all(&dir).expect("create the transcript directory");
        std::fs::write(root.join("canary"), CANARY).expect("write the canary");
        std::fs::write(dir.join("resp"), b"resp\x00\xff").expect("write dir/resp");
        dir.join("t.hgframe")
            .to_str()
            .expect("temp dir is UTF-8")
            .to_string()
    })
}

fn run_transcript(text: &[u8], update: bool) -> Result<ScriptReport, Fatal> {
    let opts = RunOptions {
        update,
        ..Default::default()
    };
    run_script(transcript_file(), text, &Exec::Local, None, &opts, |_| {})
}

/// What a run's failures say, line numbers left out (`--update` rewrites
/// the `<` lines, so lines move): `(is a mismatch, message)`, sorted.
fn failure_messages(r: &ScriptReport) -> Vec<(bool, String)> {
    let mut v: Vec<(bool, String)> = r
        .failures
        .iter()
        .map(|f| (f.message == "output differs", f.message.clone()))
        .collect();
    v.sort();
    v
}

/// The input as a replay transcript run on the local reactor
/// (`replay --local`), then with `--update`. Besides "no panic": the two
/// runs agree (requests, frames, failures); the canary outside the
/// script's directory is never read; and the updated text, run again,
/// has no mismatch (`output differs`) left and fails exactly the
/// assertions (`expect ...`) the first run failed — update rewrites `<`
/// lines and keeps assertions, so it cannot fix those.
pub fn transcript(data: &[u8]) {
    let plain = run_transcript(data, false);
    let upd = run_transcript(data, true);
    for r in [&plain, &upd] {
        let shown = match r {
            Ok(rep) => format!("{rep:?}"),
            Err(e) => e.to_string(),
        };
        assert!(
            !shown.contains(CANARY),
            "a file outside the script's directory was read: {shown}"
        );
    }
    let (plain, upd) = match (plain, upd) {
        (Ok(p), Ok(u)) => (p, u),
        (Err(a), Err(b)) => {
            assert_eq!(a.to_string(), b.to_string());
            return;
        }
        (a, b) => panic!("update changes whether the script runs: {a:?} vs {b:?}"),
    };
    assert_eq!(plain.requests, upd.requests);
    assert_eq!(plain.frames, upd.frames);
    assert_eq!(failure_messages(&plain), failure_messages(&upd));
    assert!(plain.skipped.is_none() && upd.skipped.is_none());
    let text = upd
        .updated
        .clone()
        .expect("update mode returns the updated text");
    let again = run_transcript(text.as_bytes(), false)
        .unwrap_or_else(|e| panic!("the updated script does not run: {e}\n--- updated:\n{text}"));
    assert_eq!(again.requests, upd.requests, "{text}");
    assert_eq!(again.frames, upd.frames, "{text}");
    let want: Vec<(bool, String)> = failure_messages(&upd)
        .into_iter()
        .filter(|m| !m.0)
        .collect();
    assert_eq!(
        failure_messages(&again),
        want,
        "the updated script fails differently\n--- updated:\n{text}\n--- failures:\n{:#?}",
        again.failures
    );
}

// ---------------------------------------------------------------------------
// serve_http

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// How long an answer may take before the server counts as wedged.
const HTTP_READ_TIMEOUT: Duration = Duration::from_secs(5);

/// The in-process server (revision 0006, silent, 2 s timeouts, canned
/// responses for `heads` and `known`), started once per process.
fn http_server() -> SocketAddr {
    use hgframe::server::{start, LogTarget, ServeOptions, ServerHandle};
    use hgframe::session::Responder;
    static SERVER: std::sync::OnceLock<ServerHandle> = std::sync::OnceLock::new();
    SERVER
        .get_or_init(|| {
            let mut o = ServeOptions::new(Proto::P0006);
            o.log = LogTarget::Silent;
            o.timeout = Duration::from_secs(2);
            o.responder = Responder::parse(
                Proto::P0006,
                &[
                    "heads=cbor:[b'fuzz', {b'k': [1, None]}]".into(),
                    "known=error:no %s".into(),
                ],
            )
            .expect("canned responses parse");
            start(o).expect("the server starts")
        })
        .addr()
}

/// Send `data` on a fresh connection, shut down the write half, read the
/// answer until the server closes (or the read timeout).
fn http_exchange(addr: SocketAddr, data: &[u8]) -> (Vec<u8>, Option<std::io::Error>) {
    let mut s = TcpStream::connect(addr).expect("connect to the in-process server");
    s.set_read_timeout(Some(HTTP_READ_TIMEOUT)).unwrap();
    s.set_write_timeout(Some(HTTP_READ_TIMEOUT)).unwrap();
    // The server may answer and close before reading everything (e.g. 413
    // or a parse error): a failed write is not a finding.
    let _ = s.write_all(data);
    let _ = s.shutdown(Shutdown::Write);
    let mut out = Vec::new();
    let mut buf = [0u8; 16384];
    let started = Instant::now();
    loop {
        match s.read(&mut buf) {
            Ok(0) => return (out, None),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            // a reset after the server gave up on the request
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return (out, None),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return (out, Some(e)),
        }
        if started.elapsed() > 2 * HTTP_READ_TIMEOUT {
            return (out, Some(std::io::Error::other("the answer never ends")));
        }
    }
}

/// The raw input written to an in-process `hgframe serve` (0006) over TCP,
/// the write half then shut down. The answer is empty (the server closed
/// without one) or HTTP/1.x, arrives and ends within the read timeout, and
/// the server still answers `GET /api/` with 200 afterwards.
pub fn serve_http(data: &[u8]) {
    let addr = http_server();
    let (answer, err) = http_exchange(addr, data);
    if let Some(e) = err {
        panic!(
            "no complete answer within {HTTP_READ_TIMEOUT:?}: {e}; got {} bytes: {:?}",
            answer.len(),
            String::from_utf8_lossy(&answer[..answer.len().min(300)])
        );
    }
    assert!(
        answer.is_empty() || answer.starts_with(b"HTTP/1."),
        "answer is not HTTP/1.x: {:?}",
        String::from_utf8_lossy(&answer[..answer.len().min(300)])
    );
    let (probe, err) = http_exchange(
        addr,
        b"GET /api/ HTTP/1.1\r\nHost: fuzz\r\nConnection: close\r\n\r\n",
    );
    assert!(
        err.is_none() && probe.starts_with(b"HTTP/1.1 200 "),
        "the server no longer answers GET /api/ ({err:?}): {:?}",
        String::from_utf8_lossy(&probe[..probe.len().min(300)])
    );
}
