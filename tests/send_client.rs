//! `hgframe send` as a Mercurial client: the request it writes is the one
//! Mercurial 6.0's HTTP peer writes (byte for byte, checked against a
//! recorded one), and the answer is judged by the client reactor — what a
//! real client refuses is reported (exit 4), hostile answers stop at the
//! memory bound (exit 5), and bodies that are not frames are shown as
//! what their content type says. Servers here are small in-process fakes
//! that answer a canned response, plus a real `hg serve` 6.0 for hgweb's
//! HTML error page.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;

/// Run hgframe with `--proto 0006`: the fakes answer one request, so
/// `send` must not spend it detecting the revision.
fn run(args: &[&str]) -> (i32, String, String) {
    // HGFRAME_BIN runs the tests against another build (to see a test
    // fail on the build before its fix).
    let mut cmd = match std::env::var_os("HGFRAME_BIN") {
        Some(p) => Command::new(p),
        None => Command::cargo_bin("hgframe").unwrap(),
    };
    let out = cmd
        .env("NO_COLOR", "1")
        .args(["--proto", "0006"])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// What the fake server sends after the head: a fixed body, or frames
/// produced forever (chunked) until the client goes away.
enum Body {
    Fixed(Vec<u8>),
    Endless(Vec<u8>, Box<dyn Fn(u64) -> Vec<u8> + Send>),
}

/// Serve one request with `status`, `content_type` and `body`; returns
/// the URL and a receiver for the request body the client sent.
fn fake(status: &str, content_type: &str, body: Body) -> (String, mpsc::Receiver<Vec<u8>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    let head = format!("HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n");
    std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut buf = Vec::new();
        let mut tmp = [0u8; 4096];
        let (head_end, length) = loop {
            let n = s.read(&mut tmp).unwrap();
            buf.extend_from_slice(&tmp[..n]);
            if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let h = String::from_utf8_lossy(&buf[..p]).to_lowercase();
                let len = h
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map(|v| v.trim().parse::<usize>().unwrap())
                    .unwrap_or(0);
                break (p + 4, len);
            }
        };
        while buf.len() < head_end + length {
            let n = s.read(&mut tmp).unwrap();
            buf.extend_from_slice(&tmp[..n]);
        }
        let _ = tx.send(buf[head_end..head_end + length].to_vec());
        match body {
            Body::Fixed(b) => {
                let _ =
                    s.write_all(format!("{head}Content-Length: {}\r\n\r\n", b.len()).as_bytes());
                let _ = s.write_all(&b);
            }
            Body::Endless(first, more) => {
                let chunk = |s: &mut std::net::TcpStream, b: &[u8]| {
                    s.write_all(format!("{:x}\r\n", b.len()).as_bytes())
                        .and_then(|_| s.write_all(b))
                        .and_then(|_| s.write_all(b"\r\n"))
                };
                let _ = s.write_all(format!("{head}Transfer-Encoding: chunked\r\n\r\n").as_bytes());
                if chunk(&mut s, &first).is_err() {
                    return;
                }
                for i in 0.. {
                    if chunk(&mut s, &more(i)).is_err() {
                        return;
                    }
                }
            }
        }
    });
    (format!("http://127.0.0.1:{port}/"), rx)
}

const FRAMES: &str = "application/mercurial-exp-framing-0006";

fn frames(lines: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    for l in lines {
        out.extend(
            hgframe::human::parse_human(hgframe::Proto::P0006, l)
                .unwrap()
                .frame
                .encode(hgframe::Proto::P0006)
                .unwrap(),
        );
    }
    out
}

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/data/hg60/clone-sample/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[test]
fn the_request_is_what_mercurials_client_sends_and_the_answer_is_judged() {
    // 017 is `heads` as Mercurial 6.0's v2 peer sent it, and the answer.
    let (url, got) = fake("200 OK", FRAMES, Body::Fixed(sample("017.resp.bin")));
    let (code, out, err) = run(&[
        "send",
        &url,
        "heads",
        "--encodings",
        "zstd-8mb,zlib,identity",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(got.recv().unwrap(), sample("017.req.bin"), "byte for byte");
    assert!(out.contains("stream 2: content encoding zstd-8mb"), "{out}");
    assert!(
        out.contains("request 1: ok\n  [f564081688cfbb6f9698733ee79e6ad4e21eede3, 8d588a427b7e9387dc1019c275da98ac73fbf85c]"),
        "{out}"
    );
    // several commands: multirequest, as 013 (listkeys, lookup, lookup)
    let (url, got) = fake("200 OK", FRAMES, Body::Fixed(sample("013.resp.bin")));
    let (code, _, err) = run(&[
        "send",
        &url,
        "listkeys",
        "namespace=bookmarks",
        "+",
        "lookup",
        "key=tip",
        "+",
        "lookup",
        "key=8d588a427b7e9387dc1019c275da98ac73fbf85c",
        "--encodings",
        "zstd-8mb,zlib,identity",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(got.recv().unwrap(), sample("013.req.bin"));
}

/// `send -v`: the request line and headers sent, the status line (the
/// server's own reason phrase) and headers received, before the frames;
/// C1 control characters from the network escaped (httparse lets them
/// through in header values). With --json, two
/// events at the head of the stream.
#[test]
fn verbose_shows_the_http_exchange() {
    let evil = format!("{FRAMES}\r\nX-Note: a\u{9b}2Jb");
    let (url, got) = fake(
        "200 Script output follows",
        &evil,
        Body::Fixed(sample("017.resp.bin")),
    );
    let (code, out, err) = run(&["-v", "send", &url, "heads"]);
    assert_eq!(code, 0, "{err}");
    let port = url.trim_end_matches('/').rsplit(':').next().unwrap();
    let want_request = format!(
        "> POST /api/exp-http-v2-0003/ro/heads HTTP/1.1\n\
         > accept: {FRAMES}\n\
         > content-type: {FRAMES}\n\
         > user-agent: hgframe/{}\n\
         > host: 127.0.0.1:{port}\n\
         > content-length: {}\n\
         >\n",
        env!("CARGO_PKG_VERSION"),
        got.recv().unwrap().len()
    );
    assert!(out.starts_with(&want_request), "{out}");
    let rest = &out[want_request.len()..];
    assert!(
        rest.starts_with("< HTTP/1.1 200 Script output follows\n"),
        "{rest}"
    );
    assert!(
        rest.contains(&format!("< content-type: {FRAMES}\n")),
        "{rest}"
    );
    assert!(rest.contains("< x-note: a\\x9b2Jb\n"), "{rest}");
    assert!(
        !out.contains('\u{9b}'),
        "a control character reached the terminal"
    );
    let frames_at = rest.find("\n<\n@0 ").expect("the head, then the frames");
    assert!(rest[frames_at..].contains("request 1: ok"), "{rest}");
    // without -v: no exchange
    let (url, _) = fake("200 OK", FRAMES, Body::Fixed(sample("017.resp.bin")));
    let (_, out, _) = run(&["send", &url, "heads"]);
    assert!(out.starts_with("@0 "), "{out}");
    // --json: http_request and http_response events first
    let (url, _) = fake(
        "200 Script output follows",
        FRAMES,
        Body::Fixed(sample("017.resp.bin")),
    );
    let (code, out, _) = run(&["-v", "send", &url, "heads", "--json"]);
    assert_eq!(code, 0);
    let v = common::ndjson(&out);
    assert_eq!(v[0]["event"], "http_request");
    assert_eq!(v[0]["method"], "POST");
    assert_eq!(v[0]["target"], "/api/exp-http-v2-0003/ro/heads");
    assert_eq!(
        v[0]["headers"][1],
        serde_json::json!(["content-type", FRAMES])
    );
    assert_eq!(v[1]["event"], "http_response");
    assert_eq!(v[1]["status"], 200);
    assert_eq!(v[1]["reason"], "Script output follows");
    assert_eq!(v[2]["event"], "frame");
    assert_eq!(v.last().unwrap()["event"], "summary");
}

#[test]
fn frames_a_client_refuses_are_reported_with_exit_4() {
    let body = frames(&[
        "1 2 stream-begin text-output 0 cbor:[{b'msg': b'hello %s', b'args': [b'you']}]",
        "1 2 0 command-response eos cbor:{b'status': b'ok'}",
        "9 2 0 command-response eos ",
    ]);
    let (url, _) = fake("200 OK", FRAMES, Body::Fixed(body.clone()));
    let (code, out, _) = run(&["send", &url, "heads"]);
    assert_eq!(code, 4, "{out}");
    assert!(
        out.contains(
            "client: ✗ a Mercurial client raises here: ProgrammingError: unhandled frame type: 6"
        ),
        "{out}"
    );
    assert!(
        out.contains("text-output [{b'args': [b'you'], b'msg': b'hello %s'}]"),
        "{out}"
    );
    assert!(
        out.contains("client: ✗ refused: received frame for inactive request ID: 9"),
        "{out}"
    );
    assert!(
        out.contains("problem: a Mercurial client stops reading at frame 0: ProgrammingError: unhandled frame type: 6"),
        "{out}"
    );
    let (url, _) = fake("200 OK", FRAMES, Body::Fixed(body));
    let (code, out, _) = run(&["send", &url, "heads", "--json"]);
    assert_eq!(code, 4);
    // One NDJSON stream: frame events, request events, the summary last.
    let v = common::ndjson(&out);
    let summary = v.last().unwrap();
    assert_eq!(summary["event"], "summary");
    assert_eq!(summary["refused"], 2);
    assert_eq!(summary["failed"], true);
    let frames = common::events(&v, "frame");
    assert_eq!(
        frames[0]["client"]["raises"],
        "ProgrammingError: unhandled frame type: 6"
    );
    assert_eq!(frames[1]["client"]["action"], "responsedata");
    let requests = common::events(&v, "request");
    assert_eq!(requests[0]["command"], "heads");
    assert_eq!(requests[0]["status"], "ok");
    assert_eq!(requests[0]["text"][0][0]["msg"], "hello %s");
    assert_eq!(frames.len() + requests.len() + 1, v.len());
}

#[test]
fn hostile_answers_stop_at_the_bound_with_exit_5() {
    // a string declaring 2**63 bytes, then data forever
    let mut first = frames(&["1 2 stream-begin stream-settings eos cbor:b'identity'"]);
    let mut payload = b"\xa1FstatusBok\x5b".to_vec();
    payload.extend_from_slice(&(1u64 << 63).to_be_bytes());
    first.extend(
        hgframe::Frame::new(3, 1, payload)
            .with_ids(1, 2, 4)
            .encode(hgframe::Proto::P0006)
            .unwrap(),
    );
    let more = |_| {
        hgframe::Frame::new(3, 1, vec![b'x'; 32768])
            .with_ids(1, 2, 4)
            .encode(hgframe::Proto::P0006)
            .unwrap()
    };
    let (url, _) = fake("200 OK", FRAMES, Body::Endless(first, Box::new(more)));
    let t = Instant::now();
    let (code, _, err) = run(&["send", &url, "heads", "--timeout", "20"]);
    assert_eq!(code, 5, "{err}");
    assert!(
        err.contains("declares the size") && err.contains("--max-value, now 64 MiB"),
        "{err}"
    );
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    // endless valid objects: what send keeps for its report is bounded
    let first = frames(&[
        "1 2 stream-begin stream-settings eos cbor:b'identity'",
        "1 2 encoded command-response continuation cbor:{b'status': b'ok'}",
    ]);
    let more = |_| {
        let mut p = vec![0x59, 0x7f, 0xf8];
        p.extend(std::iter::repeat_n(b'y', 0x7ff8));
        hgframe::Frame::new(3, 1, p)
            .with_ids(1, 2, 4)
            .encode(hgframe::Proto::P0006)
            .unwrap()
    };
    let (url, _) = fake("200 OK", FRAMES, Body::Endless(first, Box::new(more)));
    let t = Instant::now();
    let (code, _, err) = run(&[
        "send",
        &url,
        "heads",
        "--max-value",
        "4M",
        "--timeout",
        "20",
    ]);
    assert_eq!(code, 5, "{err}");
    assert!(
        err.contains("kept for send's report") && err.contains("decode --side response"),
        "{err}"
    );
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
}

#[test]
fn bodies_that_are_not_frames_are_shown_as_what_they_are() {
    // text/plain with a terminal escape in it
    let (url, _) = fake(
        "200 Script output follows",
        "text/plain",
        Body::Fixed(b"received frame for inactive request\x1b[31m\n".to_vec()),
    );
    let (code, _, err) = run(&["send", &url, "heads"]);
    assert_eq!(code, 4);
    assert!(
        err.contains("the server answered with text/plain instead of frames: received frame for inactive request\\x1b[31m"),
        "{err}"
    );
    // CBOR
    let (url, _) = fake(
        "200 OK",
        "application/mercurial-cbor",
        Body::Fixed(b"\xa1Ck\xc3\xa9Av".to_vec()),
    );
    let (code, _, err) = run(&["send", &url, "heads"]);
    assert_eq!(code, 4);
    assert!(
        err.contains("instead of frames: {b'k\\xc3\\xa9': b'v'}"),
        "{err}"
    );
    // an HTTP error with an HTML page: summed up, not dumped
    let page = format!(
        "<html><head><title>x: error</title><style>p {{}}</style></head><body>{}<p>An error occurred while processing your request:</p><p>no such method: api</p></body></html>",
        "<div>nav</div>".repeat(500)
    );
    let (url, _) = fake(
        "400 no such method: api",
        "text/html; charset=UTF-8",
        Body::Fixed(page.clone().into_bytes()),
    );
    let (code, _, err) = run(&["send", &url, "heads"]);
    assert_eq!(code, 4);
    // the title, then the message (ahead of the navigation it follows)
    assert!(
        err.contains("| (HTML) x: error\n  | An error occurred while processing your request:\n  | no such method: api\n"),
        "{err}"
    );
    assert!(
        err.contains(&format!("({} bytes in all, HTML)", page.len())),
        "{err}"
    );
    assert!(
        err.contains("without --config experimental.web.apiserver=true"),
        "{err}"
    );
    assert!(!err.contains("<div>"), "{err}");
}

/// The real thing: hgweb's error page when the API server is off.
#[test]
fn a_real_hgweb_error_page_is_summed_up() {
    let server = common::HgServer::start(&[]);
    let (code, _, err) = run(&["send", &format!("{}/", server.url()), "heads"]);
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("HTTP 400"), "{err}");
    assert!(
        err.contains(": error\n  | An error occurred while processing your request:\n  | no such method: api\n"),
        "{err}"
    );
    assert!(err.lines().count() < 14, "{err}");
}

/// `payload` as command-response frames of request 1 on stream 2 (encoded
/// when the stream says so), in pieces a Mercurial client reads whole: the
/// last one carries eos.
fn response_frames(payload: &[u8], stream_flags: u8) -> Vec<u8> {
    let mut out = Vec::new();
    let pieces: Vec<&[u8]> = payload.chunks(32768).collect();
    for (i, p) in pieces.iter().enumerate() {
        let flags = if i + 1 == pieces.len() { 2 } else { 1 };
        out.extend(
            hgframe::Frame::new(3, flags, p.to_vec())
                .with_ids(1, 2, stream_flags)
                .encode(hgframe::Proto::P0006)
                .unwrap(),
        );
    }
    out
}

/// Issue 16, row 3: a server answering with a compression bomb — 100 MiB
/// of zero bytes as a 3 KB zstd-8mb stream, or a 100 KB zlib stream —
/// made `send` abort in the CBOR decoder (no output limit on the stream
/// decoders). Now what it decodes is bounded by --max-value: exit 5 at
/// once, saying where, how much, and the option that raises it.
#[test]
fn compression_bombs_stop_at_the_bound_with_exit_5() {
    let zeros = vec![0u8; 100 << 20];
    let zstd_bomb = zstd::stream::encode_all(&zeros[..], 3).unwrap();
    let zlib_bomb = {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(&zeros).unwrap();
        e.finish().unwrap()
    };
    drop(zeros);
    assert!(zstd_bomb.len() < 10_000, "{}", zstd_bomb.len());
    assert!(zlib_bomb.len() < 200_000, "{}", zlib_bomb.len());
    for (encoding, bomb) in [("zstd-8mb", &zstd_bomb), ("zlib", &zlib_bomb)] {
        let mut body = frames(&[&format!(
            "1 2 stream-begin stream-settings eos cbor:b'{encoding}'"
        )]);
        body.extend(response_frames(bomb, 4));
        let (url, _) = fake("200 OK", FRAMES, Body::Fixed(body));
        let t = Instant::now();
        let (code, _, err) = run(&[
            "send",
            &url,
            "heads",
            "--encodings",
            "zstd-8mb,zlib,identity",
        ]);
        assert_eq!(code, 5, "{encoding}: {err}");
        // zstd's one frame decodes past the bound by itself; zlib's 32 KB
        // frames each decode to less, their sum past what send keeps.
        let one_frame = err.contains(&format!("the {encoding} payload of a frame of request 1"))
            && err.contains("decodes to more than 67108864 bytes");
        let kept =
            err.contains("the response kept for send's report (objects): more than 67108864 bytes");
        assert!(
            (one_frame || kept) && err.contains("--max-value, now 64 MiB"),
            "{encoding}: {err}"
        );
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "{encoding}: {:?}",
            t.elapsed()
        );
    }
}

/// Issue 16, row 6: a 40,000-key map as a server's answer took `send`
/// 10–11 s (maps were searched linearly on insert). Now linear: the map
/// is decoded and shown in well under the old time.
#[test]
fn a_large_map_in_an_answer_decodes_in_linear_time() {
    let mut map = vec![0xb9, 0x9c, 0x40]; // a map of 40,000 entries
    for k in 0u32..40_000 {
        map.push(0x19); // an unsigned int in two bytes
        map.extend_from_slice(&(k as u16).to_be_bytes());
        map.push(0x00);
    }
    let mut body = frames(&[
        "1 2 stream-begin stream-settings eos cbor:b'identity'",
        "1 2 encoded command-response continuation cbor:{b'status': b'ok'}",
    ]);
    body.extend(response_frames(&map, 4));
    let (url, _) = fake("200 OK", FRAMES, Body::Fixed(body));
    let t = Instant::now();
    let (code, out, err) = run(&["send", &url, "heads", "--timeout", "30"]);
    let took = t.elapsed();
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("39999: 0"), "{}", &out[..out.len().min(500)]);
    assert!(took < Duration::from_secs(3), "{took:?}");
}
