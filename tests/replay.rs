//! `hgframe replay`: the example scripts pass on the local reactor and
//! (0006) on a real Mercurial 6.0; a wrong expectation fails with a diff
//! naming the line; `--update` repairs exactly that line; a malformed
//! script is a caret error (exit 2); JUnit output is valid XML with
//! errors apart from failures; `--json` is one NDJSON stream; results
//! stream as scripts finish; `-` reads stdin; `--quiet`.

mod common;

use std::path::Path;
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;
use common::{HgServer, APICONFIG};

fn hgframe() -> Command {
    let mut c = Command::cargo_bin("hgframe").unwrap();
    c.env("NO_COLOR", "1");
    c
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = hgframe().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn examples() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .display()
        .to_string()
}

fn summary(out: &str) -> &str {
    out.lines().last().unwrap_or("")
}

#[test]
fn examples_pass_on_the_local_reactor() {
    let (code, out, err) = run(&["replay", "--jobs", "2", &examples()]);
    assert_eq!(code, 0, "{out}{err}");
    let n = out.lines().filter(|l| l.starts_with("PASS ")).count();
    assert!(n >= 30, "{n} scripts");
    assert_eq!(summary(&out), format!("{n} passed, 0 failed"));
}

#[test]
fn examples_pass_on_real_mercurial_6_0() {
    let server = HgServer::start(APICONFIG);
    let ex = examples();
    let (code, out, err) = run(&[
        "replay",
        "--url",
        &server.url(),
        &format!("{ex}/0006"),
        &format!("{ex}/local"),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let passed = out
        .lines()
        .filter(|l| l.starts_with("PASS examples") || l.starts_with("PASS /"))
        .count();
    assert!(passed >= 20, "{out}");
    // local-only scripts are skipped with a reason, never counted as passed
    assert!(
        out.contains("SKIP") && out.contains("local reactor only"),
        "{out}"
    );
    assert!(summary(&out).ends_with(" skipped"), "{out}");
    // and the differential mode agrees on every 0006 script
    let (code, out, err) = run(&[
        "replay",
        "--against",
        &format!("local,{}", server.url()),
        &format!("{ex}/0006"),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        summary(&out).starts_with(&format!("{passed} passed, 0 failed")),
        "{out}"
    );
}

#[test]
fn wrong_line_fails_then_update_repairs_only_it() {
    let dir = tempfile::tempdir().unwrap();
    let src =
        std::fs::read_to_string(Path::new(&examples()).join("0006/cmd-args.hgframe")).unwrap();
    let path = dir.path().join("t.hgframe");
    let broken = src.replace("\"foo\": \"val1\"", "\"foo\": \"WRONG\"");
    assert_ne!(broken, src);
    std::fs::write(&path, &broken).unwrap();
    let p = path.to_str().unwrap();
    let (code, out, _) = run(&["replay", p]);
    assert_eq!(code, 1, "{out}");
    let bad_line = broken.lines().position(|l| l.contains("WRONG")).unwrap(); // index of the `<` line
                                                                              // the failure names the step line (the `>` line above the `<` line)
    assert!(
        out.contains(&format!("{p}:{bad_line}: output differs")),
        "{out}"
    );
    assert!(
        out.contains("-< [\"runcommand\", {\"args\": {\"bar1\": \"val\", \"foo\": \"WRONG\"}"),
        "{out}"
    );
    assert!(
        out.contains("+< [\"runcommand\", {\"args\": {\"bar1\": \"val\", \"foo\": \"val1\"}"),
        "{out}"
    );
    assert_eq!(summary(&out), "0 passed, 1 failed");
    let (code, out, _) = run(&["replay", "--update", p]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        src,
        "--update restores the file exactly"
    );
    let (code, out, _) = run(&["replay", p]);
    assert_eq!((code, summary(&out)), (0, "1 passed, 0 failed"));
}

#[test]
fn update_keeps_comments_layout_and_globs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.hgframe");
    let text = "# leading comment\nproto 0006\n\n> cmd heads\n# a comment between steps\n< [\"runcommand\", * (glob)\neof\n< stale\nexpect status 200\n# trailing comment\n";
    std::fs::write(&path, text).unwrap();
    let (code, out, _) = run(&["replay", "--update", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    let after = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        after,
        "# leading comment\nproto 0006\n\n> cmd heads\n< [\"runcommand\", * (glob)\n# a comment between steps\neof\n< {\"action\": \"noop\"}\nexpect status 200\n# trailing comment\n"
    );
}

#[test]
fn malformed_script_is_a_caret_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.hgframe");
    std::fs::write(
        &path,
        "proto 0006\n> 1 1 stream-begin command-request nwe x\neof\n",
    )
    .unwrap();
    let p = path.to_str().unwrap();
    let (code, out, _) = run(&["replay", p]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains(&format!("{p}:2: unknown flag `nwe` for command-request")),
        "{out}"
    );
    assert!(out.contains("did you mean `new`?"), "{out}");
    assert!(out.contains("^^^"), "{out}");
    std::fs::write(&path, "proto 0006\n1 1 0 command-request new x\n").unwrap();
    let (code, out, _) = run(&["replay", p]);
    assert_eq!(code, 2);
    assert!(
        out.contains(":2: unknown script line `1`") && out.contains("start with `> `"),
        "{out}"
    );
    std::fs::write(&path, "> cmd heads\n").unwrap();
    let (code, out, _) = run(&["replay", p]);
    assert_eq!(code, 2);
    assert!(out.contains("ends in the middle of a request"), "{out}");
}

#[test]
fn junit_is_valid_xml_and_counts() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("suite").join("part");
    std::fs::create_dir_all(&sub).unwrap();
    let ok = sub.join("ok.hgframe");
    std::fs::write(
        &ok,
        "> cmd heads\n< [\"runcommand\", * (glob)\neof\n< {\"action\": \"noop\"}\n",
    )
    .unwrap();
    let bad = sub.join("bad.hgframe");
    std::fs::write(
        &bad,
        "> cmd heads\n< [\"runcommand\", * (glob)\neof\n< {\"action\": \"other\"} <&>\n",
    )
    .unwrap();
    // A script that cannot run (it does not parse) is an error, not a
    // failure.
    let broken = sub.join("broken.hgframe");
    std::fs::write(&broken, "> 1 1 stream-begin command-request nwe x\neof\n").unwrap();
    let xml = dir.path().join("r.xml");
    let (code, out, _) = run(&[
        "replay",
        "--junit",
        xml.to_str().unwrap(),
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert_eq!(summary(&out), "1 passed, 2 failed");
    let text = std::fs::read_to_string(&xml).unwrap();
    let doc = roxmltree::Document::parse(&text).expect("JUnit XML parses");
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .unwrap();
    assert_eq!(suite.attribute("tests"), Some("3"));
    assert_eq!(suite.attribute("failures"), Some("1"));
    assert_eq!(suite.attribute("errors"), Some("1"));
    assert!(suite.attribute("timestamp").is_some(), "{text}");
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 3);
    let classname = format!(
        "{}.suite.part",
        dir.path()
            .to_str()
            .unwrap()
            .trim_start_matches('/')
            .replace('/', ".")
    );
    for c in &cases {
        assert_eq!(c.attribute("classname"), Some(classname.as_str()), "{text}");
        let t: f64 = c.attribute("time").unwrap().parse().unwrap();
        assert!(t >= 0.0);
        // RFC 3339, as JUnit consumers read it
        let ts = c.attribute("timestamp").unwrap();
        assert!(ts.len() >= 19 && ts.as_bytes()[10] == b'T', "{ts}");
    }
    let case = |name: &str| {
        cases
            .iter()
            .find(|c| c.attribute("name").unwrap().ends_with(name))
            .unwrap()
    };
    let failure = case("bad.hgframe")
        .children()
        .find(|n| n.has_tag_name("failure"))
        .expect("a mismatch is a <failure>");
    assert_eq!(failure.attribute("message"), Some("output differs"));
    assert_eq!(failure.attribute("type"), Some("mismatch"));
    assert!(failure.text().unwrap_or("").contains("<&>"));
    let error = case("broken.hgframe")
        .children()
        .find(|n| n.has_tag_name("error"))
        .expect("a script that cannot run is an <error>");
    assert_eq!(error.attribute("type"), Some("parse"));
    assert!(error
        .attribute("message")
        .unwrap()
        .contains("unknown flag `nwe`"));
    assert!(case("ok.hgframe").children().all(|n| !n.is_element()));
    // --json: one event per script, then the summary event; every line is
    // JSON (jq reads the stream)
    let (_, out, _) = run(&["replay", "--json", dir.path().to_str().unwrap()]);
    let v = common::ndjson(&out);
    assert_eq!(v.len(), 4, "{out}");
    for e in &v[..3] {
        assert_eq!(e["event"], "script");
        assert!(
            e["result"] == "passed" || e["result"] == "failed" || e["result"] == "error",
            "{e}"
        );
    }
    let last = &v[3];
    assert_eq!(last["event"], "summary");
    assert_eq!(last["passed"], 1);
    assert_eq!(last["failed"], 2);
    assert_eq!(last["exit"], 2);
}

/// `--update` reports through the same stream: an `updated` event, and
/// with --json no plain line anywhere.
#[test]
fn json_update_is_events_only() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("u.hgframe");
    std::fs::write(
        &f,
        "> cmd heads\n< [\"runcommand\", * (glob)\neof\n< {\"action\": \"other\"}\n",
    )
    .unwrap();
    let (code, out, err) = run(&["replay", "--json", "--update", f.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    let v = common::ndjson(&out);
    assert_eq!(v.len(), 2, "{out}");
    assert_eq!(v[0]["event"], "script");
    assert_eq!(v[0]["result"], "updated");
    assert_eq!(v[1]["event"], "summary");
    assert_eq!(v[1]["updated"], 1);
    assert_eq!(v[1]["passed"], 1);
    assert!(std::fs::read_to_string(&f)
        .unwrap()
        .contains("< {\"action\": \"noop\"}"));
}

/// `replay -` runs one transcript from stdin; it cannot be updated.
#[test]
fn a_transcript_on_stdin() {
    use std::io::Write;
    let run_stdin = |args: &[&str], script: &str| {
        let mut c = hgframe()
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        c.stdin
            .take()
            .unwrap()
            .write_all(script.as_bytes())
            .unwrap();
        let o = c.wait_with_output().unwrap();
        (
            o.status.code().unwrap(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let good = "> cmd heads\n< [\"runcommand\", * (glob)\neof\n< {\"action\": \"noop\"}\n";
    let (code, out, err) = run_stdin(&["replay", "-"], good);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.starts_with("PASS <stdin> (1 requests, 1 frames)\n"),
        "{out}"
    );
    assert_eq!(summary(&out), "1 passed, 0 failed");
    let (code, out, _) = run_stdin(&["replay", "-"], &good.replace("noop", "other"));
    assert_eq!(code, 1);
    assert!(out.contains("<stdin>:3: output differs"), "{out}");
    let (code, _, err) = run_stdin(&["replay", "--update", "-"], good);
    assert_eq!(code, 2);
    assert!(err.contains("no file to rewrite"), "{err}");
}

/// --quiet: no PASS lines, failures and the summary still shown.
#[test]
fn quiet_shows_failures_only() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a-ok.hgframe"),
        "> cmd heads\n< [\"runcommand\", * (glob)\neof\n< {\"action\": \"noop\"}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("b-bad.hgframe"),
        "> cmd heads\n< [\"runcommand\", * (glob)\neof\n< {\"action\": \"other\"}\n",
    )
    .unwrap();
    let d = dir.path().to_str().unwrap();
    let (code, out, _) = run(&["replay", "-q", d]);
    assert_eq!(code, 1);
    assert!(!out.contains("PASS"), "{out}");
    assert!(out.starts_with("FAIL "), "{out}");
    assert_eq!(summary(&out), "1 passed, 1 failed");
    let (_, out, _) = run(&["replay", "--quiet", "--json", d]);
    let v = common::ndjson(&out);
    assert_eq!(v.len(), 2, "{out}");
    assert_eq!(v[0]["result"], "failed");
    assert_eq!(v[1]["event"], "summary");
}

/// Each script is reported when it finishes, not when all have: the
/// second script's request is held by the server until the first
/// script's line has been read from hgframe's stdout.
#[test]
fn results_stream_as_scripts_finish() {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;
    use std::sync::mpsc;
    use std::time::Duration;

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let (release_tx, release_rx) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        let mut posts = 0;
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { break };
            // the head, then the body by its length
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                if conn.read(&mut byte).unwrap_or(0) == 0 {
                    break;
                }
                head.push(byte[0]);
            }
            let head = String::from_utf8_lossy(&head).to_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap_or(0));
            let mut body = vec![0u8; len];
            let _ = conn.read_exact(&mut body);
            if head.starts_with("post") {
                posts += 1;
                if posts == 2 {
                    // hold the second script until the first is reported
                    let _ = release_rx.recv_timeout(Duration::from_secs(60));
                }
                let body = b"[\"runcommand\", {}]\n{\"action\": \"noop\"}\n";
                let _ = write!(
                    conn,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = conn.write_all(body);
            } else {
                let _ = conn.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            }
        }
    });
    let dir = tempfile::tempdir().unwrap();
    for name in ["a.hgframe", "b.hgframe"] {
        std::fs::write(
            dir.path().join(name),
            "> cmd heads\neof\n< {\"action\": \"noop\"}\n",
        )
        .unwrap();
    }
    let mut child = hgframe()
        .args(["replay", "--proto", "0006", "--url", &url])
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let (line_tx, line_rx) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        let mut l = String::new();
        let _ = stdout.read_line(&mut l);
        let _ = line_tx.send(l);
        let mut rest = String::new();
        let _ = stdout.read_to_string(&mut rest);
    });
    // Without streaming the first line would wait for the second script,
    // which waits for this line: the timeout says so.
    let first = line_rx.recv_timeout(Duration::from_secs(30));
    let _ = release_tx.send(());
    let status = child.wait().unwrap();
    let first = first.expect("the first script was not reported before the second finished");
    assert!(first.contains("a.hgframe"), "{first}");
    assert!(status.code().is_some());
}

#[test]
fn examples_pass_on_hgframe_serve() {
    use hgframe::server::{start, LogTarget, ServeOptions};
    use hgframe::wire::proto::release;
    let ex = examples();
    let mut total = 0;
    // Each revision's scripts on `hgframe serve` in each flavour a release
    // speaks it in: a script may only be skipped for naming other releases
    // (`hg ...`), and must pass on at least one of them.
    for (dir, protos) in [
        (
            "0006",
            vec![
                hgframe::Proto::P0006,
                release("4.8").unwrap().proto,
                release("5.0-py2").unwrap().proto,
            ],
        ),
        ("0005", vec![hgframe::Proto::P0005]),
        ("0002", vec![hgframe::Proto::P0002]),
        ("0001", vec![hgframe::Proto::P0001]),
    ] {
        let mut passed_somewhere = std::collections::BTreeSet::new();
        let mut scripts = std::collections::BTreeSet::new();
        for proto in protos {
            let mut opts = ServeOptions::new(proto);
            opts.log = LogTarget::Silent;
            let server = start(opts).expect("hgframe serve starts");
            let (code, out, err) = run(&["replay", "--url", &server.url(), &format!("{ex}/{dir}")]);
            assert_eq!(code, 0, "{dir} as {proto:?}: {out}{err}");
            for l in out.lines() {
                if let Some(rest) = l.strip_prefix("PASS ") {
                    let f = rest.split(' ').next().unwrap_or("").to_string();
                    scripts.insert(f.clone());
                    passed_somewhere.insert(f);
                } else if let Some(rest) = l.strip_prefix("SKIP ") {
                    let (f, why) = rest.split_once(": ").unwrap_or((rest, ""));
                    assert!(
                        why.starts_with("the script's expectations are"),
                        "{dir} as {proto:?}: {l}"
                    );
                    scripts.insert(f.to_string());
                }
            }
            let passed = out.lines().filter(|l| l.starts_with("PASS ")).count();
            let skipped = out.lines().filter(|l| l.starts_with("SKIP ")).count();
            let want = if skipped > 0 {
                format!("{passed} passed, 0 failed, {skipped} skipped")
            } else {
                format!("{passed} passed, 0 failed")
            };
            assert_eq!(summary(&out), want);
            assert!(passed >= 8, "{dir}: {out}");
            server.shutdown();
        }
        let never: Vec<_> = scripts.difference(&passed_somewhere).collect();
        assert!(never.is_empty(), "{dir}: never run: {never:?}");
        total += passed_somewhere.len();
    }
    assert!(total >= 50, "{total}");
}

#[test]
fn hg_directive_names_releases_or_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    for (body, want) in [
        (
            "hg 4.5\n> 1 1 stream-begin command-request new cbor:{b'name': b'x'}\neof\n",
            "has no frame protocol",
        ),
        ("hg 6.1\neof\n", "6.1 removed"),
        (
            "hg 4.7 6.0\neof\n",
            "speaks another revision than the first release named",
        ),
        ("hg\neof\n", "hg needs a release"),
    ] {
        let p = dir.path().join("bad.hgframe");
        std::fs::write(&p, body).unwrap();
        let (code, out, err) = run(&["replay", "--color", "never", p.to_str().unwrap()]);
        assert_eq!(code, 2, "{body}: {out}{err}");
        assert!(
            out.contains(want) || err.contains(want),
            "{body}: {out}{err}"
        );
    }
    // the first release decides the local run: Python 2 literals for 4.7
    let p = dir.path().join("ok.hgframe");
    std::fs::write(
        &p,
        "hg 4.7\n> 1 1 stream-begin command-request new cbor:{'name': 'x'}\n< [\"runcommand\", {\"args\": {}, \"command\": \"x\", \"data\": null, \"requestid\": 1}]\neof\n< {\"action\": \"noop\"}\n",
    )
    .unwrap();
    let (code, out, err) = run(&["replay", "--color", "never", p.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
}
