//! `--json` on the commands that watch a server: `doctor --json` (a
//! `check` event per step, a `summary` last) and `serve --json` (the
//! access log as `access` events between `listening` and `shutdown`).
//! Every line is JSON and `jq -c .` reads the stream.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use assert_cmd::cargo::CommandCargoExt;
use hgframe::server::{start, LogTarget, ServeOptions};

#[test]
fn doctor_json_is_one_event_per_step_then_the_summary() {
    let mut opts = ServeOptions::new(hgframe::Proto::P0006);
    opts.log = LogTarget::Silent;
    let server = start(opts).expect("hgframe serve starts");
    let out = Command::cargo_bin("hgframe")
        .unwrap()
        .args(["doctor", "--json", &server.url()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let v = common::ndjson(&text);
    let checks = common::events(&v, "check");
    assert!(checks.len() >= 5, "{text}");
    assert!(checks.iter().all(|c| c["result"] == "ok"), "{text}");
    assert!(checks[0]["message"]
        .as_str()
        .unwrap()
        .contains("is a Mercurial server"));
    let last = v.last().unwrap();
    assert_eq!(last["event"], "summary");
    assert_eq!(last["verdict"], "healthy");
    assert_eq!(last["exit"], 0);
    assert_eq!(checks.len() + 1, v.len());

    // A server without debugreflect: failed checks carry their fixes.
    let mut opts = ServeOptions::new(hgframe::Proto::P0006);
    opts.log = LogTarget::Silent;
    opts.reflect = false;
    let server = start(opts).expect("hgframe serve starts");
    let out = Command::cargo_bin("hgframe")
        .unwrap()
        .args(["doctor", "--json", &server.url()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    let text = String::from_utf8(out.stdout).unwrap();
    let v = common::ndjson(&text);
    let failed: Vec<_> = common::events(&v, "check")
        .into_iter()
        .filter(|c| c["result"] == "failed")
        .collect();
    assert!(!failed.is_empty(), "{text}");
    assert!(failed[0]["fixes"].as_array().is_some_and(|f| !f.is_empty()));
    assert_eq!(v.last().unwrap()["verdict"], "broken");
}

#[test]
fn serve_json_is_the_access_log_as_events() {
    let mut child = Command::cargo_bin("hgframe")
        .unwrap()
        .args(["serve", "--json", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let listening: serde_json::Value = serde_json::from_str(&first).unwrap();
    assert_eq!(listening["event"], "listening");
    assert_eq!(listening["proto"], "0006");
    let url = listening["url"].as_str().unwrap().to_string();
    let port: u16 = url
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let r = common::http(port, "GET", "/api/", &[], b"");
    assert_eq!(r.status, 200);
    let r = common::post_reflect_as(port, "exp-http-v2-0003%1b", common::MEDIA_0006, b"");
    assert_eq!(r.status, 404);
    let r = common::post_reflect(port, b"\x01\x00");
    assert_eq!(r.status, 500);
    // two access events, then SIGTERM
    let mut lines = vec![first.clone()];
    for _ in 0..3 {
        let mut l = String::new();
        stdout.read_line(&mut l).unwrap();
        lines.push(l);
    }
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(err, "", "--json writes nothing but events");
    let all = lines.concat() + &rest;
    let v = common::ndjson(&all);
    let access = common::events(&v, "access");
    assert_eq!(access.len(), 3, "{all}");
    assert_eq!(access[0]["method"], "GET");
    assert_eq!(access[0]["target"], "/api/");
    assert_eq!(access[0]["status"], 200);
    assert_eq!(access[0]["remote"], "127.0.0.1");
    assert_eq!(access[0]["version"], "HTTP/1.1");
    assert!(access[0]["ms"].as_f64().is_some());
    let time = access[0]["time"].as_str().unwrap();
    assert!(time.ends_with('Z') && time.as_bytes()[10] == b'T', "{time}");
    assert_eq!(
        access[1]["target"],
        "/api/exp-http-v2-0003%1b/ro/debugreflect"
    );
    assert_eq!(access[1]["status"], 404);
    assert_eq!(access[2]["status"], 500);
    assert!(access[2]["note"].is_string(), "{all}");
    let last = v.last().unwrap();
    assert_eq!(last["event"], "shutdown");
    assert_eq!(last["reason"], "SIGTERM received");
}
