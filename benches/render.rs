//! Rendering throughput: what `decode` writes for each frame, in each
//! format (the default blocks, `--format human`, `--json`), and human
//! strings with `cbor:` arguments parsed and encoded (what `encode` does
//! per line). Output bytes per second for the renderers, lines per second
//! for the parser; issue 15's targets are ≥ 500 MB/s for the text formats,
//! ≥ 1 GB/s for JSON and ≥ 2 M lines/s for `cbor:` lines. The
//! `payload-cbor` group compares rendering a payload's CBOR straight from
//! its bytes (`python::cbor_text`) with decoding it into values first.
//!
//! `cargo bench --bench render -- --noplot`. The inputs are those of
//! `scripts/bench-e2e.sh`'s decode row (requests and responses with CBOR
//! payloads and binary node ids), built in memory.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use hgframe::human::{parse_human, to_human_into};
use hgframe::render::frame::{frame_block_into, frame_warnings, write_frame_json};
use hgframe::render::ink::Ink;
use hgframe::wire::frame::{Frame, FrameReader, LengthMode, Located};
use hgframe::Proto;

const FRAMES: usize = 20_000;

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(700))
        .measurement_time(Duration::from_secs(2))
}

fn node(i: usize) -> String {
    // 20 bytes, mostly not printable, as escapes.
    (0..20)
        .map(|k| format!("\\x{:02x}", (i * 37 + k * 101) % 256))
        .collect()
}

/// The decode row's frames (bench-e2e.py's gen_decode_lines).
fn lines(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let (g, k) = (i / 4, i % 4);
            let rid = (2 * g + 1) % 65536;
            match k {
                0 => format!(
                    "{rid} 1 {} command-request new cbor:{{b'name': b'heads'}}",
                    if i == 0 { "stream-begin" } else { "0" }
                ),
                1 => format!(
                    "{rid} 1 0 command-request new cbor:{{b'name': b'known', b'args': {{b'nodes': [b'{}']}}}}",
                    node(g)
                ),
                2 => format!(
                    "{rid} 2 {} command-response continuation cbor:{{b'status': b'ok'}}",
                    if i == 2 { "stream-begin" } else { "encoded" }
                ),
                _ => format!(
                    "{rid} 2 encoded command-response eos cbor:[b'{}']",
                    node(g + 1)
                ),
            }
        })
        .collect()
}

fn frames() -> Vec<Located<Frame>> {
    let p = Proto::P0006;
    let mut wire = Vec::new();
    for l in lines(FRAMES) {
        parse_human(p, &l)
            .expect("bench line parses")
            .frame
            .encode_into(p, &mut wire)
            .expect("bench frame encodes");
    }
    FrameReader::new(p, LengthMode::Correct, &wire[..])
        .map(|r| r.expect("bench frames decode"))
        .collect()
}

fn render(c: &mut Criterion) {
    let p = Proto::P0006;
    let frames = frames();
    type Render = fn(&mut Vec<u8>, usize, &Located<Frame>);
    let formats: [(&str, Render); 3] = [
        ("blocks", |out, i, l| {
            frame_block_into(out, Ink::OFF, Proto::P0006, i, l, false, true)
        }),
        ("human", |out, _, l| {
            to_human_into(out, Proto::P0006, &l.frame);
            out.push(b'\n');
        }),
        ("json", |out, _, l| {
            write_frame_json(out, Proto::P0006, l.offset, &l.frame, &frame_warnings(l));
            out.push(b'\n');
        }),
    ];
    let mut g = c.benchmark_group("decode-render");
    for (name, f) in formats {
        // Output size, for bytes/s.
        let mut out = Vec::new();
        for (i, l) in frames.iter().enumerate() {
            f(&mut out, i, l);
        }
        g.throughput(Throughput::Bytes(out.len() as u64));
        g.bench_function(name, |b| {
            let mut out = Vec::with_capacity(128 << 10);
            b.iter(|| {
                for (i, l) in frames.iter().enumerate() {
                    f(&mut out, i, l);
                    if out.len() >= 64 << 10 {
                        black_box(&out);
                        out.clear();
                    }
                }
                black_box(&out);
                out.clear();
            })
        });
    }
    g.finish();
    let _ = p;
}

/// A payload's CBOR rendered straight from its bytes (python::cbor_text, what
/// the renderers use for common shapes) against decoding it into values
/// first (the fallback for the rest), both formats.
fn payload_cbor(c: &mut Criterion) {
    use hgframe::python::cbor_text::{json_into, literal_into};
    use hgframe::render::frame::{payload_cbor, PAYLOAD_CBOR_LIMIT};
    use hgframe::render::value::{value_text_into, write_value_json};
    let p = Proto::P0006;
    let frames = frames();
    let payloads: Vec<&[u8]> = frames.iter().map(|l| &l.frame.payload[..]).collect();
    let bytes: u64 = payloads.iter().map(|b| b.len() as u64).sum();
    let mut g = c.benchmark_group("payload-cbor");
    g.throughput(Throughput::Bytes(bytes));
    type Way = fn(&mut Vec<u8>, &[u8]);
    let ways: [(&str, Way); 4] = [
        ("text/direct", |out, b| {
            literal_into(out, b, PAYLOAD_CBOR_LIMIT);
        }),
        ("text/values", |out, b| {
            for v in payload_cbor(Proto::P0006, b).unwrap_or_default() {
                value_text_into(out, &v);
            }
        }),
        ("json/direct", |out, b| {
            json_into(out, b, PAYLOAD_CBOR_LIMIT);
        }),
        ("json/values", |out, b| {
            for v in payload_cbor(Proto::P0006, b).unwrap_or_default() {
                let _ = write_value_json(out, &v);
            }
        }),
    ];
    for (name, f) in ways {
        g.bench_function(name, |bn| {
            let mut out = Vec::with_capacity(128 << 10);
            bn.iter(|| {
                for b in &payloads {
                    f(&mut out, black_box(b));
                    if out.len() >= 64 << 10 {
                        black_box(&out);
                        out.clear();
                    }
                }
                out.clear();
            })
        });
    }
    g.finish();
    let _ = p;
}

fn human_cbor(c: &mut Criterion) {
    let p = Proto::P0006;
    // bench-e2e.py's gen_cbor_lines: known with one or two nodes.
    let lines: Vec<String> = (0..FRAMES)
        .map(|i| {
            let ns: Vec<String> = (0..1 + i % 2)
                .map(|j| format!("b'{}'", node(i + j)))
                .collect();
            format!(
                "{} 1 {} command-request new cbor:{{b'name': b'known', b'args': {{b'nodes': [{}]}}}}",
                (2 * i + 1) % 65536,
                if i % 2 == 0 { "stream-begin" } else { "0" },
                ns.join(", ")
            )
        })
        .collect();
    let mut g = c.benchmark_group("human-cbor");
    g.throughput(Throughput::Elements(lines.len() as u64));
    g.bench_function("parse+encode", |b| {
        let mut wire = Vec::new();
        b.iter(|| {
            for l in &lines {
                wire.clear();
                let f = parse_human(p, black_box(l)).expect("parses").frame;
                f.encode_into(p, &mut wire).expect("encodes");
                black_box(&wire);
            }
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = render, payload_cbor, human_cbor
}
criterion_main!(benches);
