//! Real clones over protocol v2, decoded offline and checked against
//! Mercurial's own decoders.
//!
//! Builds the fixture repository (`tests/support/mkrepo.py`: history, a
//! branch, bookmarks, a tag, a 210 KB file), serves it with a real `hg
//! serve` 6.0 on 127.0.0.1, and for each encoder order — `zstd-8mb,zlib,
//! identity`, `zlib,identity` (the server prefers zstd-8mb whatever the
//! client's order, so zlib needs zstd-8mb left out) and `identity` — runs
//! through the recording proxy (`tests/support/recproxy.py`) what
//! `tests/support/clone-recipe.md` lists: `hg clone`, `hg clone --stream`,
//! `hg pull -r tip -b stable` and `hg debugwireproto --peer http2` with
//! each command alone, so that heads, known, listkeys, lookup, branchmap,
//! capabilities, multirequest, changesetdata, manifestdata, filesdata and
//! rawstorefiledata responses all occur. Every recorded response is then
//! decoded by `tests/support/hgdecode.py` (Mercurial 6.0's clientreactor
//! and peer code) and by hgframe's library, and each object compared
//! (`tests/common/oracle.rs`). The orders run in parallel, each against
//! its own `hg serve` of the same repository.
//!
//! Needs Mercurial 6.0 (`scripts/hg-venv.sh` installs it) and fails, never
//! skips, when something is missing.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use common::oracle::{compare_recording, Report};
use common::{hg_path, spawn_reporting_port, HgServer};

const ORDERS: [(&str, &str); 3] = [
    ("zstd-8mb,zlib,identity", "zstd-8mb"),
    ("zlib,identity", "zlib"),
    ("identity", "identity"),
];

const EXPECTED_TIP: &str = "f564081688cfbb6f9698733ee79e6ad4e21eede3";

fn support(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/support")
        .join(name)
}

fn python() -> PathBuf {
    let py = hg_path().parent().unwrap().join("python3");
    assert!(
        py.exists(),
        "{} is missing: the Mercurial 6.0 venv from scripts/hg-venv.sh has no python3",
        py.display()
    );
    py
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
    out
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

/// Record the client commands of one order through a fresh proxy, decode
/// the recording with hgdecode.py, and compare with hgframe.
fn record_and_compare(work: &Path, upstream: &str, order: &str, node2: &str) -> Report {
    let dir = work.join(order.replace(',', "+"));
    let rec = dir.join("rec");
    std::fs::create_dir_all(&rec).unwrap();
    let mut proxy = Command::new(python());
    proxy
        .arg(support("recproxy.py"))
        .args(["--upstream", upstream, "--dir"])
        .arg(&rec)
        .stderr(Stdio::inherit());
    let (proxy, port) = spawn_reporting_port(proxy, "recproxy.py");
    // Stopped by its pid if anything below fails.
    let mut proxy = KillOnDrop(Some(proxy));
    let url = format!("http://127.0.0.1:{port}/");
    let cfg = [
        "--config".to_string(),
        "experimental.httppeer.advertise-v2=true".to_string(),
        "--config".to_string(),
        format!("experimental.httppeer.v2-encoder-order={order}"),
    ];
    let hg = |args: &[&str], what: &str| {
        let out = run(Command::new(hg_path()).args(args).args(&cfg), what);
        check(&out, what);
    };
    let clone = dir.join("clone");
    let stream = dir.join("stream");
    hg(
        &["clone", "-q", "-U", &url, clone.to_str().unwrap()],
        "hg clone",
    );
    hg(
        &[
            "clone",
            "-q",
            "-U",
            "--stream",
            &url,
            stream.to_str().unwrap(),
        ],
        "hg clone --stream",
    );
    hg(
        &[
            "pull",
            "-q",
            "-R",
            clone.to_str().unwrap(),
            "-r",
            "tip",
            "-b",
            "stable",
            &url,
        ],
        "hg pull",
    );
    let pynode: String = node2
        .as_bytes()
        .chunks(2)
        .map(|c| format!("\\x{}", std::str::from_utf8(c).unwrap()))
        .collect();
    let script = format!(
        "command capabilities\ncommand heads\ncommand known\n    nodes eval:[b'{pynode}', b'\\x00\\x11\\x22\\x33\\x44\\x55\\x66\\x77\\x88\\x99\\xaa\\xbb\\xcc\\xdd\\xee\\xff\\x00\\x11\\x22\\x33']\ncommand listkeys\n    namespace bookmarks\ncommand branchmap\ncommand lookup\n    key v1.0\ncommand lookup\n    key nosuchrev\n"
    );
    let mut dw = Command::new(hg_path())
        .args(["debugwireproto", "--peer", "http2"])
        .args(&cfg)
        .arg(&url)
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
    // The last lookup fails on purpose (an error-response frame).
    assert!(
        out.status.code() == Some(255) && text.contains("unknown revision 'nosuchrev'"),
        "hg debugwireproto: {} {text}",
        out.status
    );
    // SIGTERM: the proxy finishes what is in flight and exits 0.
    let mut child = proxy.0.take().unwrap();
    let st = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(st.success(), "kill -TERM {} failed", child.id());
    let st = child.wait().unwrap();
    assert!(st.success(), "recproxy.py exited with {st}");
    let out = run(
        Command::new(python())
            .arg(support("hgdecode.py"))
            .arg("-q")
            .arg(&rec),
        "hgdecode.py",
    );
    check(&out, "hgdecode.py");
    compare_recording(&rec)
}

#[test]
fn clones_over_v2_decode_as_mercurial_decodes_them() {
    let t0 = Instant::now();
    let work = tempfile::tempdir().unwrap();
    let repo = work.path().join("repo");
    let out = run(
        Command::new(python()).arg(support("mkrepo.py")).arg(&repo),
        "mkrepo.py",
    );
    check(&out, "tests/support/mkrepo.py");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(EXPECTED_TIP),
        "the fixture's tip is not {EXPECTED_TIP}: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = run(
        Command::new(hg_path()).args([
            "-R",
            repo.to_str().unwrap(),
            "log",
            "-r",
            "2",
            "-T",
            "{node}",
        ]),
        "hg log",
    );
    check(&out, "hg log");
    let node2 = String::from_utf8(out.stdout).unwrap();
    // One server per order: `hg serve` answers requests in threads, and
    // concurrent first requests race in Mercurial's lazy module imports
    // (HTTP 500, "module 'mercurial.discovery' has no attribute ...").
    let reports: Vec<(&str, &str, Report)> = std::thread::scope(|s| {
        let handles: Vec<_> = ORDERS
            .iter()
            .map(|(order, enc)| {
                let (w, r, n) = (work.path(), repo.as_path(), node2.as_str());
                let run = move || {
                    let server = HgServer::serve_repo(
                        r,
                        &[
                            "experimental.web.apiserver=true",
                            "experimental.web.api.http-v2=true",
                        ],
                    );
                    let report = record_and_compare(w, &server.url(), order, n);
                    let log = server.error_log();
                    assert!(
                        !log.contains("Traceback"),
                        "{order}: hg serve's error log has a traceback:\n{log}"
                    );
                    report
                };
                (*order, *enc, s.spawn(run))
            })
            .collect();
        handles
            .into_iter()
            .map(|(o, e, h)| (o, e, h.join().expect("an order's thread panicked")))
            .collect()
    });
    let need = [
        "heads",
        "known",
        "listkeys",
        "lookup",
        "branchmap",
        "capabilities",
        "multirequest",
        "changesetdata",
        "manifestdata",
        "filesdata",
        "rawstorefiledata",
    ];
    let mut failures = Vec::new();
    let mut total = 0;
    for (order, enc, r) in &reports {
        let seen: std::collections::BTreeMap<&str, usize> =
            r.commands.iter().fold(Default::default(), |mut m, c| {
                *m.entry(c.trim()).or_default() += 1;
                m
            });
        eprintln!(
            "{order}: {} exchanges, {} response frames, {} objects compared, {} request bodies reproduced, encodings {:?}, commands {seen:?}",
            r.exchanges, r.frames, r.objects, r.reproduced, r.encodings
        );
        total += r.objects;
        for c in need {
            if !seen.contains_key(c) {
                failures.push(format!("{order}: no {c} response was recorded"));
            }
        }
        if r.encodings != [*enc] {
            failures.push(format!(
                "{order}: the server chose {:?}, expected {enc}",
                r.encodings
            ));
        }
        failures.extend(r.mismatches.iter().map(|m| format!("{order}: {m}")));
    }
    eprintln!(
        "{total} objects compared in all, {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(total > 300, "{total}");
}
