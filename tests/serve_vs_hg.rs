//! `hgframe serve` against a real Mercurial 6.0 `hg serve` (installed by
//! `scripts/hg-venv.sh`, started on 127.0.0.1): the same requests go to
//! both, and status codes, bodies and the headers Mercurial's handler sets
//! (Content-Type, Allow, chunked or not) must be identical. Then what
//! Mercurial does not have: body size and time limits, concurrency, the
//! loopback rule, the CLI's lifecycle and access log.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{http, post_reflect, HgServer, HttpResponse, APICONFIG, MEDIA_0006};
use hgframe::human::parse_human;
use hgframe::python::cbor;
use hgframe::python::escape::escape_bytes;
use hgframe::python::value::Value;
use hgframe::reflect::reflect_bytes;
use hgframe::server::{self, LogTarget, ServeError, ServeOptions, ServerHandle};
use hgframe::session::Responder;
use hgframe::wire::frame::{Frame, LengthMode, SliceDecoder};
use hgframe::Proto;

const P: Proto = Proto::P0006;
const API: &str = "/api/exp-http-v2-0003";

/// `heads` on an empty repository answers `[nullid]`.
fn heads_spec() -> String {
    format!("heads=cbor:[[b'{}']]", "\\x00".repeat(20))
}

fn our_server(respond: &[String]) -> ServerHandle {
    let mut o = ServeOptions::new(P);
    o.responder = Responder::parse(P, respond).expect("--respond specs parse");
    o.log = LogTarget::Silent;
    server::start(o).expect("hgframe serve starts")
}

fn frames(lines: &[&str]) -> Vec<u8> {
    let mut body = Vec::new();
    for l in lines {
        let f = parse_human(P, l).unwrap_or_else(|e| panic!("{l}: {}", e.render()));
        f.frame.encode_into(P, &mut body).unwrap();
    }
    body
}

fn show(b: &[u8]) -> String {
    let s = escape_bytes(b);
    if s.len() > 600 {
        format!("{}... ({} bytes)", &s[..600], b.len())
    } else {
        s
    }
}

fn chunked(r: &HttpResponse) -> bool {
    r.header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
}

/// One request sent to both servers.
struct Case {
    label: String,
    method: &'static str,
    path: String,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

fn framed(label: impl Into<String>, path: impl Into<String>, body: Vec<u8>) -> Case {
    Case {
        label: label.into(),
        method: "POST",
        path: path.into(),
        headers: vec![
            ("Accept", MEDIA_0006.to_string()),
            ("Content-Type", MEDIA_0006.to_string()),
        ],
        body,
    }
}

fn bare(label: impl Into<String>, method: &'static str, path: impl Into<String>) -> Case {
    Case {
        label: label.into(),
        method,
        path: path.into(),
        headers: Vec::new(),
        body: Vec::new(),
    }
}

/// Run every case against both servers; returns (hg, ours) per case and
/// panics with every mismatch listed.
fn compare(hg_port: u16, ours: &ServerHandle, cases: &[Case]) -> Vec<(HttpResponse, HttpResponse)> {
    let mut failures = Vec::new();
    let mut out = Vec::new();
    for c in cases {
        let headers: Vec<(&str, &str)> = c.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let a = http(hg_port, c.method, &c.path, &headers, &c.body);
        let b = http(ours.addr().port(), c.method, &c.path, &headers, &c.body);
        let mut diffs = Vec::new();
        if a.status != b.status {
            diffs.push(format!("status: hg {} / ours {}", a.status, b.status));
        }
        if a.body != b.body {
            diffs.push(format!(
                "body:\n      hg:   {}\n      ours: {}",
                show(&a.body),
                show(&b.body)
            ));
        }
        for h in ["content-type", "allow"] {
            if a.header(h) != b.header(h) {
                diffs.push(format!(
                    "{h}: hg {:?} / ours {:?}",
                    a.header(h),
                    b.header(h)
                ));
            }
        }
        if chunked(&a) != chunked(&b) {
            diffs.push(format!(
                "chunked: hg {} / ours {}",
                chunked(&a),
                chunked(&b)
            ));
        }
        if !diffs.is_empty() {
            failures.push(format!(
                "{} ({} {}):\n    {}",
                c.label,
                c.method,
                c.path,
                diffs.join("\n    ")
            ));
        }
        out.push((a, b));
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from Mercurial 6.0:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    out
}

fn vectors_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/vectors/0006")
}

/// (name, request path from the .txt, body, expected response body).
fn vectors() -> Vec<(String, String, Vec<u8>, Vec<u8>)> {
    let mut v = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(vectors_dir())
        .unwrap()
        .filter_map(|e| {
            let p = e.ok()?.path();
            (p.extension()? == "bin").then(|| p.file_stem()?.to_str().map(str::to_string))?
        })
        .collect();
    names.sort();
    for n in names {
        let dir = vectors_dir();
        let txt = std::fs::read_to_string(dir.join(format!("{n}.txt"))).unwrap();
        let request = txt
            .lines()
            .find_map(|l| l.strip_prefix("request: POST "))
            .unwrap_or_else(|| panic!("{n}.txt has no request line"))
            .trim()
            .to_string();
        let body = std::fs::read(dir.join(format!("{n}.bin"))).unwrap();
        let out = std::fs::read(dir.join(format!("{n}.out"))).unwrap();
        v.push((n, request, body, out));
    }
    v
}

/// Frame sequences of our own for debugreflect (200s and 500s).
fn own_sequences() -> Vec<(String, Vec<u8>)> {
    let sets: &[&[&str]] = &[
        &[],
        &["1 1 stream-begin command-request new cbor:{b'name': b'heads'}"],
        &["1 1 stream-begin command-request new cbor:{b'name': b'known', b'args': {b'nodes': [b'\\x01\\x01\\x01\\x01\\x01\\x01\\x01\\x01\\x01\\x01\\x01\\x01\\x01\\x01\\x01\\x01\\x01\\x01\\x01\\x01']}}"],
        &["1 1 stream-begin command-request new cbor:{b'name': b'listkeys', b'args': {b'namespace': b'bookmarks'}}"],
        &["0 1 stream-begin sender-protocol-settings eos cbor:{b'contentencodings': [b'identity']}", "1 1 0 command-request new cbor:{b'name': b'heads'}"],
        &["0 1 stream-begin sender-protocol-settings eos cbor:{b'contentencodings': [b'zstd-8mb', b'zlib', b'identity']}", "1 1 0 command-request new cbor:{b'name': b'heads'}", "3 1 0 command-request new cbor:{b'name': b'known'}"],
        &["0 1 stream-begin sender-protocol-settings continuation \\xa1", "0 1 0 sender-protocol-settings eos cbor:b'contentencodings'"],
        &["0 1 stream-begin sender-protocol-settings eos cbor:[1]"],
        &["0 1 stream-begin sender-protocol-settings 0 cbor:{}"],
        &["0 1 stream-begin sender-protocol-settings continuation|eos cbor:{}"],
        &["1 1 stream-begin command-request new|more cbor:{b'name': b'x'}", "1 1 0 command-request continuation cbor:{b'args': {}}"],
        &["1 1 stream-begin command-request new|more \\xa2Dname", "1 1 0 command-request continuation Eheads", "1 1 0 command-request continuation \\x44args\\xa0"],
        &["1 1 stream-begin command-request new|have-data cbor:{b'name': b'x'}", "1 1 0 command-data continuation ab", "1 1 0 command-data eos cd"],
        &["1 1 stream-begin command-request new|have-data cbor:{b'name': b'x'}", "1 1 0 command-data 0 x"],
        &["1 1 stream-begin command-request new|more cbor:{b'name': b'a'}", "3 1 0 command-request new cbor:{b'name': b'b'}", "1 1 0 command-request continuation "],
        &["1 1 stream-begin command-request new cbor:{b'name': b'x'}", "1 1 0 command-request new cbor:{b'name': b'x'}"],
        &["0 1 stream-begin command-request new cbor:{b'name': b'zero'}", "65535 1 0 command-request new cbor:{b'name': b'max'}"],
        &["1 2 stream-begin command-request new cbor:{b'name': b'x'}"],
        &["1 1 0 command-request new cbor:{b'name': b'x'}"],
        &["1 1 stream-begin|stream-end command-request new cbor:{b'name': b'x'}", "3 1 0 command-request new cbor:{b'name': b'y'}"],
        &["1 1 stream-begin command-request new|continuation cbor:{b'name': b'x'}"],
        &["1 1 stream-begin command-request 0 cbor:{b'name': b'x'}"],
        &["1 1 stream-begin command-data eos x"],
        &["1 1 stream-begin text-output 0 x", "1 1 0 command-request new cbor:{b'name': b'x'}"],
        &["1 1 stream-begin command-request new cbor:{b'name': b'caf\\xc3\\xa9 <&> \\x00\\x7f \\xff'}"],
        &["1 1 stream-begin command-request new cbor:{b'args': {b'a': 1}}"],
        &["1 1 stream-begin command-request new cbor:{b'name': b'x', b'args': {b'set': {1}, b'list': [None, True, -5], b'nested': {b'k': {b'z': b'y'}}}}"],
        &["1 1 stream-begin command-request new cbor:{b'name': b'x', b'redirect': {b'targets': [b'a'], b'hashes': [b'sha1']}}"],
        &["1 1 stream-begin command-request new|more cbor:{b'name': b'x'}", "1 1 0 command-data eos x"],
        &["1 1 stream-begin command-request new cbor:{b'name': b'x'}", "1 1 0 command-data eos x", "3 1 0 command-request new cbor:{b'name': b'y'}"],
        &["1 1 stream-begin progress 0 x"],
        &["1 1 stream-begin 4 0 payload"],
        // 500s: Mercurial raises.
        &["1 1 stream-begin|encoded command-request new cbor:{b'name': b'x'}"],
        &["1 1 stream-begin command-request new cbor:[b'name']"],
        &["1 1 stream-begin command-request new "],
        &["1 1 stream-begin command-request new \\x61"],
        &["1 1 stream-begin command-request new \\x63abc"],
        &["0 1 stream-begin sender-protocol-settings eos cbor:b'xcontentencodingsx'"],
    ];
    sets.iter()
        .map(|lines| (lines.join(" / "), frames(lines)))
        .collect()
}

#[test]
fn debugreflect_matches_mercurial() {
    let hg = HgServer::start(APICONFIG);
    let ours = our_server(&[]);
    let mut cases = Vec::new();
    let mut vector_bodies = Vec::new();
    for (name, path, body, out) in vectors() {
        // reflect-disabled was captured from a server without
        // web.api.debugreflect: see debugreflect_disabled_matches_mercurial.
        if path.ends_with("/debugreflect") && name != "reflect-disabled" {
            vector_bodies.push((name.clone(), out));
            cases.push(framed(format!("vector {name}"), path, body));
        }
    }
    assert!(
        vector_bodies.len() >= 8,
        "expected the 0006 debugreflect vectors, found {}",
        vector_bodies.len()
    );
    let nvec = cases.len();
    let own = own_sequences();
    assert!(own.len() >= 30);
    for (label, body) in &own {
        cases.push(framed(
            label.clone(),
            format!("{API}/ro/debugreflect"),
            body.clone(),
        ));
    }
    // Raw bodies: truncated header / payload, the length bug, a frame the
    // length bug misreads.
    let mut raw: Vec<(&str, Vec<u8>)> = vec![
        ("truncated header", vec![0x0c, 0, 0, 1, 0]),
        (
            "truncated payload",
            vec![0x0c, 0, 0, 1, 0, 1, 1, 0x11, 0xa1],
        ),
    ];
    let mut bug = vec![0x00, 0x00, 0x01, 1, 0, 1, 1, 0x21];
    bug.extend(std::iter::repeat_n(b'x', 16384));
    raw.push(("len-byte2-bug-16384", bug));
    raw.push((
        "len-65536-correct",
        Frame::new(2, 2, vec![b'y'; 65536])
            .with_ids(1, 1, 1)
            .encode(P)
            .unwrap(),
    ));
    for (label, body) in raw {
        cases.push(framed(label, format!("{API}/ro/debugreflect"), body));
    }
    // debugreflect on rw/, with extra path parts, without the media headers.
    let heads = frames(&["1 1 stream-begin command-request new cbor:{b'name': b'heads'}"]);
    cases.push(framed(
        "rw/debugreflect",
        format!("{API}/rw/debugreflect"),
        heads.clone(),
    ));
    cases.push(framed(
        "debugreflect/extra",
        format!("{API}/ro/debugreflect/extra/parts"),
        heads.clone(),
    ));
    let mut c = bare(
        "debugreflect without Accept/Content-Type",
        "POST",
        format!("{API}/ro/debugreflect"),
    );
    c.body = heads.clone();
    cases.push(c);
    let mut c = framed(
        "PUT debugreflect",
        format!("{API}/ro/debugreflect"),
        heads.clone(),
    );
    c.method = "PUT";
    cases.push(c);

    let results = compare(hg.port, &ours, &cases);

    // The 200s are exactly reflect_bytes, and the vectors' recorded answers.
    let mut n200 = 0;
    let mut n500 = 0;
    for (c, (_, ours)) in cases.iter().zip(&results) {
        if c.method != "POST" {
            continue;
        }
        match reflect_bytes(P, &c.body) {
            Ok(b) => {
                assert_eq!(ours.status, 200, "{}", c.label);
                assert_eq!(ours.body, b, "{}", c.label);
                assert_eq!(ours.header("content-type"), Some("text/plain"));
                n200 += 1;
            }
            Err(_) => {
                assert_eq!(ours.status, 500, "{}", c.label);
                assert_eq!(ours.body, b"Internal Server Error", "{}", c.label);
                n500 += 1;
            }
        }
    }
    for ((name, out), (_, ours)) in vector_bodies.iter().zip(&results[..nvec]) {
        assert_eq!(&ours.body, out, "vector {name}: recorded .out differs");
    }
    assert!(n200 >= 35, "only {n200} 200 cases");
    assert!(n500 >= 8, "only {n500} 500 cases");
}

#[test]
fn debugreflect_disabled_matches_mercurial() {
    let config: Vec<&str> = APICONFIG
        .iter()
        .copied()
        .filter(|c| !c.contains("debugreflect"))
        .collect();
    assert_eq!(config.len(), APICONFIG.len() - 1);
    let hg = HgServer::start(&config);
    let mut o = ServeOptions::new(P);
    o.reflect = false;
    o.log = LogTarget::Silent;
    let ours = server::start(o).unwrap();
    let (_, path, body, out) = vectors()
        .into_iter()
        .find(|(n, ..)| n == "reflect-disabled")
        .expect("vector reflect-disabled");
    let cases = vec![
        framed("vector reflect-disabled", path, body),
        framed(
            "rw/debugreflect, empty body",
            format!("{API}/rw/debugreflect"),
            Vec::new(),
        ),
        bare("GET debugreflect", "GET", format!("{API}/ro/debugreflect")),
        bare("listing", "GET", "/api/"),
    ];
    let results = compare(hg.port, &ours, &cases);
    assert_eq!(results[0].1.status, 404);
    assert_eq!(results[0].1.body, out);
    assert_eq!(results[2].1.status, 405);
}

#[test]
fn http_errors_match_mercurial() {
    let hg = HgServer::start(APICONFIG);
    let ours = our_server(&[heads_spec()]);
    let heads = frames(&["1 1 stream-begin command-request new cbor:{b'name': b'heads'}"]);
    let with = |label: &str,
                method: &'static str,
                path: &str,
                headers: &[(&'static str, &str)],
                body: &[u8]| Case {
        label: label.into(),
        method,
        path: path.into(),
        headers: headers.iter().map(|(k, v)| (*k, v.to_string())).collect(),
        body: body.to_vec(),
    };
    let m = MEDIA_0006;
    let cases = vec![
        bare("listing", "GET", "/api/"),
        bare("listing without slash", "POST", "/api"),
        bare("listing with slashes", "GET", "//api//"),
        bare("API root", "GET", format!("{API}/")),
        bare("API root without slash", "GET", API),
        bare("permission only", "GET", format!("{API}/ro")),
        bare("permission only, POST", "POST", format!("{API}/rw/")),
        bare("unknown permission", "POST", format!("{API}/rx/heads")),
        bare("empty permission", "POST", format!("{API}//ro/heads")),
        bare("unknown API", "GET", "/api/foo"),
        bare("older API name", "POST", "/api/exp-http-v2-0001/ro/heads"),
        bare(
            "empty API name",
            "POST",
            "//api//exp-http-v2-0003//ro/heads",
        ),
        bare("unknown command", "POST", format!("{API}/ro/nope")),
        bare(
            "unknown command, percent-encoded byte",
            "POST",
            format!("{API}/ro/h%FFx"),
        ),
        bare(
            "unknown command with a query",
            "POST",
            format!("{API}/rw/nope?cmd=heads"),
        ),
        bare("v1-only command", "POST", format!("{API}/ro/getbundle")),
        bare("GET on a command", "GET", format!("{API}/ro/heads")),
        bare("GET on an unknown command", "GET", format!("{API}/ro/nope")),
        bare(
            "GET on debugreflect",
            "GET",
            format!("{API}/ro/debugreflect"),
        ),
        bare("PUT on a command", "PUT", format!("{API}/rw/pushkey")),
        bare("DELETE", "DELETE", "/api/"),
        bare("HEAD", "HEAD", format!("{API}/ro/heads")),
        bare("PATCH on a command", "PATCH", format!("{API}/ro/heads")),
        with(
            "no Accept",
            "POST",
            &format!("{API}/ro/heads"),
            &[("Content-Type", m)],
            &heads,
        ),
        with(
            "Accept with a parameter",
            "POST",
            &format!("{API}/ro/heads"),
            &[("Accept", &format!("{m}; q=1")), ("Content-Type", m)],
            &heads,
        ),
        with(
            "Accept in upper case",
            "POST",
            &format!("{API}/ro/heads"),
            &[("Accept", &m.to_uppercase()), ("Content-Type", m)],
            &heads,
        ),
        with(
            "wrong Accept on multirequest",
            "POST",
            &format!("{API}/ro/multirequest"),
            &[("Accept", "text/plain"), ("Content-Type", m)],
            &heads,
        ),
        with(
            "no Content-Type",
            "POST",
            &format!("{API}/ro/heads"),
            &[("Accept", m)],
            &heads,
        ),
        with(
            "wrong Content-Type",
            "POST",
            &format!("{API}/ro/heads"),
            &[
                ("Accept", m),
                ("Content-Type", "application/mercurial-exp-framing-0005"),
            ],
            &heads,
        ),
        with(
            "Content-Type with two slashes",
            "POST",
            &format!("{API}/ro/heads"),
            &[("Accept", m), ("Content-Type", &format!("{m}/x"))],
            &heads,
        ),
        with(
            "Content-Type with parameters and case (accepted)",
            "POST",
            &format!("{API}/ro/heads"),
            &[
                ("Accept", m),
                (
                    "Content-Type",
                    "Application/Mercurial-Exp-Framing-0006; charset=x",
                ),
            ],
            &heads,
        ),
        with(
            "percent-encoded command name (accepted)",
            "POST",
            &format!("{API}/ro/he%61ds"),
            &[("Accept", m), ("Content-Type", m)],
            &heads,
        ),
        with(
            "query string ignored",
            "POST",
            &format!("{API}/ro/heads?x=1"),
            &[("Accept", m), ("Content-Type", m)],
            &heads,
        ),
        with(
            "empty body on a command",
            "POST",
            &format!("{API}/ro/heads"),
            &[("Accept", m), ("Content-Type", m)],
            b"",
        ),
    ];
    let results = compare(hg.port, &ours, &cases);
    // Spot checks that the comparison compared something meaningful.
    let status = |label: &str| {
        let i = cases.iter().position(|c| c.label == label).unwrap();
        (results[i].1.status, results[i].1.body.clone())
    };
    assert_eq!(status("GET on a command").0, 405);
    assert_eq!(status("no Accept").0, 406);
    assert_eq!(status("wrong Content-Type").0, 415);
    assert_eq!(status("unknown permission").0, 404);
    assert_eq!(status("unknown API").0, 404);
    assert_eq!(status("DELETE").0, 501);
    assert_eq!(
        status("listing").1,
        b"APIs can be accessed at /api/<name>, where <name> can be one of the following:\n\nexp-http-v2-0003"
    );
    assert_eq!(
        status("permission only").1,
        b"do not know how to process api/exp-http-v2-0003/ro\n"
    );
    assert_eq!(
        status("unknown command, percent-encoded byte").1,
        b"unknown wire protocol command: h\xc3\xbfx\n"
    );
    assert_eq!(status("empty body on a command").0, 500);
    let i = cases
        .iter()
        .position(|c| c.label == "GET on a command")
        .unwrap();
    assert_eq!(results[i].1.header("allow"), Some("POST"));
}

#[test]
fn commands_match_mercurial() {
    let hg = HgServer::start(APICONFIG);
    let ours = our_server(&[heads_spec()]);
    let settings = |enc: &str| {
        format!("0 1 stream-begin sender-protocol-settings eos cbor:{{b'contentencodings': {enc}}}")
    };
    let identity = settings("[b'identity']");
    let heads_req = "1 1 0 command-request new cbor:{b'name': b'heads'}";
    let url = |perm: &str, cmd: &str| format!("{API}/{perm}/{cmd}");
    let mut cases = Vec::new();
    let mut add = |label: &str, path: String, lines: &[&str]| {
        cases.push(framed(label, path, frames(lines)));
    };
    add(
        "heads, identity announced",
        url("ro", "heads"),
        &[&identity, heads_req],
    );
    add(
        "heads, no settings",
        url("ro", "heads"),
        &["1 1 stream-begin command-request new cbor:{b'name': b'heads'}"],
    );
    add(
        "heads, request id 5",
        url("ro", "heads"),
        &["5 1 stream-begin command-request new cbor:{b'name': b'heads'}"],
    );
    add(
        "heads, request id 0",
        url("ro", "heads"),
        &["0 1 stream-begin command-request new cbor:{b'name': b'heads'}"],
    );
    add("heads on rw/", url("rw", "heads"), &[&identity, heads_req]);
    add("heads with publiconly False", url("ro", "heads"), &["1 1 stream-begin command-request new cbor:{b'name': b'heads', b'args': {b'publiconly': False}}"]);
    add(
        "heads with command data",
        url("ro", "heads"),
        &[
            "1 1 stream-begin command-request new|have-data cbor:{b'name': b'heads'}",
            "1 1 0 command-data eos x",
        ],
    );
    add(
        "heads split over frames",
        url("ro", "heads"),
        &[
            "1 1 stream-begin command-request new|more \\xa1Dname",
            "1 1 0 command-request continuation Eheads",
        ],
    );
    add(
        "contentencodings as bytes",
        url("ro", "heads"),
        &[&settings("b'identity'"), heads_req],
    );
    add(
        "heads, zlib announced (compressed with the same zlib)",
        url("ro", "heads"),
        &[&settings("[b'zlib', b'identity']"), heads_req],
    );
    add(
        "heads, zstd-8mb announced first (Mercurial's default order)",
        url("ro", "heads"),
        &[&settings("[b'zstd-8mb', b'zlib', b'identity']"), heads_req],
    );
    add(
        "unknown encoding only: generator raises mid-response",
        url("ro", "heads"),
        &[&settings("[b'foo']"), heads_req],
    );
    add(
        "contentencodings not a container",
        url("ro", "heads"),
        &[&settings("5"), heads_req],
    );
    add(
        "frame command differs from URL",
        url("ro", "heads"),
        &["1 1 stream-begin command-request new cbor:{b'name': b'known'}"],
    );
    add(
        "frame command not bytes",
        url("ro", "heads"),
        &["1 1 stream-begin command-request new cbor:{b'name': 5}"],
    );
    add(
        "two commands on one URL",
        url("ro", "heads"),
        &[
            "1 1 stream-begin command-request new cbor:{b'name': b'heads'}",
            "3 1 0 command-request new cbor:{b'name': b'heads'}",
        ],
    );
    add(
        "reactor error first",
        url("ro", "heads"),
        &["1 1 stream-begin command-data eos x"],
    );
    add(
        "reactor error after a command",
        url("ro", "heads"),
        &[
            "1 1 stream-begin command-request new cbor:{b'name': b'heads'}",
            "3 1 0 command-data eos x",
        ],
    );
    add(
        "even stream id",
        url("ro", "heads"),
        &["1 2 stream-begin command-request new cbor:{b'name': b'heads'}"],
    );
    add("only settings", url("ro", "heads"), &[&identity]);
    add(
        "unfinished command",
        url("ro", "heads"),
        &["1 1 stream-begin command-request new|more cbor:{b'name': b'heads'}"],
    );
    add(
        "encoded stream flag",
        url("ro", "heads"),
        &["1 1 stream-begin|encoded command-request new cbor:{b'name': b'heads'}"],
    );
    add(
        "command request not CBOR",
        url("ro", "heads"),
        &["1 1 stream-begin command-request new \\x63abc"],
    );
    add(
        "command request without name",
        url("ro", "heads"),
        &["1 1 stream-begin command-request new cbor:{b'args': {}}"],
    );
    add(
        "multirequest heads",
        url("ro", "multirequest"),
        &[&identity, heads_req],
    );
    add(
        "multirequest heads twice",
        url("ro", "multirequest"),
        &[
            &identity,
            heads_req,
            "3 1 0 command-request new cbor:{b'name': b'heads'}",
        ],
    );
    add(
        "multirequest unknown command",
        url("ro", "multirequest"),
        &["1 1 stream-begin command-request new cbor:{b'name': b'nope'}"],
    );
    add(
        "multirequest push command on ro",
        url("ro", "multirequest"),
        &["1 1 stream-begin command-request new cbor:{b'name': b'pushkey'}"],
    );
    add(
        "multirequest name not bytes",
        url("ro", "multirequest"),
        &["1 1 stream-begin command-request new cbor:{b'name': 5}"],
    );
    add(
        "multirequest name unhashable",
        url("ro", "multirequest"),
        &["1 1 stream-begin command-request new cbor:{b'name': [b'heads']}"],
    );
    let mut body = frames(&[&identity, heads_req]);
    body.extend_from_slice(&[0x0c, 0, 0]);
    cases.push(framed(
        "truncated frame after the command",
        url("ro", "heads"),
        body,
    ));
    let results = compare(hg.port, &ours, &cases);

    // The real capture of `heads` (vector real-heads-identity) is what we send.
    let v = vectors()
        .into_iter()
        .find(|(n, ..)| n == "real-heads-identity")
        .expect("vector real-heads-identity");
    let r = http(
        ours.addr().port(),
        "POST",
        &v.1,
        &[("Accept", MEDIA_0006), ("Content-Type", MEDIA_0006)],
        &v.2,
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some(MEDIA_0006));
    assert_eq!(r.body, v.3, "ours: {}", show(&r.body));

    // Frame structure of that answer: settings, {status: ok}, the node list, eos.
    let decoded: Vec<Frame> = SliceDecoder::new(P, LengthMode::Correct, &results[0].1.body)
        .map(|f| f.unwrap().frame.to_owned())
        .collect();
    let shape: Vec<(u8, u8, u8, u8)> = decoded
        .iter()
        .map(|f| (f.stream_id, f.stream_flags, f.type_id, f.flags))
        .collect();
    assert_eq!(
        shape,
        vec![(2, 1, 9, 2), (2, 4, 3, 1), (2, 4, 3, 1), (2, 0, 3, 2)],
        "stream-settings, encoded command-response continuation x2, empty eos"
    );
    assert_eq!(
        cbor::decode_all(&decoded[2].payload).unwrap().len(),
        1,
        "one CBOR value: the list of heads"
    );
    let label_status = |label: &str| {
        let i = cases.iter().position(|c| c.label == label).unwrap();
        (&results[i].1.status, &results[i].1.body)
    };
    assert_eq!(
        label_status("frame command differs from URL").1,
        b"command in frame must match command in URL"
    );
    assert_eq!(
        label_status("two commands on one URL").1,
        b"multiple commands cannot be issued to this URL"
    );
    assert_eq!(*label_status("multirequest push command on ro").0, 403);
    assert!(
        label_status("unknown encoding only: generator raises mid-response")
            .1
            .ends_with(b"Internal Server Error")
    );
}

/// One request on a kept-alive connection (no `Connection: close`):
/// status, whether the body came chunked, the body.
fn http_keepalive(port: u16, path: &str, body: &[u8]) -> (u16, bool, Vec<u8>) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nAccept: {MEDIA_0006}\r\nContent-Type: {MEDIA_0006}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut r = BufReader::new(s);
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    let status = status_of(line.as_bytes());
    let (mut chunked, mut len) = (false, None);
    loop {
        let mut h = String::new();
        r.read_line(&mut h).unwrap();
        if h == "\r\n" {
            break;
        }
        let h = h.to_ascii_lowercase();
        if h.starts_with("transfer-encoding:") && h.contains("chunked") {
            chunked = true;
        }
        if let Some(v) = h.strip_prefix("content-length:") {
            len = Some(v.trim().parse::<usize>().unwrap());
        }
    }
    let mut out = Vec::new();
    if chunked {
        loop {
            let mut size = String::new();
            r.read_line(&mut size).unwrap();
            let n = usize::from_str_radix(size.trim(), 16).unwrap();
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&chunk[..n]);
        }
    } else {
        let mut b = vec![0; len.expect("a length or chunks")];
        r.read_exact(&mut b).unwrap();
        out = b;
    }
    (status, chunked, out)
}

/// On a kept-alive connection `hg serve` streams frames and its 500 page
/// chunked and sends fixed bodies with a length; so do we.
#[test]
fn keep_alive_framing_matches_mercurial() {
    let hg = HgServer::start(APICONFIG);
    let ours = our_server(&[heads_spec()]);
    let heads = frames(&["1 1 stream-begin command-request new cbor:{b'name': b'heads'}"]);
    let foo = frames(&[
        "0 1 stream-begin sender-protocol-settings eos cbor:{b'contentencodings': [b'foo']}",
        "1 1 0 command-request new cbor:{b'name': b'heads'}",
    ]);
    let cases: Vec<(&str, String, Vec<u8>, u16, bool)> = vec![
        (
            "frames",
            format!("{API}/ro/heads"),
            heads.clone(),
            200,
            true,
        ),
        (
            "frames then a raise",
            format!("{API}/ro/heads"),
            foo,
            200,
            true,
        ),
        ("500", format!("{API}/ro/heads"), Vec::new(), 500, true),
        (
            "reflect",
            format!("{API}/ro/debugreflect"),
            heads.clone(),
            200,
            false,
        ),
        ("404", format!("{API}/ro/nope"), heads, 404, false),
    ];
    for (label, path, body, status, chunked) in cases {
        let a = http_keepalive(hg.port, &path, &body);
        let b = http_keepalive(ours.addr().port(), &path, &body);
        assert_eq!(a, b, "{label}: hg vs ours");
        assert_eq!((a.0, a.1), (status, chunked), "{label}");
    }
}

/// The 2018 revisions cannot be installed; their recorded answers
/// (tests/data/vectors/0001, 0002) are the reference.
#[test]
fn older_revisions_match_recorded_servers() {
    for (proto, dir) in [(Proto::P0001, "0001"), (Proto::P0002, "0002")] {
        let mut o = ServeOptions::new(proto);
        o.log = LogTarget::Silent;
        let ours = server::start(o).unwrap();
        let media = proto.table().media_type;
        let vdir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/vectors")
            .join(dir);
        let mut n = 0;
        for e in std::fs::read_dir(&vdir).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_none_or(|x| x != "txt") {
                continue;
            }
            let txt = std::fs::read_to_string(&p).unwrap();
            let path = txt
                .lines()
                .find_map(|l| l.strip_prefix("request: POST "))
                .unwrap()
                .trim();
            let status: u16 = txt
                .lines()
                .find_map(|l| l.strip_prefix("response-status-code: "))
                .unwrap()
                .trim()
                .parse()
                .unwrap();
            let body = std::fs::read(p.with_extension("bin")).unwrap();
            let out = std::fs::read(p.with_extension("out")).unwrap();
            let r = http(
                ours.addr().port(),
                "POST",
                path,
                &[("Accept", media), ("Content-Type", media)],
                &body,
            );
            assert_eq!(r.status, status, "{dir}/{}", p.display());
            assert_eq!(r.body, out, "{dir}/{}: ours {}", p.display(), show(&r.body));
            n += 1;
        }
        assert!(n >= 11, "{dir}: only {n} vectors");
        let r = http(ours.addr().port(), "GET", "/api/", &[], b"");
        assert!(r.body.ends_with(b"\n\nexp-http-v2-0001"));
        let r = http(
            ours.addr().port(),
            "GET",
            "/api/exp-http-v2-0003/",
            &[],
            b"",
        );
        assert_eq!(r.status, 404);
        assert_eq!(
            r.body,
            b"Unknown API: exp-http-v2-0003\nKnown APIs: exp-http-v2-0001"
        );
        // A v1 command without a canned response: an application error
        // frame on a fresh stream 2.
        let cmd = if proto == Proto::P0001 {
            vec![0x05, 0x00, 0x00, 0x11, b'h', b'e', b'a', b'd', b's']
        } else {
            parse_human(proto, "1 1 stream-begin command-name eos heads")
                .unwrap()
                .frame
                .encode(proto)
                .unwrap()
        };
        let r = http(
            ours.addr().port(),
            "POST",
            "/api/exp-http-v2-0001/ro/heads",
            &[("Accept", media), ("Content-Type", media)],
            &cmd,
        );
        assert_eq!(r.status, 200, "{dir}: {}", show(&r.body));
        assert_eq!(r.header("content-type"), Some(media));
        assert!(
            r.body.windows(10).any(|w| w == b"--respond "),
            "{dir}: {}",
            show(&r.body)
        );
    }
}

/// A known command without --respond answers a command error saying so.
#[test]
fn command_without_canned_response_is_a_command_error() {
    let ours = our_server(&[]);
    let body = frames(&["1 1 stream-begin command-request new cbor:{b'name': b'branchmap'}"]);
    let r = http(
        ours.addr().port(),
        "POST",
        &format!("{API}/ro/branchmap"),
        &[("Accept", MEDIA_0006), ("Content-Type", MEDIA_0006)],
        &body,
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some(MEDIA_0006));
    let fs: Vec<Frame> = SliceDecoder::new(P, LengthMode::Correct, &r.body)
        .map(|f| f.unwrap().frame.to_owned())
        .collect();
    assert_eq!(fs.len(), 1, "{}", show(&r.body));
    let f = &fs[0];
    assert_eq!(
        (
            f.request_id,
            f.stream_id,
            f.stream_flags,
            f.type_id,
            f.flags
        ),
        (1, 2, 1, 3, 2)
    );
    let v = cbor::decode_all(&f.payload).unwrap();
    let Value::Dict(d) = &v[0] else {
        panic!("not a map: {v:?}")
    };
    let get = |d: &[(Value, Value)], k: &str| {
        d.iter()
            .find(|(kk, _)| kk.as_bytes() == Some(k.as_bytes()))
            .map(|(_, v)| v.clone())
    };
    assert_eq!(get(d, "status").unwrap().as_bytes(), Some(&b"error"[..]));
    let Some(Value::Dict(e)) = get(d, "error") else {
        panic!("no error map")
    };
    let msg = String::from_utf8(get(&e, "message").unwrap().as_bytes().unwrap().to_vec()).unwrap();
    assert!(msg.contains("--respond branchmap="), "{msg}");

    // A canned server-error response goes out as an error-response frame.
    let ours = our_server(&["branchmap=error:boom".to_string()]);
    let r = http(
        ours.addr().port(),
        "POST",
        &format!("{API}/ro/branchmap"),
        &[("Accept", MEDIA_0006), ("Content-Type", MEDIA_0006)],
        &body,
    );
    let fs: Vec<Frame> = SliceDecoder::new(P, LengthMode::Correct, &r.body)
        .map(|f| f.unwrap().frame.to_owned())
        .collect();
    assert_eq!(fs.len(), 1);
    assert_eq!(fs[0].type_id, 5, "error-response");
    assert!(fs[0].payload.windows(4).any(|w| w == b"boom"));
}

// ---------------------------------------------------------------------------
// Limits, concurrency, lifecycle

fn raw_request(port: u16, head: &str, body: &[u8], read_timeout: Duration) -> (Vec<u8>, Duration) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(read_timeout)).unwrap();
    let t = Instant::now();
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    (out, t.elapsed())
}

fn status_of(raw: &[u8]) -> u16 {
    let text = String::from_utf8_lossy(raw);
    text.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"))
}

fn limited_server(max_body: u64, timeout: Duration) -> ServerHandle {
    let mut o = ServeOptions::new(P);
    o.max_body = max_body;
    o.timeout = timeout;
    o.log = LogTarget::Silent;
    server::start(o).unwrap()
}

#[test]
fn body_over_max_body_gets_413() {
    let ours = limited_server(1000, Duration::from_secs(10));
    let port = ours.addr().port();
    let path = format!("{API}/ro/debugreflect");
    // Declared too large: refused from the headers, the body never sent.
    let head = format!("POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n");
    let (raw, took) = raw_request(port, &head, b"", Duration::from_secs(10));
    assert_eq!(status_of(&raw), 413, "{}", String::from_utf8_lossy(&raw));
    assert!(took < Duration::from_secs(5));
    assert!(String::from_utf8_lossy(&raw).contains("--max-body"));
    // Chunked, no length: stopped once past the limit.
    let mut body = Vec::new();
    for _ in 0..3 {
        body.extend_from_slice(format!("{:x}\r\n", 500).as_bytes());
        body.extend(std::iter::repeat_n(b'z', 500));
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"0\r\n\r\n");
    let head = format!("POST {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
    let (raw, _) = raw_request(port, &head, &body, Duration::from_secs(10));
    assert_eq!(status_of(&raw), 413, "{}", String::from_utf8_lossy(&raw));
    // At the limit: fine.
    let ok = frames(&["1 1 stream-begin command-request new cbor:{b'name': b'x'}"]);
    let mut exact = ok.clone();
    while exact.len() + 8 + ok.len() <= 1000 {
        exact.extend_from_slice(&ok);
    }
    let r = post_reflect(port, &exact);
    assert_eq!(r.status, 200);
    assert_eq!(r.body, reflect_bytes(P, &exact).unwrap());
}

/// A client that stalls in the middle of its request head is dropped
/// after --timeout (header read timeout), instead of holding a connection.
#[test]
fn stalled_request_head_is_dropped_within_the_timeout() {
    let ours = limited_server(1 << 20, Duration::from_secs(1));
    let (raw, took) = raw_request(
        ours.addr().port(),
        &format!("POST {API}/ro/debugreflect HTTP/1.1\r\nHost: x\r\n"),
        b"",
        Duration::from_secs(15),
    );
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(4),
        "connection closed after {took:?}: {}",
        String::from_utf8_lossy(&raw)
    );
    // and the server still answers others
    let r = http(ours.addr().port(), "GET", "/api/", &[], b"");
    assert_eq!(r.status, 200);
}

#[test]
fn stalled_body_gets_408_within_the_timeout() {
    let ours = limited_server(1 << 20, Duration::from_secs(1));
    let head =
        format!("POST {API}/ro/debugreflect HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n");
    let (raw, took) = raw_request(
        ours.addr().port(),
        &head,
        b"0123456789",
        Duration::from_secs(15),
    );
    assert_eq!(status_of(&raw), 408, "{}", String::from_utf8_lossy(&raw));
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(4),
        "answered after {took:?}"
    );
    assert!(String::from_utf8_lossy(&raw).contains("--timeout"));
}

#[test]
fn fifty_concurrent_requests_are_all_answered() {
    let ours = Arc::new(our_server(&[]));
    let port = ours.addr().port();
    let threads: Vec<_> = (0..50u16)
        .map(|i| {
            std::thread::spawn(move || {
                let body = frames(&[&format!(
                    "{} 1 stream-begin command-request new cbor:{{b'name': b'cmd{i}'}}",
                    2 * i + 1
                )]);
                let r = post_reflect(port, &body);
                (r.status, r.body == reflect_bytes(P, &body).unwrap())
            })
        })
        .collect();
    let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(results.len(), 50);
    assert!(
        results.iter().all(|(s, same)| *s == 200 && *same),
        "{results:?}"
    );
}

#[test]
fn keep_alive_survives_an_early_answer() {
    let ours = our_server(&[]);
    let mut s = TcpStream::connect(("127.0.0.1", ours.addr().port())).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    // A 404 for a POST with a body; the body is drained, the connection kept.
    let req = format!("POST {API}/ro/nope HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
    s.write_all(req.as_bytes()).unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    assert!(line.starts_with("HTTP/1.1 404"), "{line}");
    let mut len = 0;
    loop {
        let mut h = String::new();
        r.read_line(&mut h).unwrap();
        if h == "\r\n" {
            break;
        }
        if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body).unwrap();
    assert_eq!(body, b"unknown wire protocol command: nope\n");
    s.write_all(b"GET /api/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut rest = String::new();
    r.read_to_string(&mut rest).unwrap();
    assert!(rest.starts_with("HTTP/1.1 200"), "{rest}");
}

#[test]
fn non_loopback_address_is_refused_without_public() {
    let mut o = ServeOptions::new(P);
    o.addr = "0.0.0.0:0".into();
    o.log = LogTarget::Silent;
    let e = server::start(o.clone()).expect_err("0.0.0.0 refused");
    assert!(matches!(e, ServeError::NotLoopback { .. }));
    assert!(e.to_string().contains("--public"), "{e}");
    o.public = true;
    let h = server::start(o).expect("--public allows it");
    assert!(h.addr().ip().is_unspecified());
    h.shutdown();

    let out = Command::new(env!("CARGO_BIN_EXE_hgframe"))
        .args(["serve", "--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refusing to listen on 0.0.0.0:0") && err.contains("--public"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn log_line_per_request() {
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = lines.clone();
    let mut o = ServeOptions::new(P);
    o.log = LogTarget::Callback(Arc::new(move |l: &str| {
        sink.lock().unwrap().push(l.to_string())
    }));
    let h = server::start(o).unwrap();
    let r = http(h.addr().port(), "GET", "/api/", &[], b"");
    assert_eq!(r.status, 200);
    let r = post_reflect(h.addr().port(), &[0x0c, 0, 0]);
    assert_eq!(r.status, 500);
    h.shutdown();
    let lines = lines.lock().unwrap();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].starts_with("127.0.0.1 - - ["), "{}", lines[0]);
    assert!(
        lines[0].contains("\"GET /api/ HTTP/1.1\" 200 96 "),
        "{}",
        lines[0]
    );
    assert!(lines[0].ends_with("ms"), "{}", lines[0]);
    assert!(
        lines[1].contains("\"POST /api/exp-http-v2-0003/ro/debugreflect HTTP/1.1\" 500 21 ")
            && lines[1].contains("received incomplete frame"),
        "{}",
        lines[1]
    );
}

#[test]
fn cli_serves_until_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hgframe"))
        .args(["serve", "--listen", "127.0.0.1:0", "--respond"])
        .arg(heads_spec())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let port: u16 = line
        .strip_prefix("listening at http://127.0.0.1:")
        .and_then(|r| r.strip_suffix("/\n"))
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    let body = frames(&["1 1 stream-begin command-request new cbor:{b'name': b'heads'}"]);
    let r = http(
        port,
        "POST",
        &format!("{API}/ro/heads"),
        &[("Accept", MEDIA_0006), ("Content-Type", MEDIA_0006)],
        &body,
    );
    assert_eq!(r.status, 200);
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let t = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "no exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0));
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(
        err.contains(&format!(
            "\"POST {API}/ro/heads HTTP/1.1\" 200 {} ",
            r.body.len()
        )),
        "{err}"
    );
    assert!(err.contains("SIGTERM received; shutting down"), "{err}");
}

// ---------------------------------------------------------------------------
// Stock clients

/// A stock Mercurial 6.0 client (`hg debugwireproto --peer http2`, its
/// default encoder order: zstd-8mb first) talks to `hgframe serve`: the
/// version-1 handshake answered as Mercurial answers it, then the canned
/// heads, on a zstd-8mb stream.
#[test]
fn a_stock_client_gets_the_canned_heads() {
    let node = "\\x11\\x22\\x33\\x44\\x55\\x66\\x77\\x88\\x99\\xaa\\xbb\\xcc\\xdd\\xee\\xff\\x00\\x11\\x22\\x33\\x44";
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut o = ServeOptions::new(P);
    o.responder = Responder::parse(P, &[format!("heads=cbor:[[b'{node}']]")]).unwrap();
    let sink = log.clone();
    o.log = LogTarget::Callback(Arc::new(move |l: &str| {
        sink.lock().unwrap().push(l.to_string())
    }));
    let ours = server::start(o).expect("hgframe serve starts");
    let mut child = Command::new(common::hg_path())
        .args([
            "debugwireproto",
            "--peer",
            "http2",
            &format!("{}/", ours.url()),
        ])
        .env("HGRCPATH", "")
        .env("HGPLAIN", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run hg debugwireproto");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"command heads\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains("creating http peer for wire protocol version 2"),
        "{stdout}"
    );
    assert!(
        stdout.contains(r#"b'\x11"3DUfw\x88\x99\xaa\xbb\xcc\xdd\xee\xff\x00\x11"3D'"#),
        "the canned node reaches the client: {stdout}{stderr}"
    );
    let log = log.lock().unwrap().join("\n");
    assert!(
        log.contains("\"GET /?cmd=capabilities HTTP/1.1\" 200 2166"),
        "{log}"
    );
    assert!(
        log.contains("\"POST /api/exp-http-v2-0003/ro/heads HTTP/1.1\" 200"),
        "{log}"
    );
}
