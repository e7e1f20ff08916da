//! `hgframe decode` on response bodies and other bodies: the side decided
//! from the frames, streams decoded and objects reassembled per request,
//! what Mercurial's client reactor refuses (exit 4), the memory bound
//! (exit 5), `--request`, and bodies that are not frames
//! (`--content-type`). Inputs are the recorded Mercurial 6.0 clone
//! (`tests/data/hg60/clone-sample/`) and frames built here.

use std::io::Write;

use serde_json::Value as J;

use crate::support::{path_str, run, tempfile_with, text};

fn sample(name: &str) -> String {
    format!(
        "{}/tests/data/hg60/clone-sample/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn frames(lines: &[&str]) -> Vec<u8> {
    let mut args = vec!["encode", "--format", "raw"];
    args.extend(lines);
    let out = crate::support::hgframe().args(&args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn a_response_is_recognised_and_decoded_per_request() {
    let (code, out, err) = run(&["-v", "decode", &sample("002.resp.bin")], b"");
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        err,
        "hgframe: decoding as protocol 0006 (the default; use --proto for 0001, 0002 or 0005, or --hg VERSION)\n\
         hgframe: decoding the response side (the first frame is stream-settings, which only servers send)\n"
    );
    let out = text(&out);
    for want in [
        "client: noop (stream decodes zstd-8mb)",
        "client: responsedata for request 1, eos, 54 bytes decoded",
        "request 1 status: {b'status': b'ok'}",
        "request 1 object 1: [f564081688cfbb6f9698733ee79e6ad4e21eede3, 8d588a427b7e9387dc1019c275da98ac73fbf85c]",
        "request 3 object 1: b''",
        "summary: 3 frames, stream 2 zstd-8mb",
        "request 1: ok, 1 object, 54 bytes of data, complete",
        "a Mercurial client accepts every frame",
        "requests 1, 3, 5, … assumed sent",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
    // The encoded payload is not shown as CBOR: its objects are.
    assert!(!out.contains("  cbor {b'status'"), "{out}");
    // -vv also names the request side when that is chosen.
    let (_, _, err) = run(&["-vv", "decode", &sample("002.req.bin")], b"");
    assert!(
        err.contains("decoding the request side (the first frame is sender-protocol-settings, which only clients send)"),
        "{err}"
    );
}

#[test]
fn json_lines_carry_frames_objects_and_a_summary() {
    let (code, out, _) = run(&["decode", "--json", &sample("002.resp.bin")], b"");
    assert_eq!(code, 0);
    let lines: Vec<J> = text(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["event"], "frame");
    assert_eq!(lines[0]["client"]["action"], "noop");
    assert_eq!(lines[0]["client"]["encoding"], "zstd-8mb");
    assert_eq!(lines[0]["type_name"], "stream-settings");
    assert_eq!(lines[1]["client"]["action"], "responsedata");
    assert_eq!(lines[1]["client"]["decoded_length"], 54);
    assert_eq!(
        lines[2],
        serde_json::json!({"event": "object", "request_id": 1, "value": {"status": "ok"}})
    );
    // values in decode --json's cbor form: non-UTF-8 bytes as {"hex": ...}
    assert_eq!(
        lines[3]["value"][0],
        serde_json::json!({"hex": "f564081688cfbb6f9698733ee79e6ad4e21eede3"})
    );
    let last = lines.last().unwrap();
    assert_eq!(last["event"], "summary");
    assert_eq!(last["requests"][1]["request_id"], 3);
    assert_eq!(last["requests"][1]["status"], "ok");
    assert_eq!(last["refused"], 0);
}

#[test]
fn the_request_body_names_the_commands() {
    let (code, out, err) = run(
        &[
            "-v",
            "decode",
            &sample("013.resp.bin"),
            "--request",
            &sample("013.req.bin"),
        ],
        b"",
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("the request asks: 1 listkeys, 3 lookup, 5 lookup"),
        "{err}"
    );
    let out = text(&out);
    assert!(out.contains("request 1 (listkeys): ok"), "{out}");
    assert!(out.contains("request 5 (lookup): ok"), "{out}");
    assert!(!out.contains("assumed"), "{out}");
    // A body no Mercurial client would send is said to be one.
    let mut odd = std::fs::read(sample("013.req.bin")).unwrap();
    odd.push(0);
    let f = tempfile_with(&odd);
    let (code, _, err) = run(
        &[
            "decode",
            &sample("013.resp.bin"),
            "--request",
            path_str(f.path()),
        ],
        b"",
    );
    assert_eq!(code, 0);
    assert!(
        err.contains("warning:") && err.contains("not the body a Mercurial client sends"),
        "{err}"
    );
}

#[test]
fn what_a_client_refuses_exits_4_and_says_why() {
    let body = frames(&[
        "1 2 stream-begin text-output 0 cbor:[{b'msg': b'hello'}]",
        "1 2 0 command-response eos cbor:{b'status': b'ok'}",
        "7 2 0 command-response eos ",
    ]);
    let (code, out, _) = run(&["decode", "-"], &body);
    assert_eq!(code, 4);
    let out = text(&out);
    assert!(
        out.contains("a Mercurial client raises here: ProgrammingError: unhandled frame type: 6"),
        "{out}"
    );
    assert!(
        out.contains("cbor [{b'msg': b'hello'}]"),
        "the text is still shown: {out}"
    );
    assert!(
        out.contains("refuses 1 frame") || out.contains("refuses 2 frames"),
        "{out}"
    );
    assert!(out.contains("stops reading at frame 0"), "{out}");
    // a frame for a request that already ended
    let body = frames(&[
        "1 2 stream-begin command-response eos cbor:{b'status': b'ok'}",
        "1 2 0 command-response eos ",
    ]);
    let (code, out, _) = run(&["decode", "-"], &body);
    assert_eq!(code, 4);
    assert!(
        text(&out).contains("refused: received frame for inactive request ID: 1"),
        "{}",
        text(&out)
    );
    // --side response on a request body: every frame refused
    let (code, out, _) = run(
        &["decode", "--side", "response", &sample("017.req.bin")],
        b"",
    );
    assert_eq!(code, 4);
    assert!(text(&out).contains("received frame with odd numbered stream ID: 1"));
    // --request with a request body: said to be beside the point
    let (code, _, err) = run(
        &[
            "decode",
            &sample("017.req.bin"),
            "--request",
            &sample("017.req.bin"),
        ],
        b"",
    );
    assert_eq!(code, 0);
    assert!(
        err.contains("warning: --request is for decoding a response"),
        "{err}"
    );
    // and --side request lists a response's frames as before
    let (code, out, _) = run(
        &["decode", "--side", "request", &sample("017.resp.bin")],
        b"",
    );
    assert_eq!(code, 0);
    assert!(!text(&out).contains("client:"));
}

/// A 4.6/4.7 (0005) response: the peer raises on every error, and says so
/// under the frame (blocks, human comments, JSON).
#[test]
fn a_4_7_peer_raises_on_errors_and_says_so() {
    let case = |ext: &str| {
        format!(
            "{}/tests/data/hg47/client-cases/007.{ext}",
            env!("CARGO_MANIFEST_DIR")
        )
    };
    let (resp, req) = (case("resp.bin"), case("req.bin"));
    let (code, out, err) = run(&["--hg", "4.7", "decode", &resp, "--request", &req], b"");
    assert_eq!(code, 4, "{err}");
    let out = text(&out);
    assert_eq!(
        out.matches("peer: ✗ the Mercurial client's peer raises here: ProgrammingError: unhandled action from clientreactor: error").count(),
        2,
        "{out}"
    );
    assert!(
        out.contains("stops reading at frame 0: ProgrammingError"),
        "{out}"
    );
    let (_, out, _) = run(
        &[
            "--hg",
            "4.7",
            "decode",
            "--format",
            "human",
            &resp,
            "--request",
            &req,
        ],
        b"",
    );
    assert!(
        text(&out).contains("# peer: ✗ the Mercurial client's peer raises here"),
        "{}",
        text(&out)
    );
    let (_, out, _) = run(
        &["--hg", "4.7", "decode", "--json", &resp, "--request", &req],
        b"",
    );
    let events: Vec<J> = text(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let raising: Vec<&J> = events
        .iter()
        .filter(|e| e["event"] == "frame" && !e["peer_raises"].is_null())
        .collect();
    assert_eq!(raising.len(), 2, "{events:?}");
    assert_eq!(
        raising[0]["peer_raises"]["raises"],
        "ProgrammingError: unhandled action from clientreactor: error"
    );
    // 0006 has no such peer: no key
    let (_, out, _) = run(&["decode", "--json", &sample("002.resp.bin")], b"");
    assert!(!text(&out).contains("peer_raises"));
}

#[test]
fn human_lines_round_trip_with_comments() {
    let (code, out, _) = run(
        &["decode", "--format", "human", &sample("017.resp.bin")],
        b"",
    );
    assert_eq!(code, 0);
    let out = text(&out);
    assert!(
        out.contains("# request 1 status: {b'status': b'ok'}"),
        "{out}"
    );
    // encode skips the # lines and gives the body back
    let back = crate::support::hgframe()
        .args(["encode", "--format", "raw"])
        .write_stdin(out.as_bytes().to_vec())
        .output()
        .unwrap();
    assert_eq!(back.stdout, std::fs::read(sample("017.resp.bin")).unwrap());
}

#[test]
fn a_truncated_response_is_summed_up_then_exits_5() {
    let mut body = std::fs::read(sample("013.resp.bin")).unwrap();
    body.truncate(body.len() - 3);
    let (code, out, err) = run(&["decode", "--request", &sample("013.req.bin"), "-"], &body);
    assert_eq!(code, 5, "{err}");
    let out = text(&out);
    assert!(out.contains("request 1 (listkeys): ok"), "{out}");
    assert!(
        out.contains("request 5 (lookup): no status, 0 objects, 0 bytes of data, incomplete (no end-of-stream frame)"),
        "{out}"
    );
    assert!(
        err.contains("truncated payload of the frame at byte offset 169"),
        "{err}"
    );
}

#[test]
fn a_decompression_bomb_stops_at_the_bound_with_exit_5() {
    // A 64 MiB byte string of zeros as one zstd-8mb frame: about 2 KB.
    let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 19).unwrap();
    enc.window_log(23).unwrap();
    // {b'status': b'ok'}, then the header of a 64 MiB byte string
    enc.write_all(b"\xa1FstatusBok\x5a\x04\x00\x00\x00")
        .unwrap();
    for _ in 0..64 {
        enc.write_all(&vec![0u8; 1 << 20]).unwrap();
    }
    let bomb = enc.finish().unwrap();
    let mut body = frames(&["1 2 stream-begin stream-settings eos cbor:b'zstd-8mb'"]);
    let mut head = vec![
        bomb.len() as u8,
        (bomb.len() >> 8) as u8,
        (bomb.len() >> 16) as u8,
    ];
    head.extend_from_slice(&[1, 0, 2, 0x04, 0x31]);
    body.extend(head);
    body.extend(&bomb);
    let t = std::time::Instant::now();
    let (code, _, err) = run(&["decode", "--max-value", "1M", "-"], &body);
    assert_eq!(code, 5, "{err}");
    assert!(
        err.contains("decodes to more than 1048576 bytes")
            && err.contains("--max-value, now 1 MiB"),
        "{err}"
    );
    assert!(t.elapsed() < std::time::Duration::from_secs(10));
    // With room for it, the same body decodes.
    let (code, out, err) = run(
        &["decode", "--max-value", "128M", "--format", "human", "-"],
        &body,
    );
    assert_eq!(code, 0, "{err}");
    let out = text(&out);
    assert!(
        out.contains("# client: responsedata for request 1, more expected, 67108880 bytes decoded")
    );
    assert!(out.contains("… (67108864 bytes)"));
    // Sizes are checked.
    let (code, _, err) = run(&["decode", "--max-value", "12X", "-"], b"");
    assert_eq!(code, 2);
    assert!(err.contains("unknown size unit \"x\" in \"12X\""), "{err}");
    let (code, _, err) = run(&["decode", "--max-value", "0", "-"], b"");
    assert_eq!(code, 2);
    assert!(err.contains("expected a size of at least 1 byte"), "{err}");
}

#[test]
fn bodies_that_are_not_frames_decode_as_their_content_type() {
    // CBOR: the v1 capabilities answer of a v2 server
    let (code, out, _) = run(
        &[
            "decode",
            "--content-type",
            "application/mercurial-cbor",
            &sample("001.resp.bin"),
        ],
        b"",
    );
    assert_eq!(code, 0);
    assert!(text(&out).starts_with("value 0: {b'apibase': b'api/', b'apis': {b'exp-http-v2-0003'"));
    let (code, out, _) = run(
        &[
            "decode",
            "--json",
            "--content-type",
            "application/mercurial-cbor",
            &sample("001.resp.bin"),
        ],
        b"",
    );
    assert_eq!(code, 0);
    let v: J = serde_json::from_str(text(&out).lines().next().unwrap()).unwrap();
    assert_eq!(v["event"], "cbor");
    assert_eq!(v["value"]["apibase"], "api/");
    // bad and cut CBOR: exit 5, saying where
    let (code, _, err) = run(
        &[
            "decode",
            "--content-type",
            "application/mercurial-cbor",
            "-",
        ],
        b"\x61a",
    );
    assert_eq!(code, 5);
    assert!(
        err.contains("CBORDecodeError: string major type not supported"),
        "{err}"
    );
    let (code, _, err) = run(
        &[
            "decode",
            "--content-type",
            "application/mercurial-cbor",
            "-",
        ],
        b"\xa1\x41a",
    );
    assert_eq!(code, 5);
    assert!(err.contains("ends inside value 0 (after 3 bytes)"), "{err}");
    // text, control characters escaped
    let (code, out, _) = run(
        &["decode", "--content-type", "text/plain; charset=utf-8", "-"],
        b"permission denied\x1b[2J\xff",
    );
    assert_eq!(code, 0);
    assert_eq!(text(&out), "permission denied\\x1b[2J\\xff\n");
    // HTML: summed up
    let page = b"<html><head><title>repo: error</title></head><body><p>An error occurred while processing your request:</p><p>no such method: api</p></body></html>";
    let (code, out, _) = run(&["decode", "--content-type", "text/html", "-"], page);
    assert_eq!(code, 0);
    assert_eq!(
        text(&out),
        "(HTML) repo: error\nAn error occurred while processing your request:\nno such method: api\n"
    );
    // an unknown type: text, with a warning
    let (code, out, err) = run(
        &["decode", "--content-type", "application/x-foo", "-"],
        b"a\x00b",
    );
    assert_eq!(code, 0);
    assert_eq!(text(&out), "a\\x00b\n");
    assert!(
        err.contains("does not know the content type \"application/x-foo\""),
        "{err}"
    );
    // a frames media type names the revision
    let (code, _, err) = run(
        &[
            "-v",
            "decode",
            "--content-type",
            "application/mercurial-exp-framing-0006",
            &sample("002.resp.bin"),
        ],
        b"",
    );
    assert_eq!(code, 0);
    assert!(
        err.contains("protocol 0006 (named by --content-type)"),
        "{err}"
    );
}

#[test]
fn conflicting_options_are_usage_errors() {
    let (code, _, err) = run(
        &[
            "decode",
            "--side",
            "response",
            "--content-type",
            "text/plain",
            "-",
        ],
        b"",
    );
    assert_eq!(code, 2);
    assert!(err.contains("--side response needs frames, but --content-type text/plain is not a frames media type"), "{err}");
    let (code, _, err) = run(
        &[
            "decode",
            "--proto",
            "0002",
            "--content-type",
            "application/mercurial-exp-framing-0006",
            "-",
        ],
        b"",
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("is protocol 0006, but --proto says 0002"),
        "{err}"
    );
    let (code, _, err) = run(
        &["decode", "--proto", "0002", "--side", "response", "-"],
        &frames(&["1 2 stream-begin text-output 0 hi"])[..0],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no client reactor for protocol 0002"), "{err}");
    let (code, _, err) = run(
        &[
            "decode",
            "--request",
            "/nonexistent/req.bin",
            &sample("002.resp.bin"),
        ],
        b"",
    );
    assert_eq!(code, 2);
    assert!(err.contains("cannot open /nonexistent/req.bin"), "{err}");
    // a revision without a client reactor: frames listed, and -v says why
    let body = crate::support::hgframe()
        .args([
            "--proto",
            "0002",
            "encode",
            "-f",
            "raw",
            "1 2 stream-begin text-output 0 hi",
        ])
        .output()
        .unwrap()
        .stdout;
    let (code, out, err) = run(&["-v", "--proto", "0002", "decode", "-"], &body);
    assert_eq!(code, 0);
    assert!(!text(&out).contains("client:"));
    assert!(
        err.contains("decoding the request side (the first frame is text-output, which only servers send, but hgframe has no client reactor for protocol 0002: frames listed)"),
        "{err}"
    );
}
