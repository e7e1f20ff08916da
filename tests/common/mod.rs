//! Shared test support: real Mercurial `hg serve`s on 127.0.0.1 (6.0, and
//! the older releases 4.7.2, 4.8.2, 5.0.2) and a minimal HTTP/1.1 client
//! for talking to them.
//!
//! Mercurial 6.0 comes from `scripts/hg-venv.sh`, the older releases from
//! `scripts/hg-install.sh VERSION` (Python 2.7 from pyenv, built once into
//! a cache outside the clone). A test that needs a server fails (never
//! skips) when it cannot be installed or started, naming what is missing
//! (the install script's message, e.g. no Python 2.7).

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::OnceLock;
use std::time::Duration;

/// Path of the Mercurial 6.0 `hg` (installed on first use).
pub fn hg_path() -> PathBuf {
    static HG: OnceLock<PathBuf> = OnceLock::new();
    HG.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/hg-venv.sh");
        let out = Command::new("bash")
            .arg(&script)
            .stderr(Stdio::inherit())
            .output()
            .expect("run scripts/hg-venv.sh");
        assert!(
            out.status.success(),
            "scripts/hg-venv.sh failed: Mercurial 6.0 could not be installed"
        );
        let s = String::from_utf8(out.stdout).unwrap();
        PathBuf::from(s.lines().last().expect("hg path").trim())
    })
    .clone()
}

/// Path of Mercurial `version`'s `hg` (installed on first use by
/// `scripts/hg-install.sh`; its stderr, which names anything missing, goes
/// to the test's output).
pub fn hg_release_path(version: &str) -> PathBuf {
    static PATHS: OnceLock<std::sync::Mutex<Vec<(String, PathBuf)>>> = OnceLock::new();
    let paths = PATHS.get_or_init(Default::default);
    let mut paths = paths.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, p)) = paths.iter().find(|(v, _)| v == version) {
        return p.clone();
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/hg-install.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg(version)
        .stderr(Stdio::piped())
        .output()
        .expect("run scripts/hg-install.sh");
    assert!(
        out.status.success(),
        "scripts/hg-install.sh {version} failed: Mercurial {version} could not be installed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = String::from_utf8(out.stdout).unwrap();
    let p = PathBuf::from(s.lines().last().expect("hg path").trim());
    paths.push((version.to_string(), p.clone()));
    p
}

pub const APICONFIG: &[&str] = &[
    "experimental.web.apiserver=true",
    "experimental.web.api.http-v2=true",
    "experimental.web.api.debugreflect=true",
    "web.push_ssl=false",
    "web.allow-push=*",
];

/// A running `hg serve`, stopped (by its pid) on drop.
pub struct HgServer {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
    pub repo: PathBuf,
}

pub fn hg(args: &[&str], cwd: &Path) -> std::process::Output {
    hg_with(&hg_path(), args, cwd)
}

pub fn hg_with(hg: &Path, args: &[&str], cwd: &Path) -> std::process::Output {
    Command::new(hg)
        .args(args)
        .current_dir(cwd)
        .env("HGRCPATH", "")
        .env("HGPLAIN", "1")
        .env("HGUSER", "test <test@example.invalid>")
        .output()
        .expect("run hg")
}

impl HgServer {
    /// Start a server on a fresh repo with the given `--config` settings.
    pub fn start(config: &[&str]) -> HgServer {
        Self::start_with(config, |_| {})
    }

    /// As `start`, after `setup` has prepared the repo (e.g. commits).
    pub fn start_with(config: &[&str], setup: impl FnOnce(&Path)) -> HgServer {
        Self::start_hg(&hg_path(), config, setup)
    }

    /// A server of Mercurial `version` (4.7.2, 4.8.2, 5.0.2, 6.0 ...).
    pub fn start_release(version: &str, config: &[&str]) -> HgServer {
        Self::start_hg(&hg_release_path(version), config, |_| {})
    }

    /// A server run by the given `hg`.
    pub fn start_hg(hg_bin: &Path, config: &[&str], setup: impl FnOnce(&Path)) -> HgServer {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        let out = hg_with(
            hg_bin,
            &[
                "init",
                "--config",
                "format.revlog-compression=zlib",
                repo.to_str().unwrap(),
            ],
            dir.path(),
        );
        assert!(
            out.status.success(),
            "hg init: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        setup(&repo);
        let mut cmd = Command::new(hg_bin);
        cmd.args(["serve", "-a", "127.0.0.1", "-p", "0", "-E"])
            .arg(dir.path().join("errors.log"))
            .arg("-A")
            .arg(dir.path().join("access.log"))
            .current_dir(&repo)
            .env("HGRCPATH", "")
            .env("HGPLAIN", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for c in config {
            cmd.args(["--config", c]);
        }
        let (child, port) = spawn_reporting_port(cmd, "hg serve");
        HgServer {
            child,
            port,
            _dir: dir,
            repo,
        }
    }

    /// Serve an existing repository (logs in a fresh temporary directory).
    pub fn serve_repo(repo: &Path, config: &[&str]) -> HgServer {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(hg_path());
        cmd.args(["serve", "-a", "127.0.0.1", "-p", "0", "-E"])
            .arg(dir.path().join("errors.log"))
            .arg("-A")
            .arg(dir.path().join("access.log"))
            .current_dir(repo)
            .env("HGRCPATH", "")
            .env("HGPLAIN", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for c in config {
            cmd.args(["--config", c]);
        }
        let (child, port) = spawn_reporting_port(cmd, "hg serve");
        HgServer {
            child,
            port,
            _dir: dir,
            repo: repo.to_path_buf(),
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The server's error log (tracebacks of 500s).
    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("errors.log")).unwrap_or_default()
    }
}

/// Start a process whose first stdout line ends with its port
/// (`listening at http://localhost:PORT/ (bound to 127.0.0.1:PORT)`, or
/// just the port); the rest of its stdout is drained.
pub fn spawn_reporting_port(mut cmd: Command, what: &str) -> (Child, u16) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut r = BufReader::new(stdout);
        let mut line = String::new();
        let _ = r.read_line(&mut line);
        let _ = tx.send(line);
        // Keep draining so the child never writes to a closed pipe.
        let _ = std::io::copy(&mut r, &mut std::io::sink());
    });
    let line = match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(l) => l,
        Err(_) => {
            let _ = child.kill();
            panic!("{what} did not report its port within 60 s");
        }
    };
    let port = line
        .rsplit(':')
        .next()
        .and_then(|p| p.trim().trim_end_matches(')').parse().ok())
        .unwrap_or_else(|| {
            let _ = child.kill();
            panic!("unexpected first line from {what}: {line:?}")
        });
    (child, port)
}

impl Drop for HgServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A parsed HTTP response.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 request with `Connection: close`.
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> HttpResponse {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read response");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no end of headers in {:?}", String::from_utf8_lossy(&raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut body = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        let mut out = Vec::new();
        let mut rest = &body[..];
        loop {
            let nl = rest
                .windows(2)
                .position(|w| w == b"\r\n")
                .expect("chunk size line");
            let size =
                usize::from_str_radix(String::from_utf8_lossy(&rest[..nl]).trim(), 16).unwrap();
            rest = &rest[nl + 2..];
            if size == 0 {
                break;
            }
            out.extend_from_slice(&rest[..size]);
            rest = &rest[size + 2..];
        }
        body = out;
    }
    HttpResponse {
        status,
        headers,
        body,
    }
}

pub const MEDIA_0006: &str = "application/mercurial-exp-framing-0006";

/// POST a body to a revision's debugreflect endpoint.
pub fn post_reflect_as(port: u16, api: &str, media_type: &str, body: &[u8]) -> HttpResponse {
    http(
        port,
        "POST",
        &format!("/api/{api}/ro/debugreflect"),
        &[("Accept", media_type), ("Content-Type", media_type)],
        body,
    )
}

/// POST frames to the 0006 debugreflect endpoint.
pub fn post_reflect(port: u16, body: &[u8]) -> HttpResponse {
    http(
        port,
        "POST",
        "/api/exp-http-v2-0003/ro/debugreflect",
        &[("Accept", MEDIA_0006), ("Content-Type", MEDIA_0006)],
        body,
    )
}
pub mod oracle;

/// An NDJSON stream (`--json` output): every line one JSON value, the
/// values. Each line is parsed with serde_json and, when `jq` is on PATH,
/// the whole stream also goes through `jq -c .`, which must read every
/// line (a plain-text line in the stream fails both).
pub fn ndjson(out: &str) -> Vec<serde_json::Value> {
    let values: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect();
    if let Ok(mut jq) = Command::new("jq")
        .arg("-c")
        .arg(".")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        jq.stdin
            .take()
            .expect("jq stdin")
            .write_all(out.as_bytes())
            .expect("write to jq");
        let o = jq.wait_with_output().expect("jq runs");
        assert!(
            o.status.success(),
            "jq -c . refuses the stream: {}\n{out}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&o.stdout).lines().count(),
            values.len(),
            "jq read another number of values than there are lines"
        );
    }
    values
}

/// The events of an NDJSON stream with this `"event"`.
pub fn events<'a>(values: &'a [serde_json::Value], event: &str) -> Vec<&'a serde_json::Value> {
    values.iter().filter(|v| v["event"] == event).collect()
}
