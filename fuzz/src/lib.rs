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
    ("transcript", targets::transcript),
    ("serve_http", targets::serve_http),
];

/// Look a target up by name.
pub fn target(name: &str) -> Option<Target> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

/// The seeds of one target: [`seeds`] for the byte-level targets,
/// [`transcript_seeds`] and [`http_seeds`] for the other two.
pub fn seeds_for(name: &str) -> Vec<Vec<u8>> {
    match name {
        "transcript" => transcript_seeds(),
        "serve_http" => http_seeds(),
        _ => seeds(),
    }
}

/// Small valid and nearly valid inputs for the byte-level targets (decode,
/// human, literal, cbor, reflect): human lines of all revisions, their wire
/// bytes, CBOR values and Python literals. Used as unit-test inputs and by
/// `examples/seeds.rs` to start a corpus.
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

/// Replay transcripts: every `examples/**/*.hgframe` of the repository
/// (read at run time, when present) and a few written here for what the
/// examples do not show (`bin`, `respond @FILE`, `defer`, CRLF, every
/// assertion, a directive between requests, `target local`).
pub fn transcript_seeds() -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = [
        "proto 0006\n> cmd heads\neof\n",
        "proto 0006\ntarget local\nrespond heads @resp\n> cmd heads\nexpect frame type=command-response payload=resp\\x00\\xff\neof\n",
        "proto 0006\nrespond 1 @../canary\n> cmd heads\neof\n",
        "proto 0002\nbin 0c00000100\n< x\neof\n< status 500\nexpect status 500\n",
        "proto 0001\r\n> command-name eos heads\r\n< x (glob)\r\neof\r\n< * (glob)\r\n",
        "# c\nproto 0006\n> 1 1 stream-begin command-request new cbor:{b'name': b'heads'}\n# between\n< [\"runcommand\", *] (glob)\nexpect action runcommand\nexpect error \"a\\\"b\"\nexpect frame type=error-response flags=0 stream-flags=stream-begin request=1 stream=2\neof\n< .* (re)\nrespond 1 cbor:[1]\ndefer on\n> cmd known nodes=hexlist:00ff\neof\n",
        "proto 0006\n> 1 1 stream-begin command-request new|more cbor:{b'name': b'x'}\n> 1 1 0 command-request continuation \\xa1AbA3\neof\n",
        "> 1 1 stream-begin stream-settings eos cbor:b'zstd-8mb'\n> 1 1 encoded command-request new \\x00\neof\n",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    fn walk(p: &std::path::Path, out: &mut Vec<Vec<u8>>) {
        let Ok(rd) = std::fs::read_dir(p) else { return };
        let mut entries: Vec<_> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        entries.sort();
        for e in entries {
            if e.is_dir() {
                walk(&e, out);
            } else if e.extension().is_some_and(|x| x == "hgframe") {
                if let Ok(b) = std::fs::read(&e) {
                    out.push(b);
                }
            }
        }
    }
    walk(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples"),
        &mut out,
    );
    out
}

/// Raw HTTP requests for `serve_http` (revision 0006): debugreflect and
/// command POSTs with frame bodies (whole and chunked), GETs, the
/// capabilities handshake, pipelined requests, errors and garbage.
pub fn http_seeds() -> Vec<Vec<u8>> {
    use hgframe::{human, Proto};
    let frames = |lines: &[&str]| -> Vec<u8> {
        let mut b = Vec::new();
        for l in lines {
            let f = human::parse_human(Proto::P0006, l)
                .unwrap_or_else(|e| panic!("seed {l:?}: {}", e.render()))
                .frame;
            f.encode_into(Proto::P0006, &mut b)
                .expect("seed frame encodes");
        }
        b
    };
    let heads = frames(&["1 1 stream-begin command-request new cbor:{b'name': b'heads'}"]);
    let known = frames(&[
        "1 1 stream-begin command-request new cbor:{b'name': b'known', b'args': {b'nodes': [b'\\x00\\xff']}}",
    ]);
    let two = frames(&[
        "1 1 stream-begin sender-protocol-settings eos cbor:{b'contentencodings': [b'identity']}",
        "1 1 0 stream-settings eos cbor:b'identity'",
        "1 1 0 command-request new|more cbor:{b'name': b'heads', b'args': {b'a': [1, -2, None, True]}}",
        "1 1 0 command-request continuation \\xa1AbA3",
        "3 1 0 command-request new|have-data cbor:{b'name': b'heads'}",
        "3 1 0 command-data eos data",
    ]);
    const MT: &str = "application/mercurial-exp-framing-0006";
    let post = |path: &str, extra: &str, body: &[u8]| -> Vec<u8> {
        let mut r = format!(
            "POST {path} HTTP/1.1\r\nHost: fuzz\r\n{extra}Content-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        r.extend_from_slice(body);
        r
    };
    let chunked = |path: &str, extra: &str, body: &[u8]| -> Vec<u8> {
        let mut r = format!(
            "POST {path} HTTP/1.1\r\nHost: fuzz\r\n{extra}Transfer-Encoding: chunked\r\n\r\n"
        )
        .into_bytes();
        for c in body.chunks(7) {
            r.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
            r.extend_from_slice(c);
            r.extend_from_slice(b"\r\n");
        }
        r.extend_from_slice(b"0\r\n\r\n");
        r
    };
    let cmd_headers = format!("Accept: {MT}\r\nContent-Type: {MT}\r\n");
    let reflect = "/api/exp-http-v2-0003/ro/debugreflect";
    let mut out = vec![
        post(reflect, "", &heads),
        post(reflect, "", &two),
        post(reflect, "", &heads[..heads.len() - 3]),
        chunked(reflect, "", &two),
        post("/api/exp-http-v2-0003/ro/heads", &cmd_headers, &heads),
        post("/api/exp-http-v2-0003/ro/known", &cmd_headers, &known),
        post("/api/exp-http-v2-0003/rw/heads", &cmd_headers, &two),
        chunked("/api/exp-http-v2-0003/ro/heads", &cmd_headers, &heads),
        post("/api/exp-http-v2-0003/ro/multirequest", &cmd_headers, &two),
        post("/api/exp-http-v2-0003/ro/heads", "Accept: text/plain\r\n", &heads),
        post("/api/exp-http-v2-0003/ro/heads", &format!("Accept: {MT}\r\n"), &heads),
        post(reflect, "Expect: 100-continue\r\n", &heads),
        post(reflect, "Connection: close\r\n", &heads),
        b"GET /api/ HTTP/1.1\r\nHost: fuzz\r\n\r\n".to_vec(),
        b"GET /api/exp-http-v2-0003/ HTTP/1.0\r\n\r\n".to_vec(),
        b"GET /?cmd=capabilities HTTP/1.1\r\nHost: fuzz\r\nX-HgUpgrade-1: foo bar\r\nX-HgProto-1: cbor\r\n\r\n".to_vec(),
        b"HEAD /api/nope HTTP/1.1\r\nHost: fuzz\r\n\r\n".to_vec(),
        b"DELETE /api/exp-http-v2-0003/ro/heads HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc".to_vec(),
        b"POST /api/exp-http-v2-0003/ro/debugreflect HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\nabc".to_vec(),
        b"POST /api/exp-http-v2-0003/ro/debugreflect HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".to_vec(),
        b"GET /api/%ff%2e%2e/ro/x;y?cmd=a&cmd=capabilities HTTP/1.1\r\n\r\n".to_vec(),
        b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03".to_vec(),
        Vec::new(),
    ];
    let mut pipelined = post(reflect, "", &heads);
    pipelined.extend(post("/api/exp-http-v2-0003/ro/heads", &cmd_headers, &heads));
    pipelined.extend_from_slice(b"GET /api/ HTTP/1.1\r\n\r\n");
    out.push(pipelined);
    out
}

#[cfg(test)]
mod tests {
    fn run(name: &str) {
        let body = super::target(name).unwrap();
        for s in super::seeds_for(name) {
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

    #[test]
    fn transcript_seeds() {
        assert!(
            super::transcript_seeds().len() > 20,
            "the examples were found"
        );
        run("transcript");
    }

    #[test]
    fn serve_http_seeds() {
        run("serve_http");
    }
}
