//! `--hg VERSION`, revision 0005 and the Python 2 flavour on the command
//! line: the release chosen, refused versions (exit 2, saying why), the
//! literal rules and CBOR codec each release uses, and detection of a
//! server's release (against `hgframe serve` in each release's shape).

use super::support::hgframe;
use hgframe::server::{self, LogTarget, ServeOptions, ServerHandle};
use hgframe::wire::proto::release;

/// Run and return (exit code, stdout, stderr), both lossy text (raw
/// debugreflect bodies carry binary payloads).
fn run(args: &[&str], stdin: &[u8]) -> (i32, String, String) {
    let out = hgframe()
        .args(args)
        .write_stdin(stdin.to_vec())
        .output()
        .unwrap();
    (
        out.status.code().expect("exit code"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn text(s: &str) -> &str {
    s
}

fn serve(version: &str) -> ServerHandle {
    let mut o = ServeOptions::new(release(version).unwrap().proto);
    o.log = LogTarget::Silent;
    server::start(o).expect("hgframe serve starts")
}

#[test]
fn versions_without_the_protocol_are_usage_errors() {
    for (v, why) in [
        (
            "4.5.3",
            "has no frame protocol: the HTTP version 2 API (exp-http-v2) came with 4.6",
        ),
        ("3.9", "came with 4.6"),
        ("6.1", "6.1 removed the HTTP version 2 API"),
        ("6.9.2", "6.1 removed"),
        ("seven", "not a Mercurial release number"),
        ("4.7-py3", "ran on Python 2 only"),
        ("6.0-py2", "ran on Python 3 only"),
    ] {
        let (code, out, err) = run(&["--hg", v, "encode", "1 1 0 1 0 x"], b"");
        assert_eq!(code, 2, "{v}: {err}");
        assert!(out.is_empty());
        assert!(err.contains(why), "{v}: {err}");
    }
}

#[test]
fn hg_and_proto_must_agree() {
    let (code, _, err) = run(
        &["--hg", "4.7.2", "--proto", "0006", "encode", "1 1 0 1 0 x"],
        b"",
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(
            "--proto 0006 contradicts --hg: Mercurial 4.6/4.7 (revision 0005) speaks protocol 0005"
        ),
        "{err}"
    );
    let (code, _, err) = run(
        &["--hg", "4.7.2", "--proto", "0005", "encode", "1 1 0 1 0 x"],
        b"",
    );
    assert_eq!(code, 0, "{err}");
}

#[test]
fn each_release_encodes_literals_its_own_way() {
    let line = "1 1 stream-begin command-request new cbor:{b'aa': 1, b'b': 2, 1: b'i'}";
    // 4.6/4.7: cbor2 canonical (by encoded length, then bytes)
    let (code, out, err) = run(&["--hg", "4.7.2", "encode", line], b"");
    assert_eq!(code, 0, "{err}");
    assert_eq!(text(&out), "0b00000100010111a301416941620242616101\n");
    // 4.8: cborutil with Python 2 type names (int < str)
    let (_, out, _) = run(&["--hg", "4.8", "encode", line], b"");
    assert_eq!(text(&out), "0b00000100010111a301416942616101416202\n");
    // 6.0: cborutil with Python 3 type names (bytes < int)
    let (_, out, _) = run(&["--hg", "6.0", "encode", line], b"");
    assert_eq!(text(&out), "0b00000100010111a342616101416202014169\n");
    // Python 2: '' is bytes; Python 3: str, which cborutil refuses
    let (code, out, _) = run(&["--hg", "4.8", "encode", "1 1 0 1 0 cbor:'x'"], b"");
    assert_eq!((code, text(&out)), (0, "02000001000100104178\n"));
    let (code, _, err) = run(&["--hg", "6.0", "encode", "1 1 0 1 0 cbor:'x'"], b"");
    assert_eq!(code, 2, "{err}");
    // u'' is text: cbor2 encodes it, cborutil refuses it (with a hint)
    let (code, out, _) = run(&["--hg", "4.7", "encode", "1 1 0 1 0 cbor:u'x'"], b"");
    assert_eq!((code, text(&out)), (0, "02000001000100106178\n"));
    let (code, _, err) = run(&["--hg", "4.8", "encode", "1 1 0 1 0 cbor:u'x'"], b"");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("u'...' is text"), "{err}");
    // no set literals on Python 2
    let (code, _, err) = run(&["--hg", "4.8", "encode", "1 1 0 1 0 cbor:{1, 2}"], b"");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no set literals"), "{err}");
    // 0005 has no sender-protocol-settings; type 8 is stream-settings
    let (code, _, err) = run(
        &[
            "--proto",
            "0005",
            "encode",
            "1 1 0 sender-protocol-settings eos x",
        ],
        b"",
    );
    assert_eq!(code, 2, "{err}");
    let (code, out, _) = run(
        &["--proto", "0005", "encode", "1 1 0 stream-settings 0 x"],
        b"",
    );
    assert_eq!((code, text(&out)), (0, "010000010001008078\n"));
}

#[test]
fn reflect_as_each_release() {
    let heads = "1 1 stream-begin command-request new cbor:{b'name': b'heads'}";
    // 0005: no redirect in the meta
    let (code, out, err) = run(&["--hg", "4.7.2", "reflect", "--raw", heads], b"");
    assert_eq!(code, 0, "{err}");
    assert!(
        text(&out).contains("[\"runcommand\", {\"args\": {}, \"command\": \"heads\", \"data\": null, \"requestid\": 1}]"),
        "{}",
        text(&out)
    );
    // 4.8: bytes that are not UTF-8 make json.dumps raise (500); 6.0 renders them
    let line = "1 1 stream-begin command-request new cbor:{b'name': b'caf\\xe9'}";
    let (code, _, err) = run(&["--hg", "4.8", "reflect", "--raw", line], b"");
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("UnicodeDecodeError"), "{err}");
    let (code, out, _) = run(&["--hg", "6.0", "reflect", "--raw", line], b"");
    assert_eq!(code, 0);
    assert!(text(&out).contains("caf\\udce9"));
    // 4.8 on Python 2: the settings error shows str(e), 6.0 a bytes repr
    let bad = "0 1 stream-begin sender-protocol-settings eos badvalue";
    let (_, out, _) = run(&["--hg", "4.8", "reflect", "--raw", bad], b"");
    assert!(
        text(&out).contains("frame: string major type not supported\""),
        "{}",
        text(&out)
    );
    let (_, out, _) = run(&["--hg", "6.0", "reflect", "--raw", bad], b"");
    assert!(
        text(&out).contains("frame: b'string major type not supported'\""),
        "{}",
        text(&out)
    );
}

#[test]
fn detection_tells_each_flavour_without_a_server_header() {
    // hgframe serve shows no Python in its Server header: the flavour comes
    // from the probes (the settings-error text, then debugreflect's JSON).
    for (version, want) in [
        ("4.8.2", "Mercurial 4.8/4.9 (Python 2) — Python 2, debugreflect JSON by json.dumps (Python 2 (the exception text ro/heads answers a bad settings frame with); debugreflect JSON by json.dumps"),
        ("5.0.2-py2", "Mercurial 5.0/5.1 on Python 2 — Python 2, debugreflect JSON by templatefilters.json (Python 2 (the exception text ro/heads answers a bad settings frame with); debugreflect JSON by templatefilters.json"),
        ("6.0", "Mercurial 5.0–6.0 — Python 3, debugreflect JSON by templatefilters.json (Python 3 (the exception text ro/heads answers a bad settings frame with))"),
        ("4.7.2", "protocol 0005 (detected: the server's 406 names application/mercurial-exp-framing-0005)"),
    ] {
        let s = serve(version);
        let (code, _, err) = run(&["reflect", "-v", "--url", &s.url(), "--bin", "/dev/null"], b"");
        assert_eq!(code, 0, "{version}: {err}");
        assert!(err.contains(want), "{version}: {err}");
        s.shutdown();
    }
}

#[test]
fn remote_commands_use_the_detected_release() {
    let s = serve("4.7.2");
    let url = s.url();
    // reflect --url: posted to 0005's URL space, parsed with its rules
    let (code, out, err) = run(
        &[
            "reflect",
            "-v",
            "--raw",
            "--url",
            &url,
            "1 1 stream-begin command-request new cbor:{'name': 'heads'}",
        ],
        b"",
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("protocol 0005 (detected: the server's 406 names application/mercurial-exp-framing-0005)"), "{err}");
    assert!(
        text(&out).contains("\"command\": \"heads\""),
        "{}",
        text(&out)
    );
    // send: 0005 requests (no settings frame), cbor2 responses
    let (code, out, err) = run(&["send", "--dry-run", "--hg", "4.7", &url, "heads"], b"");
    assert_eq!(code, 0, "{err}");
    let o = text(&out);
    assert!(o.contains("/api/exp-http-v2-0001/ro/heads"), "{o}");
    assert!(!o.contains("sender-protocol-settings"), "{o}");
    let (code, _, err) = run(
        &["send", "--hg", "4.7", "--encodings", "zlib", &url, "heads"],
        b"",
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("has no content encodings"), "{err}");
    let (code, out, err) = run(&["send", &url, "heads"], b"");
    // hgframe serve has no canned answer: a command error, decoded
    assert_eq!(code, 4, "{}{err}", text(&out));
    assert!(text(&out).contains("request 1: error"), "{}", text(&out));
    s.shutdown();
}

#[test]
fn compare_checks_500s_and_says_so() {
    let s = serve("4.8.2");
    let url = s.url();
    let line = "1 1 stream-begin command-request new cbor:{'name': 'caf\\xe9'}";
    // the server answers 500 and the prediction (detected 4.8) says so
    let (code, _, err) = run(&["reflect", "--compare", "--url", &url, line], b"");
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("the server answered HTTP 500, as the local reactor predicts"),
        "{err}"
    );
    // forcing the wrong release: the prediction (200) does not hold
    let (code, _, err) = run(
        &[
            "--hg",
            "5.0-py2",
            "reflect",
            "--compare",
            "--url",
            &url,
            line,
        ],
        b"",
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("but the local reactor predicts 200"), "{err}");
    // an exact 200
    let (code, _, err) = run(
        &[
            "reflect",
            "--compare",
            "--url",
            &url,
            "1 1 stream-begin command-request new cbor:{'name': 'x'}",
        ],
        b"",
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("predicts this body exactly"), "{err}");
    s.shutdown();
}
