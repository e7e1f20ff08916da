//! Server reactor throughput (frames/s), per protocol revision.
//!
//! A dispatched request stays active in a reactor (no response is ever
//! given here) and request ids are u16, so each iteration runs one batch of
//! `BATCH` frames through a fresh reactor, with request ids 1, 3, 5, ...
//! Frames are built (and checked to dispatch as expected) before timing.
//! Reactor creation is outside the timed routine (`iter_batched`); its
//! drop is inside but amortised over the batch.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use hgframe::human::parse_human;
use hgframe::reactor::{new_reactor, Action, ReactorOptions};
use hgframe::wire::frame::Frame;
use hgframe::Proto;

/// Frames per reactor (per iteration).
const BATCH: usize = 1000;

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(700))
        .measurement_time(Duration::from_secs(2))
}

fn human(proto: Proto, line: &str) -> Frame {
    parse_human(proto, line)
        .unwrap_or_else(|e| panic!("{line:?}: {}", e.render()))
        .frame
}

/// Stream flags for the `i`-th frame of the batch: only the first frame on
/// stream 1 begins it.
fn sflags(i: usize) -> &'static str {
    if i == 0 {
        "stream-begin"
    } else {
        "0"
    }
}

/// Request id of the `k`-th request of a batch: odd ids, all distinct.
fn rid(k: usize) -> u16 {
    u16::try_from(2 * k + 1).expect("batch fits u16 ids")
}

/// 0006: one `command-request new` frame per request.
fn p0006_single() -> Vec<Frame> {
    (0..BATCH)
        .map(|i| {
            human(
                Proto::P0006,
                &format!(
                    "{} 1 {} command-request new cbor:{{b'name': b'heads'}}",
                    rid(i),
                    sflags(i)
                ),
            )
        })
        .collect()
}

/// 0006: single-frame requests carrying arguments.
fn p0006_args() -> Vec<Frame> {
    (0..BATCH)
        .map(|i| {
            human(
                Proto::P0006,
                &format!(
                    "{} 1 {} command-request new cbor:{{b'name': b'known', b'args': {{b'nodes': [b'0123456789abcdef0123', b'fedcba9876543210fedc']}}}}",
                    rid(i),
                    sflags(i)
                ),
            )
        })
        .collect()
}

/// 0006: each request split in two frames, `new|more` then `continuation`.
fn p0006_multi() -> Vec<Frame> {
    let whole = human(
        Proto::P0006,
        "1 1 0 command-request new cbor:{b'name': b'getfiles', b'args': {b'path': b'dir/file.txt', b'fields': [b'parents', b'revision'], b'haveparents': True}}",
    )
    .payload;
    let (a, b) = whole.split_at(whole.len() / 2);
    let mut v = Vec::with_capacity(BATCH);
    for k in 0..BATCH / 2 {
        let s0 = if k == 0 { 1 } else { 0 };
        // command-request is type 1; new=1, continuation=2, more=4.
        v.push(Frame::new(1, 0x1 | 0x4, a.to_vec()).with_ids(rid(k), 1, s0));
        v.push(Frame::new(1, 0x2, b.to_vec()).with_ids(rid(k), 1, 0));
    }
    v
}

/// 0002: `command-name eos` frames, one per request.
fn p0002_name() -> Vec<Frame> {
    (0..BATCH)
        .map(|i| {
            human(
                Proto::P0002,
                &format!("{} 1 {} command-name eos heads", rid(i), sflags(i)),
            )
        })
        .collect()
}

/// 0001: no ids; `command-name eos` leaves the reactor idle each time.
fn p0001_name() -> Vec<Frame> {
    (0..BATCH)
        .map(|_| human(Proto::P0001, "command-name eos heads"))
        .collect()
}

fn check(proto: Proto, frames: &[Frame], want_runs: usize) {
    let mut r = new_reactor(proto, ReactorOptions::default());
    let mut runs = 0;
    for f in frames {
        match r.on_frame(f) {
            Ok(Action::RunCommand(_)) => runs += 1,
            Ok(Action::WantFrame { .. }) => {}
            other => panic!("{} {f:?}: unexpected {other:?}", proto.name()),
        }
    }
    assert_eq!(runs, want_runs, "{}: dispatched commands", proto.name());
}

fn bench_reactor(c: &mut Criterion) {
    let cases: Vec<(Proto, &str, Vec<Frame>, usize)> = vec![
        (Proto::P0006, "single", p0006_single(), BATCH),
        (Proto::P0006, "args", p0006_args(), BATCH),
        (Proto::P0006, "multi", p0006_multi(), BATCH / 2),
        (Proto::P0002, "command-name", p0002_name(), BATCH),
        (Proto::P0001, "command-name", p0001_name(), BATCH),
    ];
    let mut g = c.benchmark_group("reactor");
    g.throughput(Throughput::Elements(BATCH as u64));
    for (proto, label, frames, runs) in &cases {
        assert_eq!(frames.len(), BATCH);
        check(*proto, frames, *runs);
        let proto = *proto;
        g.bench_with_input(
            BenchmarkId::new(proto.name(), label),
            frames,
            |b, frames| {
                b.iter_batched(
                    || new_reactor(proto, ReactorOptions::default()),
                    |mut r| {
                        for f in frames {
                            // Drop each action here, as a server would after acting.
                            drop(black_box(r.on_frame(black_box(f))));
                        }
                        r
                    },
                    BatchSize::SmallInput,
                )
            },
        );
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_reactor
}
criterion_main!(benches);

// The binary runs with mimalloc (src/main.rs); measure what users get.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
