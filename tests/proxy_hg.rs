//! `hgframe proxy` between a real Mercurial 6.0 client and a real `hg
//! serve` 6.0: the clone succeeds through it and verifies, the proxy's
//! JSON events name every command the clone sends and the objects the
//! client decodes (the heads' node ids among them), the local reactor and
//! the client reactor agree with the real server (no disagreement, nothing
//! refused), and the transcript `--record` writes replays green against
//! the same server. Once per encoder order, as the server picks it:
//! zstd-8mb, zlib (zstd-8mb left out: the server prefers it whatever the
//! client's order) and identity.
//!
//! Needs Mercurial 6.0 (`scripts/hg-venv.sh` installs it) and fails,
//! never skips, when something is missing.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{hg_path, HgServer};
use serde_json::Value as J;

const ORDERS: [(&str, &str); 3] = [
    ("zstd-8mb,zlib,identity", "zstd-8mb"),
    ("zlib,identity", "zlib"),
    ("identity", "identity"),
];

const TIP: &str = "f564081688cfbb6f9698733ee79e6ad4e21eede3";

fn python() -> PathBuf {
    let py = hg_path().parent().unwrap().join("python3");
    assert!(
        py.exists(),
        "{} is missing: the Mercurial 6.0 venv from scripts/hg-venv.sh has no python3",
        py.display()
    );
    py
}

fn hgframe() -> Command {
    let mut c = Command::new(assert_cmd::cargo::cargo_bin("hgframe"));
    c.env("NO_COLOR", "1");
    c
}

fn check(out: &std::process::Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A running `hgframe proxy --json`: its port, its events (stdout lines)
/// collected by a thread, killed by its pid if a test fails first.
struct Proxy {
    child: Option<Child>,
    port: u16,
    events: mpsc::Receiver<String>,
    stderr: mpsc::Receiver<String>,
}

impl Proxy {
    fn start(upstream: &str, record: &Path) -> Proxy {
        let mut child = hgframe()
            .args([
                "proxy",
                "--json",
                "--listen",
                "127.0.0.1:0",
                "--upstream",
                upstream,
                "--record",
            ])
            .arg(record)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start hgframe proxy");
        let (etx, events) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = etx.send(l);
            }
        });
        let (stx, stderr) = mpsc::channel();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for l in BufReader::new(err).lines().map_while(Result::ok) {
                let _ = stx.send(l);
            }
        });
        let first = stderr
            .recv_timeout(Duration::from_secs(30))
            .expect("hgframe proxy did not say where it listens within 30 s");
        let port = first
            .split("http://127.0.0.1:")
            .nth(1)
            .and_then(|r| r.split('/').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line from hgframe proxy: {first:?}"));
        Proxy {
            child: Some(child),
            port,
            events,
            stderr,
        }
    }

    /// SIGTERM; the proxy writes its transcript and exits 0. Its events
    /// and the rest of its stderr.
    fn stop(mut self) -> (Vec<J>, String) {
        let mut child = self.child.take().unwrap();
        let st = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(st.success(), "kill -TERM {} failed", child.id());
        let st = child.wait().unwrap();
        // The reader threads end at the pipes' EOF: waiting for them (not
        // try_iter) keeps the last lines, written just before exit
        // (`recorded ...`), from being lost to the race.
        let err: Vec<String> = self.stderr.iter().collect();
        assert!(
            st.success(),
            "hgframe proxy exited with {st}: {}",
            err.join("\n")
        );
        let events = self
            .events
            .iter()
            .map(|l| serde_json::from_str(&l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect();
        (events, err.join("\n"))
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(c) = &mut self.child {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The hex of every 20-byte value in the JSON objects (node ids).
fn nodes(v: &J, out: &mut Vec<String>) {
    match v {
        J::Object(m) => {
            if let Some(J::String(h)) = m.get("hex") {
                out.push(h.clone());
            }
            m.values().for_each(|x| nodes(x, out));
        }
        J::Array(a) => a.iter().for_each(|x| nodes(x, out)),
        _ => {}
    }
}

fn clone_through_proxy(work: &Path, repo: &Path, order: &str, encoding: &str) {
    let t = Instant::now();
    let server = HgServer::serve_repo(
        repo,
        &[
            "experimental.web.apiserver=true",
            "experimental.web.api.http-v2=true",
            "experimental.web.api.debugreflect=true",
        ],
    );
    let dir = work.join(order.replace(',', "+"));
    std::fs::create_dir_all(&dir).unwrap();
    let record = dir.join("clone.hgframe");
    let proxy = Proxy::start(&server.url(), &record);
    let url = format!("http://127.0.0.1:{}/", proxy.port);
    let clone = dir.join("clone");
    let out = Command::new(hg_path())
        .args(["clone", "-U", &url])
        .arg(&clone)
        .args(["--config", "experimental.httppeer.advertise-v2=true"])
        .args([
            "--config",
            &format!("experimental.httppeer.v2-encoder-order={order}"),
        ])
        .env("HGRCPATH", "")
        .env("HGPLAIN", "1")
        .output()
        .expect("run hg clone");
    check(&out, &format!("hg clone through the proxy ({order})"));
    let out = Command::new(hg_path())
        .args(["-R"])
        .arg(&clone)
        .arg("verify")
        .env("HGRCPATH", "")
        .env("HGPLAIN", "1")
        .output()
        .expect("run hg verify");
    check(&out, "hg verify of the clone");
    let (events, stderr) = proxy.stop();

    // Every command of a clone, named by the proxy.
    let mut commands: Vec<String> = Vec::new();
    for e in &events {
        if e["event"] == "request" {
            if let Some(cs) = e["commands"].as_array() {
                commands.extend(cs.iter().filter_map(|c| c.as_str().map(String::from)));
            }
        }
    }
    for c in [
        "heads",
        "known",
        "changesetdata",
        "manifestdata",
        "filesdata",
    ] {
        assert!(
            commands.iter().any(|x| x == c),
            "{order}: no {c} in {commands:?}"
        );
    }
    // The server's encoding, as the client reactor decoded it.
    let encodings: Vec<&str> = events
        .iter()
        .filter(|e| e["event"] == "client")
        .filter_map(|e| e["verdict"]["encoding"].as_str())
        .collect();
    assert!(!encodings.is_empty(), "{order}: no stream settings seen");
    assert!(
        encodings.iter().all(|e| *e == encoding),
        "{order}: {encodings:?}"
    );
    // Objects the client decoded: the heads (node ids as hex), and many.
    let objects: Vec<&J> = events.iter().filter(|e| e["event"] == "object").collect();
    assert!(
        objects.len() > 100,
        "{order}: only {} objects",
        objects.len()
    );
    let mut hexes = Vec::new();
    for o in &objects {
        nodes(&o["value"], &mut hexes);
    }
    assert!(
        hexes.iter().any(|h| h == TIP),
        "{order}: the tip {TIP} is not among the decoded objects"
    );
    // Nothing refused, nothing the local reactor predicts differently.
    for e in &events {
        assert_ne!(e["event"], "disagreement", "{order}: {e}");
        assert_ne!(e["event"], "client_stops", "{order}: {e}");
        assert_ne!(e["event"], "failed", "{order}: {e}");
        if e["event"] == "client" {
            assert!(e["verdict"]["refused"].is_null(), "{order}: {e}");
        }
    }
    let summaries: Vec<&J> = events
        .iter()
        .filter(|e| e["event"] == "client_summary")
        .collect();
    for s in &summaries {
        for r in s["requests"].as_array().unwrap() {
            assert_eq!(r["complete"], true, "{order}: {s}");
            assert_eq!(r["status"], "ok", "{order}: {s}");
        }
    }
    assert!(stderr.contains("recorded"), "{order}: {stderr}");

    // The recorded transcript replays green against the same server.
    let out = hgframe()
        .args(["replay", "--url", &server.url()])
        .arg(&record)
        .output()
        .expect("run hgframe replay");
    check(
        &out,
        &format!("replay of the recorded transcript ({order})"),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("1 passed, 0 failed"), "{order}: {text}");
    eprintln!(
        "{order}: {} events, {} objects, {} commands, {:.1} s",
        events.len(),
        objects.len(),
        commands.len(),
        t.elapsed().as_secs_f64()
    );
}

#[test]
fn a_real_clone_through_the_proxy() {
    let work = tempfile::tempdir().unwrap();
    let repo = work.path().join("repo");
    let out = Command::new(python())
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/mkrepo.py"))
        .arg(&repo)
        .env("HGRCPATH", "")
        .env("HGPLAIN", "1")
        .output()
        .expect("run mkrepo.py");
    check(&out, "tests/support/mkrepo.py");
    let mut s = String::new();
    let _ = out.stdout.as_slice().read_to_string(&mut s);
    assert!(s.contains(TIP), "the fixture's tip is not {TIP}: {s}");
    // One server per order (see tests/clone_hg.rs: concurrent first
    // requests race in Mercurial's lazy imports).
    std::thread::scope(|sc| {
        let hs: Vec<_> = ORDERS
            .iter()
            .map(|(order, enc)| {
                let (w, r) = (work.path(), repo.as_path());
                sc.spawn(move || clone_through_proxy(w, r, order, enc))
            })
            .collect();
        for h in hs {
            if let Err(e) = h.join() {
                std::panic::resume_unwind(e);
            }
        }
    });
}
