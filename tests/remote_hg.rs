//! `send`, `reflect --url` and `doctor` against a real Mercurial 6.0
//! `hg serve` (started here on 127.0.0.1), plus transport faults.
//!
//! `send` must decode identity, zlib and zstd-8mb responses to the same
//! values Mercurial's own client gets: each command is also run with
//! `hg debugwireproto --peer http2` (Mercurial's v2 peer) and its decoded
//! response compared with ours.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;
use common::{hg, hg_path, HgServer, APICONFIG};
use serde_json::Value as J;

fn hgframe() -> Command {
    let mut c = Command::cargo_bin("hgframe").unwrap();
    c.env("NO_COLOR", "1");
    c
}

fn run_bytes(args: &[&str]) -> (i32, Vec<u8>) {
    let out = hgframe().args(args).output().unwrap();
    (out.status.code().unwrap_or(-1), out.stdout)
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = hgframe().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn repo_with_history(repo: &std::path::Path) {
    let w = |name: &str, text: &str| std::fs::write(repo.join(name), text).unwrap();
    w("a", "a\n");
    assert!(hg(&["add", "a"], repo).status.success());
    assert!(hg(&["commit", "-m", "one"], repo).status.success());
    w("a", "a\nb\n");
    assert!(hg(&["commit", "-m", "two"], repo).status.success());
    assert!(hg(&["branch", "-q", "other"], repo).status.success());
    w("b", "b\n");
    assert!(hg(&["add", "b"], repo).status.success());
    assert!(hg(&["commit", "-m", "three"], repo).status.success());
    assert!(hg(&["bookmark", "-q", "bm"], repo).status.success());
}

/// Mercurial's own client (`hg debugwireproto --peer http2`): the decoded
/// response of each command, as JSON.
fn mercurial_client(url: &str, encoding: &str, script: &str) -> Vec<J> {
    let out = Command::new(hg_path())
        .args(["debugwireproto", "--peer", "http2", "--config"])
        .arg(format!("experimental.httppeer.v2-encoder-order={encoding}"))
        .arg(url)
        .env("HGRCPATH", "")
        .env("HGPLAIN", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin
                .take()
                .unwrap()
                .write_all(script.as_bytes())
                .unwrap();
            c.wait_with_output()
        })
        .unwrap();
    assert!(
        out.status.success(),
        "debugwireproto: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let py = hg_path().parent().unwrap().join("python3");
    let mut conv = Command::new(py)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/support/hgresponse2json.py"
        ))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    conv.stdin.take().unwrap().write_all(&out.stdout).unwrap();
    let o = conv.wait_with_output().unwrap();
    assert!(o.status.success());
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn send_decodes_like_mercurials_own_client() {
    let server = HgServer::start_with(APICONFIG, repo_with_history);
    let url = format!("{}/", server.url());
    let head = {
        let o = hg(&["log", "-r", "tip", "-T", "{node}"], &server.repo);
        String::from_utf8(o.stdout).unwrap()
    };
    let unknown = "1".repeat(40);
    // (hgframe args, debugwireproto script, how Mercurial's client decodes)
    let pylit = |h: &str| -> String {
        let b = hgframe::python::escape::unhex(h).unwrap();
        format!(
            "b'{}'",
            b.iter().map(|x| format!("\\x{x:02x}")).collect::<String>()
        )
    };
    let nodes_py = format!("[{}, {}]", pylit(&head), pylit(&unknown));
    let cases: Vec<(Vec<String>, String, &str)> = vec![
        (vec!["heads".into()], "command heads\n".into(), "first"),
        (
            vec!["branchmap".into()],
            "command branchmap\n".into(),
            "first",
        ),
        (
            vec!["listkeys".into(), "namespace=bookmarks".into()],
            "command listkeys\n    namespace bookmarks\n".into(),
            "first",
        ),
        (
            vec!["lookup".into(), "key=tip".into()],
            "command lookup\n    key tip\n".into(),
            "first",
        ),
        (
            vec!["known".into(), format!("nodes=hexlist:{head},{unknown}")],
            format!("command known\n    nodes eval:{nodes_py}\n"),
            "known",
        ),
        (
            vec!["capabilities".into()],
            "command capabilities\n".into(),
            "all",
        ),
    ];
    let mut compared = 0;
    for enc in ["identity", "zlib", "zstd-8mb"] {
        for (args, script, how) in &cases {
            let mut a: Vec<&str> = vec!["send", &url];
            a.extend(args.iter().map(|s| s.as_str()));
            a.extend(["--encodings", enc, "--json"]);
            let (code, out, err) = run(&a);
            assert_eq!(code, 0, "{a:?}: {err}");
            let ours = common::ndjson(&out);
            let summary = ours.last().unwrap();
            assert_eq!(summary["event"], "summary");
            assert_eq!(
                summary["encodings"][0]["encoding"], enc,
                "{a:?} negotiated {enc}"
            );
            let req = common::events(&ours, "request")[0];
            assert_eq!(req["status"], "ok", "{a:?}");
            let objects = req["objects"].as_array().unwrap().clone();
            let ours_decoded = match *how {
                "first" => objects[0].clone(),
                "all" => J::Array(objects),
                _ => {
                    // decodeknown: a bytestring of '0'/'1' → booleans
                    let s = objects[0].as_str().unwrap();
                    J::Array(s.chars().map(|c| J::Bool(c == '1')).collect())
                }
            };
            let theirs = mercurial_client(&url, enc, script);
            assert_eq!(theirs.len(), 1, "{script}");
            assert_eq!(ours_decoded, theirs[0], "{a:?} with {enc}");
            compared += 1;
        }
    }
    assert_eq!(compared, 18);
    // several commands in one request go to multirequest
    let (code, out, err) = run(&[
        "send",
        &url,
        "heads",
        "+",
        "listkeys",
        "namespace=bookmarks",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v = common::ndjson(&out);
    let requests = common::events(&v, "request");
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1]["objects"][0]["bm"], J::String(head.clone()));
    // a command error comes back as status error (exit 4)
    let (code, out, _) = run(&["send", &url, "heads", "bogus=1"]);
    assert_eq!(code, 4);
    assert!(
        out.contains("unsupported argument to command: bogus"),
        "{out}"
    );
}

#[test]
fn reflect_url_matches_local_and_reports_http_errors() {
    let server = HgServer::start(APICONFIG);
    let url = format!("{}/", server.url());
    let frame = "1 1 stream-begin command-request new cbor:{b'name': b'heads', b'args': {b'x': b'<\\xff>'}}";
    // --raw: the body byte for byte; --compare: agrees with the local reactor
    let (code, _, err) = run(&["reflect", "--url", &url, "--raw", "--compare", frame]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("predicts this body exactly"), "{err}");
    let (_, remote_raw) = run_bytes(&["reflect", "--url", &url, "--raw", frame]);
    let local = hgframe()
        .args(["reflect", "--raw", frame])
        .output()
        .unwrap();
    assert_eq!(remote_raw, local.stdout);
    // readable view parsed back, even with a newline in a payload
    let (code, out, _) = run(&[
        "reflect",
        "--url",
        &url,
        "1 1 stream-begin command-data 0 a\\nb",
    ]);
    assert_eq!(code, 0);
    assert!(
        out.contains("error: expected sender protocol settings or command request frame; got 2"),
        "{out}"
    );
    // JSON events
    let (code, out, _) = run(&["reflect", "--url", &url, "--json", frame]);
    assert_eq!(code, 0);
    let first: J = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(first["action"]["action"], "runcommand");
    // 500 from Mercurial: exit 4, the body shown
    let trunc = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(trunc.path(), [0x0c, 0, 0, 1, 0]).unwrap();
    let (code, _, err) = run(&[
        "reflect",
        "--url",
        &url,
        "--bin",
        trunc.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 4, "{err}");
    assert!(
        err.contains("HTTP 500") && err.contains("Internal Server Error"),
        "{err}"
    );
    // --rw works with push allowed
    let (code, _, err) = run(&["reflect", "--url", &url, "--rw", frame]);
    assert_eq!(code, 0, "{err}");
    // auto-detection of the revision
    let (code, _, err) = run(&["reflect", "-v", "--url", &url, "--bin", "/dev/null"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("protocol 0006 (detected: the server lists API exp-http-v2-0003)"),
        "{err}"
    );
    // dry run and curl print without sending
    let (code, out, _) = run(&["reflect", "--url", &url, "--dry-run", frame]);
    assert_eq!(code, 0);
    assert!(out.starts_with(&format!("POST {url}api/exp-http-v2-0003/ro/debugreflect\nAccept: application/mercurial-exp-framing-0006\n")), "{out}");
    let (code, out, _) = run(&["reflect", "--url", &url, "--curl", frame]);
    assert_eq!(code, 0);
    let curl = Command::new("sh")
        .arg("-c")
        .arg(out.trim())
        .output()
        .unwrap();
    assert_eq!(
        curl.stdout, local.stdout,
        "the printed curl command reproduces the request"
    );
}

#[test]
fn doctor_names_the_missing_knob() {
    let full = HgServer::start(APICONFIG);
    let (code, out, _) = run(&["doctor", &full.url()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("✓ a test frame"), "{out}");
    assert!(!out.contains('✗'), "{out}");

    let cases: &[(&str, &str)] = &[
        (
            "experimental.web.apiserver=true",
            "--config experimental.web.apiserver=true",
        ),
        (
            "experimental.web.api.http-v2=true",
            "--config experimental.web.api.http-v2=true",
        ),
        (
            "experimental.web.api.debugreflect=true",
            "--config experimental.web.api.debugreflect=true",
        ),
        ("web.allow-push=*", "--config web.allow-push=*"),
    ];
    for (missing, fix) in cases {
        let config: Vec<&str> = APICONFIG.iter().copied().filter(|c| c != missing).collect();
        let s = HgServer::start(&config);
        let (code, out, _) = run(&["doctor", &s.url()]);
        assert!(out.contains('✗'), "{missing}: {out}");
        assert!(
            out.contains(fix),
            "without {missing} the fix is named: {out}"
        );
        if *missing == "web.allow-push=*" {
            assert_eq!(code, 0, "rw/ is optional: {out}");
        } else {
            assert_eq!(code, 4, "{missing}: {out}");
        }
    }
}

#[test]
fn transport_faults_have_their_own_messages_and_codes() {
    // nothing listening
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (code, _, err) = run(&["send", &format!("http://127.0.0.1:{port}/"), "heads"]);
    assert_eq!(code, 3);
    assert!(err.contains("connection refused"), "{err}");

    // accepts and never answers: the timeout fires on time
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let holder = std::thread::spawn(move || {
        let (s, _) = l.accept().unwrap();
        std::thread::sleep(Duration::from_secs(4));
        drop(s);
    });
    let t = Instant::now();
    let (code, _, err) = run(&[
        "send",
        &format!("http://127.0.0.1:{port}/"),
        "heads",
        "--timeout",
        "1",
    ]);
    let took = t.elapsed();
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("no complete answer within 1 s"), "{err}");
    assert!(took < Duration::from_secs(3), "took {took:?}");
    holder.join().unwrap();

    // closes in the middle of the response
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut buf = [0u8; 4096];
        let _ = s.read(&mut buf);
        s.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/mercurial-exp-framing-0006\r\nContent-Length: 100\r\n\r\nabc")
            .unwrap();
    });
    let (code, _, err) = run(&[
        "send",
        &format!("http://127.0.0.1:{port}/"),
        "heads",
        "--timeout",
        "5",
    ]);
    server.join().unwrap();
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("closed before the response was complete"),
        "{err}"
    );

    // TLS: https:// to a server that answers in plain HTTP
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut buf = [0u8; 4096];
        let _ = s.read(&mut buf);
        let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    });
    let (code, _, err) = run(&[
        "send",
        &format!("https://127.0.0.1:{port}/"),
        "heads",
        "--timeout",
        "5",
    ]);
    server.join().unwrap();
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("TLS error"), "{err}");

    // DNS failure
    let (code, _, err) = run(&[
        "send",
        "http://nonexistent.invalid/",
        "heads",
        "--timeout",
        "5",
    ]);
    assert_eq!(code, 3);
    assert!(
        err.contains("cannot resolve") || err.contains("no complete answer"),
        "{err}"
    );

    // bad URL is a usage error
    let (code, _, err) = run(&["send", "ftp://x/", "heads"]);
    assert_eq!(code, 2);
    assert!(err.contains("not http or https"), "{err}");
}

#[test]
fn http_errors_from_hgframe_serve_have_exit_code_4() {
    use hgframe::server::{start, LogTarget, ServeOptions};
    let mut opts = ServeOptions::new(hgframe::Proto::P0006);
    opts.log = LogTarget::Silent;
    opts.max_body = 1000;
    let server = start(opts).unwrap();
    let url = format!("{}/", server.url());
    let data = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(data.path(), vec![b'x'; 5000]).unwrap();
    // a body over --max-body: 413
    let (code, _, err) = run(&[
        "send",
        &url,
        "heads",
        "--data",
        data.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("HTTP 413"), "{err}");
    // an unknown command: 404 with Mercurial's message shown
    let (code, _, err) = run(&["send", &url, "nosuchcommand"]);
    assert_eq!(code, 4, "{err}");
    assert!(
        err.contains("HTTP 404") && err.contains("unknown wire protocol command: nosuchcommand"),
        "{err}"
    );
    server.shutdown();
}
