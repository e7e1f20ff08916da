//! Regression tests for the defects of issue 13, one test per item
//! (`i01_…` is item 1). Each fails on the binary before its fix: set
//! `HGFRAME_BIN` to another build of hgframe to run them against it.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hgframe::server::{start, LogTarget, ServeOptions, ServerHandle};
use hgframe::Proto;

fn bin() -> PathBuf {
    match std::env::var_os("HGFRAME_BIN") {
        Some(p) => PathBuf::from(p),
        None => assert_cmd::cargo::cargo_bin("hgframe"),
    }
}

fn hgframe() -> Command {
    let mut c = Command::new(bin());
    c.env_remove("NO_COLOR")
        .env_remove("CLICOLOR")
        .env_remove("CLICOLOR_FORCE")
        .env("COLUMNS", "100");
    c
}

/// Run with `stdin`; (exit code, stdout, stderr).
fn run_in(args: &[&str], stdin: &[u8]) -> (i32, String, String) {
    let mut c = hgframe();
    c.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    let _ = writer.join();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn run(args: &[&str]) -> (i32, String, String) {
    run_in(args, b"")
}

fn serve(proto: Proto, respond: &[&str]) -> ServerHandle {
    let mut o = ServeOptions::new(proto);
    o.log = LogTarget::Silent;
    o.responder = hgframe::session::Responder::parse(
        proto,
        &respond.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
    )
    .unwrap();
    start(o).expect("hgframe serve starts")
}

/// A port nothing listens on.
fn refused_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A plain HTTP server (not Mercurial) answering every request with
/// `response`, for `count` connections.
fn plain_http(response: Vec<u8>, count: usize) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().take(count) {
            let Ok(mut s) = s else { continue };
            let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
            let mut buf = [0u8; 65536];
            let mut got = Vec::new();
            // read the request head (and a body if Content-Length says so)
            while let Ok(n) = s.read(&mut buf) {
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
                if let Some(end) = find(&got, b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
                    let len = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if got.len() >= end + 4 + len {
                        break;
                    }
                }
            }
            let _ = s.write_all(&response);
        }
    });
    port
}

fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).position(|w| w == n)
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

const HEADS: &str = "> 1 1 stream-begin command-request new cbor:{b'name': b'heads'}";

// 1 -------------------------------------------------------------------

#[test]
fn i01_against_checks_the_expectations_on_each_target() {
    let server = serve(Proto::P0006, &[]);
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "wrong.hgframe",
        &format!(
            "{HEADS}\n< [\"runcommand\", {{\"args\": {{}}, \"command\": \"TOTALLY-WRONG\", \"data\": null, \"redirect\": null, \"requestid\": 1}}]\neof\n< {{\"action\": \"noop\"}}\nexpect status 404\n"
        ),
    );
    let url = format!("{}/", server.url());
    let (code, out, err) = run(&[
        "replay",
        "--color",
        "never",
        "--against",
        &format!("local,{url}"),
        &f,
    ]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("0 passed, 1 failed"), "{out}");
    // each target is named with what it failed
    assert!(out.contains("local: output differs"), "{out}");
    assert!(out.contains(&format!("{url}: output differs")), "{out}");
    assert!(out.contains("local: expected status 404, got 200"), "{out}");
    // a right transcript still passes on both
    let ok = write(
        dir.path(),
        "ok.hgframe",
        &format!(
            "{HEADS}\n< [\"runcommand\", {{\"args\": {{}}, \"command\": \"heads\", \"data\": null, \"redirect\": null, \"requestid\": 1}}]\neof\n< {{\"action\": \"noop\"}}\n"
        ),
    );
    let (code, out, err) = run(&["replay", "--against", &format!("local,{url}"), &ok]);
    assert_eq!(code, 0, "{out}{err}");
}

// 2 -------------------------------------------------------------------

#[test]
fn i02_an_empty_transcript_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "empty.hgframe",
        "# nothing here\nproto 0006\n\n",
    );
    let (code, out, err) = run(&["replay", "--color", "never", &f]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.contains("ERROR"), "{out}");
    assert!(out.contains("runs no request"), "{out}");
    assert!(!out.contains("PASS"), "{out}");
    assert_eq!(out.lines().last(), Some("0 passed, 1 failed"), "{out}");
}

// 3 -------------------------------------------------------------------

#[test]
fn i03_a_repl_script_exits_with_its_first_failure_after_running_the_rest() {
    let port = refused_port();
    let script = format!(
        ":target http://127.0.0.1:{port}/\n1 1 stream-begin command-request nwe cbor:{{b'name': b'x'}}\n:target local\n1 1 stream-begin command-request new cbor:{{b'name': b'heads'}}\n"
    );
    let (code, out, err) = run_in(&["repl", "--color", "never"], script.as_bytes());
    assert_eq!(
        code, 3,
        "the first failure is the refused target: {out}{err}"
    );
    assert!(out.contains("runcommand"), "the last line still ran: {out}");
    let (code, out, _) = run_in(
        &["repl", "--color", "never"],
        b"1 1 0 nonsense 0 x\n1 1 stream-begin command-request new cbor:{b'name': b'heads'}\n",
    );
    assert_eq!(code, 2, "a bad frame line: {out}");
    assert!(out.contains("runcommand"), "{out}");
    let (code, _, _) = run_in(&["repl"], &HEADS.as_bytes()[2..]);
    assert_eq!(code, 0);
}

// 4 -------------------------------------------------------------------

#[test]
fn i04_doctor_and_replay_refuse_dry_run_and_curl() {
    for args in [
        &["doctor", "--dry-run", "http://127.0.0.1:1/"][..],
        &["doctor", "--curl", "http://127.0.0.1:1/"],
        &["replay", "--dry-run", "examples"],
        &["replay", "--curl", "examples"],
    ] {
        let (code, out, err) = run(args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains("unexpected argument"), "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?} did something: {out}");
    }
}

// 5 -------------------------------------------------------------------

#[test]
fn i05_doctor_gives_advice_that_works() {
    // A plain HTTP server is not Mercurial.
    let html = b"<!DOCTYPE HTML><html><head><title>Error response</title></head><body><h1>Error response</h1><p>Error code: 404</p></body></html>";
    let mut resp = format!(
        "HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        html.len()
    )
    .into_bytes();
    resp.extend_from_slice(html);
    let port = plain_http(resp, 4);
    let (code, out, _) = run(&[
        "doctor",
        "--color",
        "never",
        &format!("http://127.0.0.1:{port}/"),
    ]);
    assert_eq!(code, 4, "{out}");
    assert!(out.contains("is not a Mercurial server"), "{out}");
    assert!(
        !out.contains("runs without experimental.web.apiserver"),
        "{out}"
    );
    // A name that does not resolve is not a server to start.
    let (code, out, _) = run(&["doctor", "--color", "never", "http://nosuchhost.invalid/"]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("does not resolve"), "{out}");
    assert!(!out.contains("start the server"), "{out}");
    // Refused: start the server, with the whole command.
    let (code, out, _) = run(&[
        "doctor",
        "--color",
        "never",
        &format!("http://127.0.0.1:{}/", refused_port()),
    ]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("fix: start the server: hg serve"), "{out}");
    // --help has the set-up instructions the fixes point to.
    let (_, help, _) = run(&["doctor", "--help"]);
    assert!(
        help.contains("--config experimental.web.api.http-v2=true"),
        "{help}"
    );
    assert!(
        help.contains("  [experimental]\n  web.apiserver = true\n"),
        "{help}"
    );
}

#[test]
fn i05_doctor_prints_an_hgrc_block_mercurial_reads() {
    use common::{HgServer, APICONFIG};
    let config: Vec<&str> = APICONFIG
        .iter()
        .copied()
        .filter(|c| !c.starts_with("experimental.web.apiserver"))
        .collect();
    let s = HgServer::start(&config);
    let (code, out, _) = run(&["doctor", "--color", "never", &s.url()]);
    assert_eq!(code, 4, "{out}");
    // one setting per line: the form Mercurial reads from an hgrc
    assert!(
        out.contains("or in the repository's .hg/hgrc:\n           [experimental]\n           web.apiserver = true\n"),
        "{out}"
    );
    assert!(!out.contains("[experimental]  web."), "{out}");
}

// 6 -------------------------------------------------------------------

#[test]
fn i06_a_six_field_line_under_proto_0001_gets_a_hint() {
    let (code, _, err) = run(&["--proto", "0001", "encode", &HEADS[2..]]);
    assert_eq!(code, 0);
    assert!(
        err.contains("reads as a 6-field 0006 frame line") && err.contains("pass --proto 0006"),
        "{err}"
    );
    // a real 0001 line gets no such warning
    let (_, _, err) = run(&["--proto", "0001", "encode", "command-name eos heads"]);
    assert!(err.is_empty(), "{err}");
}

// 7 -------------------------------------------------------------------

#[test]
fn i07_hex_text_given_as_binary_is_named() {
    let (_, hex, _) = run(&["encode", &HEADS[2..]]);
    let (code, out, err) = run_in(&["decode"], hex.as_bytes());
    assert_eq!(code, 5, "{out}{err}");
    assert!(err.contains("looks like hex text"), "{err}");
    assert!(err.contains("--hex-input"), "{err}");
    let (code, out, _) = run_in(&["decode", "--hex-input"], hex.as_bytes());
    assert_eq!(code, 0, "{out}");
}

// 8 -------------------------------------------------------------------

#[test]
fn i08_errors_quote_a_window_of_long_lines() {
    let payload = "a".repeat(2_000_000);
    let line = format!("1 1 stream-begin command-request nwe {payload}");
    let (code, _, err) = run_in(&["encode"], line.as_bytes());
    assert_eq!(code, 2);
    assert!(err.len() < 2_000, "{} bytes of stderr", err.len());
    assert!(err.contains("^^^ column 34"), "{err}");
    assert!(err.contains("unknown flag `nwe`"), "{err}");
    // replay quotes script lines the same way
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "long.hgframe", &format!("> {line}\neof\n"));
    let (code, out, _) = run(&["replay", "--color", "never", &f]);
    assert_eq!(code, 2);
    assert!(out.len() < 2_000, "{} bytes", out.len());
    assert!(out.contains("column"), "{out}");
}

// 9 -------------------------------------------------------------------

#[test]
fn i09_html_error_pages_are_summarised() {
    let mut html = String::from("<!DOCTYPE HTML>\n<html><head><title>Not Found \x1b]0;owned\x07</title></head><body>\n<h1>Not Found</h1>\n<p>The requested URL was not found on this server.</p>\n");
    for _ in 0..2000 {
        html.push_str("<p>padding padding padding padding</p>\n");
    }
    html.push_str("</body></html>\n");
    let mut resp = format!(
        "HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        html.len()
    )
    .into_bytes();
    resp.extend_from_slice(html.as_bytes());
    let port = plain_http(resp, 2);
    let (code, _, err) = run(&["send", &format!("http://127.0.0.1:{port}/"), "heads"]);
    assert_eq!(code, 4, "{err}");
    assert!(err.len() < 3_000, "{} bytes: {err}", err.len());
    assert!(err.contains("(HTML) Not Found"), "{err}");
    assert!(err.contains("The requested URL was not found"), "{err}");
    assert!(
        !err.contains('\x1b'),
        "a terminal escape from the server reached the terminal: {err:?}"
    );
    assert!(err.contains("bytes in all, HTML"), "{err}");
}

// 10 ------------------------------------------------------------------

#[test]
fn i10_replay_against_a_refused_url_stops_at_once() {
    let t = Instant::now();
    let (code, out, err) = run(&[
        "replay",
        "--url",
        &format!("http://127.0.0.1:{}/", refused_port()),
        "examples",
    ]);
    assert_eq!(code, 3, "{out}{err}");
    assert_eq!(err.matches("connection refused").count(), 1, "{err}");
    assert!(out.is_empty(), "no script ran: {out}");
    assert!(t.elapsed() < Duration::from_secs(20));
}

// 11 ------------------------------------------------------------------

#[test]
fn i11_repl_url_refused_prints_the_error_once() {
    let (code, out, err) = run(&[
        "repl",
        "--url",
        &format!("http://127.0.0.1:{}/", refused_port()),
    ]);
    assert_eq!(code, 3, "{out}{err}");
    assert_eq!(
        (out + &err).matches("connection refused").count(),
        1,
        "{err}"
    );
}

// 12 ------------------------------------------------------------------

#[test]
fn i12_decode_escapes_only_what_it_shows() {
    // 64 frames of 1 MiB of bytes that all need \xNN escapes
    let mut body = Vec::new();
    let payload = vec![0xffu8; 1 << 20];
    for _ in 0..64 {
        let len = payload.len();
        body.extend_from_slice(&[
            len as u8,
            (len >> 8) as u8,
            (len >> 16) as u8,
            1,
            0,
            1,
            0,
            0x22,
        ]);
        body.extend_from_slice(&payload);
    }
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("big.bin");
    std::fs::write(&f, &body).unwrap();
    let t = Instant::now();
    let (code, out, _) = run(&["decode", f.to_str().unwrap()]);
    let took = t.elapsed();
    assert_eq!(code, 0);
    assert!(
        out.contains("… (4194304 chars)"),
        "the length is still said"
    );
    // escaping 64 MiB into 256 MiB of text took seconds; 64 × 400 chars does not
    assert!(took < Duration::from_secs(3), "{took:?}");
}

// 13 ------------------------------------------------------------------

#[test]
fn i13_non_utf8_lines_get_one_error_with_line_and_offset() {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let arg = std::ffi::OsStr::from_bytes(b"1 1 0 command-data eos x\xffy");
        let out = hgframe().arg("encode").arg(arg).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.contains("argument 1: not UTF-8: byte 24 of the line is 0xff"),
            "{err}"
        );
    }
    let (code, _, err) = run_in(
        &["encode"],
        b"1 1 0 command-data eos x\n1 1 0 command-data eos \xff\n",
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("stdin line 2: not UTF-8: byte 23 of the line is 0xff"),
        "{err}"
    );
    assert!(err.contains("\\xff"), "says how to write the byte: {err}");
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.hgframe");
    std::fs::write(&p, b"# ok\n> 1 1 0 command-data eos \xfe\neof\n").unwrap();
    let (code, out, _) = run(&["replay", "--color", "never", p.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        out.contains("bad.hgframe:2: not UTF-8: byte 25 of the line is 0xfe"),
        "{out}"
    );
    let (code, out, _) = run_in(&["repl", "--color", "never"], b":help\n\xff\n");
    assert_eq!(code, 2);
    assert!(
        out.contains("error: stdin line 2: not UTF-8: byte 0 of the line is 0xff"),
        "{out}"
    );
}

// 14 ------------------------------------------------------------------

#[test]
fn i14_repl_conveniences() {
    // help and quit without the colon are commands, not frame lines
    let (code, out, _) = run_in(
        &["repl", "--color", "never"],
        b"help\nquit\n1 1 0 nonsense 0 x\n",
    );
    assert_eq!(code, 0, "quit stops before the bad line: {out}");
    assert!(out.contains(":respond"), "{out}");
    assert!(!out.lines().any(|l| l.starts_with("error")), "{out}");
    // :help :respond explains that one command only
    let (_, out, _) = run_in(&["repl", "--color", "never"], b":help :respond\n");
    assert!(
        out.contains("canned response for a request id or a command name"),
        "{out}"
    );
    assert!(!out.contains(":target"), "{out}");
    // :run with a typo gets a did-you-mean; :run calls survive :save
    let server = serve(Proto::P0006, &["heads=cbor:[[]]"]);
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("s.hgframe");
    let script = format!(
        ":target {}/\n:run haeds\n:run heads\n{}\n:send\n:save {}\n",
        server.url(),
        &HEADS[2..],
        saved.display()
    );
    let (_, out, _) = run_in(&["repl", "--color", "never"], script.as_bytes());
    assert!(
        out.contains("no command haeds (did you mean heads?)"),
        "{out}"
    );
    let text = std::fs::read_to_string(&saved).unwrap_or_default();
    assert!(text.contains("# :run heads"), "{out}\n{text}");
}

// 15 ------------------------------------------------------------------

#[cfg(unix)]
#[test]
fn i15_replay_does_not_follow_directory_symlinks() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "one.hgframe",
        &format!(
            "{HEADS}\n< [\"runcommand\", {{\"args\": {{}}, \"command\": \"heads\", \"data\": null, \"redirect\": null, \"requestid\": 1}}]\neof\n< {{\"action\": \"noop\"}}\n"
        ),
    );
    std::os::unix::fs::symlink(dir.path(), dir.path().join("loop")).unwrap();
    let (code, out, _) = run(&["replay", "--color", "never", dir.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        out.lines().last(),
        Some("1 passed, 0 failed"),
        "run once: {out}"
    );
}

// 16 ------------------------------------------------------------------

#[test]
fn i16_replay_keeps_colour_after_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["a.hgframe", "b.hgframe"] {
        write(dir.path(), name, &format!("{HEADS}\n< wrong\neof\n"));
    }
    let junit = dir.path().join("j.xml");
    let (code, out, _) = run(&[
        "replay",
        "--color",
        "always",
        "--junit",
        junit.to_str().unwrap(),
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    let fails: Vec<&str> = out.lines().filter(|l| l.contains("FAIL")).collect();
    assert_eq!(fails.len(), 2, "{out}");
    assert!(
        fails.iter().all(|l| l.contains('\x1b')),
        "both coloured: {fails:?}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(!xml.contains('\x1b'), "JUnit stays plain");
}
