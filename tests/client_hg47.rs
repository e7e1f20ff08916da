//! The 0005 client reactor (Mercurial 4.6/4.7) against Mercurial 4.7.2's
//! own client code.
//!
//! * Offline: `tests/data/hg47/client-cases/` holds exchanges whose request
//!   bodies 4.7.2's client wrote and whose responses exercise what a live
//!   server does not send (split and interleaved values, shared values,
//!   bad CBOR, error-response frames, refused frame types and flags,
//!   unknown streams and requests, bodies that end early), each decoded by
//!   `tests/support/hgdecode47.py` (4.7.2's clientreactor and
//!   wireprotov2peer). hgframe must reproduce every request body byte for
//!   byte, give every frame the same verdict, decode the same objects and
//!   data errors, and stop where the 4.7.2 client stops.
//!   `scripts/gen-hg47-client-cases.py` regenerates the directory.
//! * Live: a real 4.7.2 `hg serve`, a real 4.7.2 client
//!   (`hg debugwireproto --peer http2`, and `tests/support/hg47multirequest.py`
//!   for a multirequest) through the recording proxy; the recording is
//!   decoded by hgdecode47.py and by hgframe and compared the same way, the
//!   bodies `hgframe send` builds for the same commands must be the
//!   recorded ones, and `hgframe send` against the server prints the same
//!   answers. The live test also checks that the committed cases are what
//!   the generator writes now.
//!
//! Needs Mercurial 4.7.2 (`scripts/hg-install.sh 4.7.2`, run by the test)
//! and python3 for the proxy; fails, never skips, when something is
//! missing.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use assert_cmd::cargo::CommandCargoExt;
use common::oracle::compare_recording;
use common::{hg_release_path, spawn_reporting_port, HgServer, APICONFIG};
use hgframe::human::args::parse_commands;
use hgframe::remote::send;
use hgframe::Proto;

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/hg47/client-cases")
}

fn support(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/support")
        .join(name)
}

#[test]
fn the_cases_decode_as_4_7_2_decodes_them() {
    let r = compare_recording(&cases_dir());
    eprintln!(
        "{} exchanges, {} frames, {} objects compared, {} request bodies reproduced",
        r.exchanges, r.frames, r.objects, r.reproduced
    );
    assert!(r.mismatches.is_empty(), "{}", r.mismatches.join("\n"));
    assert_eq!(r.exchanges, 16);
    assert_eq!(r.reproduced, 16);
    assert!(
        r.frames >= 45 && r.objects >= 35,
        "{} {}",
        r.frames,
        r.objects
    );
    // The cases reach what they are for: the 4.7.2 client stops, raises,
    // refuses and fails to read data somewhere.
    let mut stopped = 0;
    let mut data_errors = 0;
    let mut raises = 0;
    for e in std::fs::read_dir(cases_dir()).unwrap() {
        let p = e.unwrap().path();
        if !p.to_string_lossy().ends_with(".decoded.json") {
            continue;
        }
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
        stopped += !v["stopped"].is_null() as usize;
        data_errors += v["responses"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| !r["data_error"].is_null())
            .count();
        raises += v["frames"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f.get("raises").is_some())
            .count();
    }
    assert!(
        stopped >= 5 && data_errors >= 7 && raises >= 9,
        "stopped {stopped}, data errors {data_errors}, raises {raises}"
    );
}

/// The comparison is not vacuous for what only the 4.7.2 oracle says.
#[test]
fn the_comparison_notices_differences() {
    let tmp = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(cases_dir()).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, tmp.path().join(p.file_name().unwrap())).unwrap();
    }
    let edit = |name: &str, f: &dyn Fn(&mut serde_json::Value)| {
        let p = tmp.path().join(name);
        let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
        f(&mut v);
        std::fs::write(&p, serde_json::to_vec(&v).unwrap()).unwrap();
    };
    edit("007.decoded.json", &|v| {
        v["stopped"] = serde_json::Value::Null
    });
    edit("012.decoded.json", &|v| {
        v["responses"][1]["data_error"] = serde_json::json!("CBORDecodeError: other")
    });
    edit("009.decoded.json", &|v| {
        v["frames"][0]["raises"] = serde_json::json!("ProgrammingError: other")
    });
    edit("014.decoded.json", &|v| {
        v["responses"][0]["objects"][2] = serde_json::json!(2.5)
    });
    // a trailing byte no Mercurial client sends
    let mut req = std::fs::read(tmp.path().join("005.req.bin")).unwrap();
    req.push(0);
    std::fs::write(tmp.path().join("005.req.bin"), req).unwrap();
    let all = compare_recording(tmp.path()).mismatches.join("\n");
    for (seq, what) in [
        ("007", "stopped"),
        ("012", "data error"),
        ("009", "raises"),
        ("014", "object 2"),
        ("005", "does not reproduce"),
    ] {
        assert!(
            all.lines().any(|l| l.starts_with(seq) && l.contains(what)),
            "{seq} {what}:\n{all}"
        );
    }
}

/// A child process killed (by its pid) and reaped when dropped.
struct KillOnDrop(Option<std::process::Child>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(c) = &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn run(cmd: &mut Command, what: &str) -> std::process::Output {
    let out = cmd
        .env("HGRCPATH", "")
        .env("HGPLAIN", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `b'\xNN...'` for a hex node, as debugwireproto's `eval:` reads it.
fn pybytes(hex: &str) -> String {
    let body: String = hex
        .as_bytes()
        .chunks(2)
        .map(|c| format!("\\x{}", std::str::from_utf8(c).unwrap()))
        .collect();
    format!("b'{body}'")
}

const UNKNOWN: &str = "00112233445566778899aabbccddeeff00112233";

#[test]
fn a_real_4_7_2_client_and_server_agree_with_hgframe() {
    let t0 = Instant::now();
    let hg = hg_release_path("4.7.2");
    let python = hg.with_file_name("python");
    // The committed cases are what 4.7.2 makes of them today.
    run(
        Command::new(&python)
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/gen-hg47-client-cases.py"))
            .arg("--check"),
        "scripts/gen-hg47-client-cases.py --check",
    );
    let server = HgServer::start_hg(&hg, APICONFIG, |repo| {
        let sh = |args: &[&str]| {
            run(Command::new(&hg).args(args).current_dir(repo), "hg");
        };
        std::fs::write(repo.join("a"), "a\n").unwrap();
        sh(&["commit", "-q", "-A", "-m", "a", "-u", "t", "-d", "0 0"]);
        sh(&["tag", "-u", "t", "-d", "0 0", "v1.0"]);
        sh(&["bookmark", "bm"]);
        sh(&["branch", "-q", "stable"]);
        std::fs::write(repo.join("b"), "b\n").unwrap();
        sh(&["commit", "-q", "-A", "-m", "b", "-u", "t", "-d", "0 0"]);
        sh(&["phase", "-p", "0"]);
    });
    let tip = String::from_utf8(
        run(
            Command::new(&hg).args([
                "-R",
                server.repo.to_str().unwrap(),
                "log",
                "-r",
                "tip",
                "-T",
                "{node}",
            ]),
            "hg log",
        )
        .stdout,
    )
    .unwrap();
    let work = tempfile::tempdir().unwrap();
    let rec = work.path().join("rec");
    std::fs::create_dir_all(&rec).unwrap();
    let mut proxy = Command::new("python3");
    proxy
        .arg(support("recproxy.py"))
        .args(["--upstream", &server.url(), "--dir"])
        .arg(&rec)
        .stderr(Stdio::inherit());
    let (proxy, port) = spawn_reporting_port(proxy, "recproxy.py");
    let mut proxy = KillOnDrop(Some(proxy));
    let url = format!("http://127.0.0.1:{port}/");

    // One command per request, as 4.7.2's debugwireproto sends them.
    let script = format!(
        "command heads\n\
         command capabilities\n\
         command known\n    nodes eval:[{}, {}]\n\
         command listkeys\n    namespace bookmarks\n\
         command listkeys\n    namespace namespaces\n\
         command branchmap\n\
         command lookup\n    key v1.0\n\
         command pushkey\n    namespace bookmarks\n    key new\n    old\n    new {tip}\n",
        pybytes(&tip),
        pybytes(UNKNOWN)
    );
    let mut dw = Command::new(&hg)
        .args(["debugwireproto", "--peer", "http2", &url])
        .env("HGRCPATH", "")
        .env("HGPLAIN", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run hg debugwireproto");
    use std::io::Write;
    dw.stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = dw.wait_with_output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "hg debugwireproto: {text}");
    assert_eq!(text.matches("response: ").count(), 8, "{text}");
    run(
        Command::new(&python)
            .arg(support("hg47multirequest.py"))
            .arg(&url),
        "hg47multirequest.py",
    );
    // SIGTERM: the proxy finishes what is in flight and exits 0.
    let mut child = proxy.0.take().unwrap();
    let st = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(st.success());
    assert!(child.wait().unwrap().success(), "recproxy.py failed");

    run(
        Command::new(&python)
            .arg(support("hgdecode47.py"))
            .arg("-q")
            .arg(&rec),
        "hgdecode47.py",
    );
    let r = compare_recording(&rec);
    eprintln!(
        "{} exchanges, {} frames, {} objects compared, {} request bodies reproduced; commands {:?}",
        r.exchanges, r.frames, r.objects, r.reproduced, r.commands
    );
    assert!(r.mismatches.is_empty(), "{}", r.mismatches.join("\n"));
    assert_eq!(r.reproduced, 9, "8 single commands and a multirequest");
    for c in [
        "heads",
        "known",
        "listkeys",
        "branchmap",
        "lookup",
        "pushkey",
        "multirequest",
    ] {
        assert!(
            r.commands.iter().any(|x| x == c),
            "no {c}: {:?}",
            r.commands
        );
    }

    // The bodies send builds from command-line arguments are the ones the
    // 4.7.2 client sent, and go to the same URL.
    let mut recorded = Vec::new();
    for e in std::fs::read_dir(&rec).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name.len() == 8 && name.ends_with(".json") {
            let meta: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
            let target = meta["target"].as_str().unwrap().to_string();
            if target.starts_with("/api/") {
                let body = std::fs::read(p.with_extension("req.bin")).unwrap();
                recorded.push((target, body));
            }
        }
    }
    let known = format!("nodes=hexlist:{tip},{UNKNOWN}");
    let pushkey_new = format!("new={tip}");
    let calls: Vec<(&str, Vec<&str>)> = vec![
        ("ro/heads", vec!["heads"]),
        ("ro/capabilities", vec!["capabilities"]),
        ("ro/known", vec!["known", &known]),
        ("ro/listkeys", vec!["listkeys", "namespace=bookmarks"]),
        ("ro/listkeys", vec!["listkeys", "namespace=namespaces"]),
        ("ro/branchmap", vec!["branchmap"]),
        ("ro/lookup", vec!["lookup", "key=v1.0"]),
        (
            "rw/pushkey",
            vec![
                "pushkey",
                "namespace=bookmarks",
                "key=new",
                "old=",
                &pushkey_new,
            ],
        ),
        (
            "ro/multirequest",
            vec![
                "heads",
                "+",
                "listkeys",
                "namespace=phases",
                "+",
                "branchmap",
            ],
        ),
    ];
    for (path, words) in &calls {
        let words: Vec<String> = words.iter().map(|s| s.to_string()).collect();
        let cmds = parse_commands(&words).unwrap();
        let p = send::prepare(Proto::P0005, &cmds, &["identity".to_string()], None).unwrap();
        let target = format!("/api/exp-http-v2-0001/{path}");
        assert!(
            path.ends_with(&p.url_command),
            "{words:?}: send posts to {}",
            p.url_command
        );
        assert!(
            recorded.iter().any(|(t, b)| *t == target && *b == p.body),
            "{words:?}: send's body {} is not one 4.7.2 sent to {target}",
            hgframe::python::escape::hex(&p.body)
        );
    }

    // hgframe send against the server itself.
    let out = Command::cargo_bin("hgframe")
        .unwrap()
        .args(["send", &server.url(), "heads", "+", "lookup", "key=v1.0"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("request 1: ok") && text.contains("request 3: ok"),
        "{text}"
    );
    assert!(text.contains(&tip), "{text}");
    let log = server.error_log();
    assert!(!log.contains("Traceback"), "hg serve's error log:\n{log}");
    eprintln!("{:.1} s", t0.elapsed().as_secs_f64());
}
