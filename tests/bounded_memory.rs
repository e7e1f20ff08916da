//! Hostile responses cost at most hgframe's bound, measured: a counting
//! global allocator records the peak of live heap bytes while a response
//! is decoded with the client reactor, and each case must fail with an
//! over-limit error (or, for a flood of small values, stream) without the
//! peak passing a few times the bound. Each case also runs once without a
//! real bound where that is affordable, to show the same input would
//! otherwise cost far more — so the test fails if the bound stops working.
//!
//! One `#[test]` runs every case in turn: the allocator's counters are
//! global to the process, and tests in parallel would blur them.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hgframe::python::cbor;
use hgframe::python::value::Value;
use hgframe::reactor::client::response::ResponseDecoder;
use hgframe::reactor::client::{Limits, OverLimit};
use hgframe::wire::frame::{Frame, FrameDecoder, LengthMode, Located};
use hgframe::wire::ids::v0006::*;
use hgframe::wire::ids::{STREAM_BEGIN, STREAM_ENCODED};
use hgframe::Proto;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = System.alloc(l);
        if !p.is_null() {
            let now = LIVE.fetch_add(l.size(), Ordering::Relaxed) + l.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        let q = System.realloc(p, l, new);
        if !q.is_null() {
            if new > l.size() {
                let now = LIVE.fetch_add(new - l.size(), Ordering::Relaxed) + new - l.size();
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(l.size() - new, Ordering::Relaxed);
            }
        }
        q
    }
}

#[global_allocator]
static A: Counting = Counting;

const MIB: usize = 1 << 20;
/// The bound the cases run with.
const BOUND: u64 = 8 << 20;

fn frame(rid: u16, sflags: u8, t: u8, flags: u8, payload: Vec<u8>) -> Frame {
    Frame::new(t, flags, payload).with_ids(rid, 2, sflags)
}

fn settings(name: &str) -> Frame {
    let mut p = Vec::new();
    cbor::encode_bytes(name.as_bytes(), &mut p);
    frame(
        1,
        STREAM_BEGIN,
        STREAM_SETTINGS,
        FLAG_STREAM_SETTINGS_EOS,
        p,
    )
}

fn data(sflags: u8, payload: Vec<u8>) -> Frame {
    frame(
        1,
        sflags,
        COMMAND_RESPONSE,
        FLAG_COMMAND_RESPONSE_CONTINUATION,
        payload,
    )
}

fn status_ok() -> Vec<u8> {
    cbor::encode(&Value::dict([("status", Value::bytes("ok"))])).unwrap()
}

/// What decoding did, and the most heap it held at once beyond what was
/// live before it started.
struct Run {
    error: Option<OverLimit>,
    objects: u64,
    peak: usize,
    took: Duration,
    frames_before_error: u64,
}

/// Decode frames (produced lazily: an endless stream is an iterator that
/// never ends) with the given bound.
fn decode(bound: u64, frames: impl Iterator<Item = Frame>) -> Run {
    decode_as(Proto::P0006, bound, frames)
}

fn decode_as(proto: Proto, bound: u64, frames: impl Iterator<Item = Frame>) -> Run {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let t = Instant::now();
    let mut dec = ResponseDecoder::assuming_requests(proto, Limits { max_value: bound }).unwrap();
    let mut run = Run {
        error: None,
        objects: 0,
        peak: 0,
        took: Duration::ZERO,
        frames_before_error: 0,
    };
    // Through the byte-level frame decoder, as `decode` and `send` do.
    let mut fd = FrameDecoder::new(proto, LengthMode::Correct);
    'outer: for f in frames {
        let bytes = f.encode(proto).unwrap();
        drop(f);
        fd.feed(&bytes);
        drop(bytes);
        while let Some(l) = fd.next_frame() {
            let l: Located<Frame> = l;
            if let Err(e) = dec.push_frame(l) {
                run.error = Some(e);
                break 'outer;
            }
            while let Some(ev) = dec.poll() {
                match ev {
                    Ok(hgframe::reactor::client::response::ResponseEvent::Object { .. }) => {
                        run.objects += 1
                    }
                    Ok(_) => {}
                    Err(e) => {
                        run.error = Some(e);
                        break 'outer;
                    }
                }
            }
            run.frames_before_error += 1;
        }
    }
    drop(dec);
    run.took = t.elapsed();
    run.peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    run
}

/// zstd (an 8 MiB window, as zstd-8mb requires) of `prefix` then `n`
/// zero bytes, compressed in pieces so the input is never held whole.
fn zstd_zeros(prefix: &[u8], n: usize) -> Vec<u8> {
    let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 19).unwrap();
    enc.window_log(23).unwrap();
    enc.write_all(prefix).unwrap();
    let block = vec![0u8; MIB];
    for _ in 0..n / MIB {
        enc.write_all(&block).unwrap();
    }
    enc.flush().unwrap();
    enc.get_ref().clone()
}

/// The status map, then the header of a byte string of `n` bytes (whose
/// bytes, zeros, follow in the bombs).
fn bytestring_head(n: usize) -> Vec<u8> {
    let mut p = status_ok();
    cbor::encode_length(2, n as u64, &mut p);
    p
}

fn zlib_zeros(prefix: &[u8], n: usize) -> Vec<u8> {
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(prefix).unwrap();
    let block = vec![0u8; MIB];
    for _ in 0..n / MIB {
        enc.write_all(&block).unwrap();
    }
    enc.flush().unwrap();
    enc.get_ref().clone()
}

fn report(name: &str, r: &Run) {
    eprintln!(
        "{name}: peak {:.1} MiB, {:?}, {} objects, error: {}",
        r.peak as f64 / MIB as f64,
        r.took,
        r.objects,
        r.error
            .as_ref()
            .map(|e| e.to_string())
            .unwrap_or_else(|| "none".into())
    );
}

#[test]
fn hostile_responses_stay_within_the_bound() {
    let bound = BOUND as usize;
    // What any decode needs besides the bound: the zstd window (8 MiB) and
    // its buffers, one raw frame, a feed slice. The bound itself may be
    // held about three times (decoded data, the value, its copy).
    let ceiling = 3 * bound + 12 * MIB;

    // 1. A zstd bomb: a 100 MiB byte string of zeros in about 3 KB, as
    // one frame.
    let bomb = zstd_zeros(&bytestring_head(100 * MIB), 100 * MIB);
    assert!(bomb.len() < 64 * 1024, "{}", bomb.len());
    let frames = || vec![settings("zstd-8mb"), data(STREAM_ENCODED, bomb.clone())].into_iter();
    let r = decode(BOUND, frames());
    report(&format!("zstd bomb ({} bytes)", bomb.len()), &r);
    let e = r.error.expect("the zstd bomb is refused");
    assert!(
        e.detail.contains("decodes to more than 8388608 bytes"),
        "{e}"
    );
    assert!(r.peak < ceiling, "peak {} over {ceiling}", r.peak);
    let unbounded = decode(u64::MAX, frames());
    report("zstd bomb, no bound", &unbounded);
    assert!(unbounded.error.is_none());
    assert_eq!(unbounded.objects, 2, "the status map and the string");
    assert!(
        unbounded.peak > 200 * MIB,
        "without the bound the bomb costs twice its size (data, value): {}",
        unbounded.peak
    );

    // 2. A zlib bomb (zlib's ratio is at most about 1000:1).
    let bomb = zlib_zeros(&bytestring_head(100 * MIB), 100 * MIB);
    let r = decode(
        BOUND,
        vec![settings("zlib"), data(STREAM_ENCODED, bomb.clone())].into_iter(),
    );
    report(&format!("zlib bomb ({} bytes)", bomb.len()), &r);
    assert!(r
        .error
        .expect("the zlib bomb is refused")
        .detail
        .contains("decodes to more than"));
    assert!(r.peak < ceiling, "peak {}", r.peak);

    // 3. A value declaring 2**63 bytes, then data forever: refused at its
    // header, before any data is buffered.
    let mut head = status_ok();
    head.push(0x5b);
    head.extend_from_slice(&(1u64 << 63).to_be_bytes());
    let endless = std::iter::once(settings("identity"))
        .chain(std::iter::once(data(STREAM_ENCODED, head)))
        .chain(std::iter::repeat_with(|| {
            data(STREAM_ENCODED, vec![b'x'; 32768])
        }));
    let r = decode(BOUND, endless);
    report("2**63-byte string", &r);
    let e = r.error.expect("the 2**63-byte string is refused");
    assert!(e.detail.contains("declares"), "{e}");
    assert_eq!(r.frames_before_error, 1, "refused at once");
    assert!(r.peak < 2 * MIB, "peak {}", r.peak);

    // 4. Endless frames of a map that never ends (2**32 entries declared,
    // distinct 4-byte keys, tiny values).
    let mut head = status_ok();
    head.extend_from_slice(&[0xba, 0xff, 0xff, 0xff, 0xff]);
    let mut key = 0u32;
    let endless = std::iter::once(settings("identity"))
        .chain(std::iter::once(data(STREAM_ENCODED, head)))
        .chain(std::iter::repeat_with(move || {
            let mut p = Vec::with_capacity(32768);
            while p.len() < 32760 {
                p.push(0x44);
                p.extend_from_slice(&key.to_be_bytes());
                p.push(0x00);
                key += 1;
            }
            data(STREAM_ENCODED, p)
        }));
    let r = decode(BOUND, endless);
    report("endless map", &r);
    assert!(r
        .error
        .expect("the endless map is refused")
        .detail
        .contains("over the bound"));
    assert!(r.peak < ceiling, "peak {}", r.peak);
    assert!(r.took < Duration::from_secs(20), "{:?}", r.took);

    // 5. Endless stream-settings continuation frames: an indefinite-length
    // byte string whose chunks never end.
    let chunk = || {
        let mut p = vec![0x59, 0x7f, 0xf8];
        p.extend(std::iter::repeat_n(b'z', 0x7ff8));
        p
    };
    let endless = std::iter::once(frame(
        1,
        STREAM_BEGIN,
        STREAM_SETTINGS,
        FLAG_STREAM_SETTINGS_CONTINUATION,
        vec![0x5f],
    ))
    .chain(std::iter::repeat_with(move || {
        frame(
            1,
            0,
            STREAM_SETTINGS,
            FLAG_STREAM_SETTINGS_CONTINUATION,
            chunk(),
        )
    }));
    let r = decode(BOUND, endless);
    report("endless stream settings", &r);
    assert!(r
        .error
        .expect("endless stream settings are refused")
        .what
        .contains("stream settings"));
    assert!(r.peak < ceiling, "peak {}", r.peak);

    // 6. Not an attack: 4 MiB of tiny values in one zstd frame is a
    // stream of four million objects, decoded in slices: memory stays at
    // the decoded frame plus one slice's values.
    let zeros = zstd_zeros(&[], 4 * MIB);
    let r = decode(
        16 << 20,
        vec![settings("zstd-8mb"), data(STREAM_ENCODED, zeros)].into_iter(),
    );
    report("4 M small values", &r);
    assert!(r.error.is_none());
    assert_eq!(r.objects, 4 * MIB as u64);
    assert!(r.peak < 4 * MIB + 16 * MIB, "peak {}", r.peak);

    revision_0005(ceiling);
}

/// 4.6/4.7 clients keep a request's data until its eos frame and read it
/// then with cbor2: the data held, the value being built, the shareable
/// values kept for later references and an error-response payload all
/// count against the bound.
fn revision_0005(ceiling: usize) {
    use hgframe::wire::ids::v0005 as v5;
    let p5 = Proto::P0005;
    let resp = |sflags: u8, flags: u8, payload: Vec<u8>| {
        frame(1, sflags, v5::COMMAND_RESPONSE, flags, payload)
    };
    let more = v5::FLAG_COMMAND_RESPONSE_CONTINUATION;
    let eos = v5::FLAG_COMMAND_RESPONSE_EOS;

    // 7. Data that never reaches its eos frame.
    let endless = std::iter::once(resp(STREAM_BEGIN, more, status_ok())).chain(
        std::iter::repeat_with(move || resp(0, more, vec![0; 32768])),
    );
    let r = decode_as(p5, BOUND, endless);
    report("0005: data without eos", &r);
    let e = r.error.expect("endless data is refused");
    assert!(e.what.contains("held until its end-of-stream frame"), "{e}");
    assert!(r.peak < ceiling, "peak {}", r.peak);

    // 8. Not an attack: 2 MiB of small values, read a slice's worth at a
    // time at eos.
    let mut p = status_ok();
    p.extend(std::iter::repeat_n(0u8, 2 * MIB));
    let frames = || {
        let chunks: Vec<Vec<u8>> = p.chunks(32768).map(|c| c.to_vec()).collect();
        let n = chunks.len();
        chunks.into_iter().enumerate().map(move |(i, c)| {
            let sflags = if i == 0 { STREAM_BEGIN } else { 0 };
            resp(sflags, if i + 1 == n { eos } else { more }, c)
        })
    };
    let r = decode_as(p5, BOUND, frames());
    report("0005: 2 M small values", &r);
    assert!(r.error.is_none());
    assert_eq!(r.objects, 2 * MIB as u64 + 1);
    assert!(r.peak < 2 * MIB + 16 * MIB, "peak {}", r.peak);

    // 9. One array of 7 M items, within the data bound: its values are not.
    let mut p = status_ok();
    p.push(0x9f);
    p.extend(std::iter::repeat_n(0u8, 7 * MIB));
    p.push(0xff);
    let chunks: Vec<Vec<u8>> = p.chunks(32768).map(|c| c.to_vec()).collect();
    let n = chunks.len();
    let r = decode_as(
        p5,
        BOUND,
        chunks.into_iter().enumerate().map(|(i, c)| {
            let sflags = if i == 0 { STREAM_BEGIN } else { 0 };
            resp(sflags, if i + 1 == n { eos } else { more }, c)
        }),
    );
    report("0005: 7 M items in one array", &r);
    assert!(r
        .error
        .expect("the array is refused")
        .detail
        .contains("would hold"));
    assert!(r.peak < ceiling, "peak {}", r.peak);

    // 10. Shared references that double the value at each level (Python
    // shares one object; a copy per reference would take 2**60 items).
    let mut p = status_ok();
    p.extend_from_slice(&[0xd8, 0x1c, 0x81, 0x00]);
    for i in 0..60u8 {
        p.extend_from_slice(&[0xd8, 0x1c, 0x82, 0xd8, 0x1d, i, 0xd8, 0x1d, i]);
    }
    let r = decode_as(p5, BOUND, std::iter::once(resp(STREAM_BEGIN, eos, p)));
    report("0005: doubling shared references", &r);
    assert!(r
        .error
        .expect("the doubling is refused")
        .detail
        .contains("would hold"));
    assert!(r.peak < ceiling, "peak {}", r.peak);
    assert!(r.objects > 10, "the first levels are read: {}", r.objects);

    // 11. An error-response payload of 15 MiB of items in one array.
    let mut p = vec![0x9f];
    p.extend(std::iter::repeat_n(0u8, 15 * MIB));
    let r = decode_as(
        p5,
        BOUND,
        std::iter::once(frame(1, STREAM_BEGIN, v5::ERROR_RESPONSE, 0, p)),
    );
    report("0005: 15 M items in an error-response", &r);
    assert!(r
        .error
        .expect("the payload is refused")
        .what
        .contains("error-response"));
    assert!(r.peak < ceiling + 16 * MIB, "peak {}", r.peak);
}
