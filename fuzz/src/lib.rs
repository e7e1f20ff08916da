//! Bodies of hgframe's fuzz targets, as plain functions.
//!
//! Each `fuzz_targets/NAME.rs` is a one-line libFuzzer wrapper around
//! [`targets::NAME`]; keeping the bodies here lets them run without
//! libFuzzer or a nightly toolchain: `examples/replay.rs` feeds them files,
//! directories (a corpus, crash artifacts) or generated inputs on stable,
//! and the unit tests below run every body over a small seed set.

pub mod targets;

/// A target body.
pub type Target = fn(&[u8]);

/// Every target by name.
pub const TARGETS: &[(&str, Target)] = &[
    ("decode", targets::decode),
    ("human", targets::human),
    ("literal", targets::literal),
    ("cbor", targets::cbor),
    ("reflect", targets::reflect),
    ("response", targets::response),
];

/// Look a target up by name.
pub fn target(name: &str) -> Option<Target> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

/// Small valid and nearly valid inputs for every target: human lines of all
/// revisions, their wire bytes, CBOR values and Python literals. Used as
/// unit-test inputs and by `examples/seeds.rs` to start a corpus.
pub fn seeds() -> Vec<Vec<u8>> {
    use hgframe::{human, Proto};
    let lines: &[(Proto, &[&str])] = &[
        (
            Proto::P0001,
            &[
                "command-name eos heads",
                "command-name have-args command1",
                r"command-argument 0 \x03\x00\x04\x00fooval1",
                r"command-argument eoa \x04\x00\x03\x00bar1val",
                "command-data eos some data",
                "bytes-response eos ok",
                "error-response application oops",
            ],
        ),
        (
            Proto::P0002,
            &[
                "1 1 stream-begin command-name eos heads",
                "1 1 stream-begin command-name have-args command1",
                r"1 1 0 command-argument eoa \x03\x00\x04\x00fooval1",
                "3 1 0 command-name have-data x",
                "3 1 0 command-data eos data",
                "1 2 stream-begin|stream-end text-output 0 hi",
            ],
        ),
        (
            Proto::P0006,
            &[
                "1 1 stream-begin command-request new cbor:{b'name': b'heads'}",
                "1 1 stream-begin command-request new|more cbor:{b'name': b'x', b'args': {b'a': [1, -2, None, True]}}",
                r"1 1 0 command-request continuation \xa1AbA3",
                "3 1 stream-begin command-request new|have-data cbor:{b'name': b'x'}",
                "3 1 0 command-data eos data",
                "1 1 stream-begin sender-protocol-settings eos cbor:{b'contentencodings': [b'identity']}",
                "1 1 stream-begin stream-settings eos cbor:b'identity'",
                "1 1 encoded command-response eos cbor:{b'status': b'ok'}",
                "5 3 stream-begin|encoded|8 4 7 \\x00\\\\",
                "1 2 stream-begin stream-settings eos cbor:b'zlib'",
                "1 2 encoded command-response continuation x\\x9c",
                "1 2 0 command-response eos cbor:{b'status': b'ok'}",
                "3 2 0 error-response 0 cbor:{b'type': b'server', b'message': [{b'msg': b'x'}]}",
                "3 2 stream-end text-output 0 cbor:[{b'msg': b'hi'}]",
            ],
        ),
    ];
    let mut out = Vec::new();
    for (proto, ls) in lines {
        let mut body = Vec::new();
        for l in *ls {
            out.push(l.as_bytes().to_vec());
            let f = human::parse_human(*proto, l)
                .unwrap_or_else(|e| panic!("seed {l:?}: {}", e.render()))
                .frame;
            let bytes = f.encode(*proto).expect("seed frame encodes");
            out.push(bytes.clone());
            body.extend(bytes);
            if let Some(lit) = l.split("cbor:").nth(1) {
                out.push(lit.as_bytes().to_vec());
                out.push(f.payload.clone());
            }
        }
        out.push(body);
    }
    for lit in [
        "b'abc'",
        "[1, (2, 3), {4, 5}, set(), {b'k': b'v'}]",
        "-18446744073709551616",
        "0x_ff, 0o17, 0b1_0",
        "b'a' b\"b\" rb'\\x' b'''c'''",
        "{1: True, True: 2}",
    ] {
        out.push(lit.as_bytes().to_vec());
    }
    out.push(Vec::new());
    out
}

#[cfg(test)]
mod tests {
    fn run(name: &str) {
        let body = super::target(name).unwrap();
        for s in super::seeds() {
            if std::panic::catch_unwind(|| body(&s)).is_err() {
                panic!(
                    "target {name} panicked on {:?}",
                    hgframe::python::escape::escape_bytes(&s)
                );
            }
        }
    }

    #[test]
    fn decode_seeds() {
        run("decode");
    }

    #[test]
    fn human_seeds() {
        run("human");
    }

    #[test]
    fn literal_seeds() {
        run("literal");
    }

    #[test]
    fn cbor_seeds() {
        run("cbor");
    }

    #[test]
    fn reflect_seeds() {
        run("reflect");
    }

    #[test]
    fn response_seeds() {
        run("response");
    }
}
