//! Codec throughput: human-string parsing, zero-copy slice decoding and
//! incremental decoding in 4 KiB chunks, per protocol revision.
//!
//! Run with `cargo bench --bench codec -- --noplot`, or `scripts/bench.sh`
//! for the whole suite with a summary table. Every bench sets a
//! `Throughput::Elements` (lines or frames per iteration), so criterion
//! reports elements/s and `scripts/bench.sh` can convert medians.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use hgframe::human::parse_human;
use hgframe::wire::frame::{Frame, FrameDecoder, LengthMode, SliceDecoder};
use hgframe::Proto;

/// Frames in the decoding buffers.
const FRAMES: usize = 100_000;
/// Chunk size fed to `FrameDecoder`.
const CHUNK: usize = 4096;

/// Short runs, so the whole suite takes about a minute on 2 cores.
/// (Command-line flags such as `--measurement-time` still override this.)
fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(700))
        .measurement_time(Duration::from_secs(2))
}

/// Realistic human frame strings, per revision: (revision, label, line).
fn human_lines() -> Vec<(Proto, &'static str, &'static str)> {
    vec![
        (
            Proto::P0006,
            "cbor",
            "1 1 stream-begin command-request new cbor:{b'name': b'heads'}",
        ),
        (
            Proto::P0006,
            "cbor-args",
            "3 1 0 command-request new cbor:{b'name': b'known', b'args': {b'nodes': [b'0123456789abcdef0123', b'fedcba9876543210fedc']}}",
        ),
        (
            Proto::P0006,
            "escaped",
            r"5 1 0 command-data continuation \x00\x01\x02\xfffoo bar\nbaz\\qux\t\x7f",
        ),
        (
            Proto::P0002,
            "name",
            "1 1 stream-begin command-name have-args heads",
        ),
        (
            Proto::P0002,
            "argument",
            r"1 1 0 command-argument eoa \x03\x00\x04\x00fooval1",
        ),
        (Proto::P0001, "name", "command-name eos heads"),
        (
            Proto::P0001,
            "argument",
            r"command-argument 0 \x03\x00\x04\x00fooval1",
        ),
    ]
}

fn bench_human(c: &mut Criterion) {
    let mut g = c.benchmark_group("human");
    // One line per iteration: criterion reports lines/s.
    g.throughput(Throughput::Elements(1));
    for (proto, label, line) in human_lines() {
        // Fail loudly before timing anything if a line does not parse.
        parse_human(proto, line).unwrap_or_else(|e| panic!("{line:?}: {}", e.render()));
        g.bench_with_input(BenchmarkId::new(proto.name(), label), &line, |b, &line| {
            b.iter(|| parse_human(proto, black_box(line)).unwrap())
        });
    }
    g.finish();
}

/// `FRAMES` small frames (about 10-byte payloads) back to back, with
/// varied ids, types and flags so nothing is constant-folded.
fn small_frames(proto: Proto) -> Vec<u8> {
    let hs = proto.table().header_size;
    let mut buf = Vec::with_capacity(FRAMES * (hs + 12));
    let payloads: [&[u8]; 4] = [
        b"heads\x00\x01\x02\x03\x04",
        b"0123456789",
        b"fooval1abc",
        b"\xa1DnameEheads",
    ];
    for i in 0..FRAMES {
        let p = payloads[i % payloads.len()];
        Frame::new(1 + (i % 3) as u8, (i % 4) as u8, p.to_vec())
            .with_ids((2 * i + 1) as u16, 1, u8::from(i == 0))
            .encode_into(proto, &mut buf)
            .unwrap();
    }
    buf
}

fn bench_slice_decode(c: &mut Criterion) {
    let mut g = c.benchmark_group("decode-slice");
    g.throughput(Throughput::Elements(FRAMES as u64));
    for proto in Proto::all() {
        let buf = small_frames(proto);
        let mut n = 0;
        for r in SliceDecoder::new(proto, LengthMode::Correct, &buf) {
            r.unwrap();
            n += 1;
        }
        assert_eq!(n, FRAMES);
        g.bench_with_input(BenchmarkId::from_parameter(proto.name()), &buf, |b, buf| {
            b.iter(|| {
                let mut acc = 0usize;
                for r in SliceDecoder::new(proto, LengthMode::Correct, black_box(buf)) {
                    let l = r.unwrap();
                    acc = acc
                        .wrapping_add(l.frame.payload.len())
                        .wrapping_add(l.frame.request_id as usize)
                        .wrapping_add(l.frame.type_id as usize);
                }
                black_box(acc)
            })
        });
    }
    g.finish();
}

fn bench_chunked_decode(c: &mut Criterion) {
    let mut g = c.benchmark_group("decode-chunked-4k");
    g.throughput(Throughput::Elements(FRAMES as u64));
    for proto in Proto::all() {
        let buf = small_frames(proto);
        g.bench_with_input(BenchmarkId::from_parameter(proto.name()), &buf, |b, buf| {
            b.iter(|| {
                let mut dec = FrameDecoder::new(proto, LengthMode::Correct);
                let mut n = 0usize;
                let mut acc = 0usize;
                for chunk in black_box(buf).chunks(CHUNK) {
                    dec.feed(chunk);
                    while let Some(l) = dec.next_frame() {
                        n += 1;
                        acc = acc.wrapping_add(l.frame.payload.len());
                    }
                }
                dec.finish().unwrap();
                assert_eq!(n, FRAMES);
                black_box(acc)
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_human, bench_slice_decode, bench_chunked_decode
}
criterion_main!(benches);

// The binary runs with mimalloc (src/main.rs); measure what users get.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
