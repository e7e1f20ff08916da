//! `hgframe serve --hg VERSION` against the real `hg serve` of Mercurial
//! 4.7.2 (revision 0005: URL space `exp-http-v2-0001`, media type
//! `…-0005`) and 4.8.2 (0006 on Python 2), installed by
//! `scripts/hg-install.sh` and started on 127.0.0.1: the same requests go
//! to both, and status codes, bodies and Content-Type must be identical —
//! the `/api/` listing, unknown APIs and commands, 405/406/415, debugreflect
//! bodies, and commands answered through each revision's response path
//! (`heads` on an empty repository, canned as `[nullid]` for ours).

mod common;

use common::{http, HgServer, HttpResponse, APICONFIG};
use hgframe::human::parse_human;
use hgframe::python::escape::escape_bytes;
use hgframe::server::{self, LogTarget, ServeOptions, ServerHandle};
use hgframe::session::Responder;
use hgframe::wire::proto::release;
use hgframe::Proto;

fn our_server(proto: Proto) -> ServerHandle {
    let mut o = ServeOptions::new(proto);
    let heads = format!("heads=cbor:[[b'{}']]", "\\x00".repeat(20));
    o.responder = Responder::parse(proto, &[heads]).expect("--respond specs parse");
    o.log = LogTarget::Silent;
    server::start(o).expect("hgframe serve starts")
}

fn frames(proto: Proto, lines: &[&str]) -> Vec<u8> {
    let mut body = Vec::new();
    for l in lines {
        let f = parse_human(proto, l).unwrap_or_else(|e| panic!("{l}: {}", e.render()));
        f.frame.encode_into(proto, &mut body).unwrap();
    }
    body
}

struct Case {
    label: String,
    method: &'static str,
    path: String,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

fn cases(proto: Proto) -> Vec<Case> {
    let t = proto.table();
    let api = format!("/api/{}", t.api_name);
    let mt = t.media_type.to_string();
    let framed = |label: &str, path: String, body: Vec<u8>| Case {
        label: label.into(),
        method: "POST",
        path,
        headers: vec![("Accept", mt.clone()), ("Content-Type", mt.clone())],
        body,
    };
    let bare = |label: &str, method: &'static str, path: String| Case {
        label: label.into(),
        method,
        path,
        headers: Vec::new(),
        body: Vec::new(),
    };
    let heads = "1 1 stream-begin command-request new cbor:{b'name': b'heads'}";
    let mut v = vec![
        bare("listing", "GET", "/api/".into()),
        bare("api root", "GET", format!("{api}/")),
        bare("unknown api", "GET", "/api/exp-http-v2-0002/".into()),
        bare("one part", "GET", format!("{api}/ro")),
        bare("bad permission", "GET", format!("{api}/xx/heads")),
        bare("GET a command", "GET", format!("{api}/ro/heads")),
        bare("no accept", "POST", format!("{api}/ro/heads")),
        Case {
            label: "accept, no content type".into(),
            method: "POST",
            path: format!("{api}/ro/heads"),
            headers: vec![("Accept", mt.clone())],
            body: Vec::new(),
        },
        framed("unknown command", format!("{api}/ro/nosuch"), Vec::new()),
        framed("heads", format!("{api}/ro/heads"), frames(proto, &[heads])),
        framed(
            "command must match URL",
            format!("{api}/ro/known"),
            frames(proto, &[heads]),
        ),
        framed(
            "two commands",
            format!("{api}/ro/heads"),
            frames(
                proto,
                &[heads, "3 1 0 command-request new cbor:{b'name': b'heads'}"],
            ),
        ),
        framed(
            "multirequest unknown",
            format!("{api}/ro/multirequest"),
            frames(
                proto,
                &["1 1 stream-begin command-request new cbor:{b'name': b'nosuch'}"],
            ),
        ),
        framed(
            "multirequest push on ro",
            format!("{api}/ro/multirequest"),
            frames(
                proto,
                &["1 1 stream-begin command-request new cbor:{b'name': b'pushkey'}"],
            ),
        ),
        framed(
            "reactor error",
            format!("{api}/ro/heads"),
            frames(proto, &["1 1 stream-begin command-data eos x"]),
        ),
        framed("empty body", format!("{api}/ro/heads"), Vec::new()),
        framed(
            "truncated",
            format!("{api}/ro/heads"),
            vec![0x0c, 0, 0, 1, 0],
        ),
    ];
    // Content encodings (0006 only): the response stream's bytes depend on
    // the release's zlib and bundled zstd.
    if t.sender_settings.is_some() {
        for enc in ["zlib", "zstd-8mb", "identity"] {
            let settings = format!(
                "0 1 stream-begin sender-protocol-settings eos cbor:{{b'contentencodings': [b'{enc}']}}"
            );
            v.push(framed(
                &format!("heads, {enc}"),
                format!("{api}/ro/heads"),
                frames(
                    proto,
                    &[
                        &settings,
                        "1 1 0 command-request new cbor:{b'name': b'heads'}",
                    ],
                ),
            ));
        }
    }
    for (label, lines) in [
        ("reflect heads", &[heads][..]),
        ("reflect empty", &[][..]),
        (
            "reflect args",
            &["1 1 stream-begin command-request new cbor:{b'name': b'x', b'args': {b'k': [1, None, b'<v>']}}"][..],
        ),
        (
            "reflect error",
            &["1 1 stream-begin command-request new cbor:{b'name': b'x'}", "1 1 0 command-request new cbor:{b'name': b'x'}"][..],
        ),
        ("reflect non-utf8", &["1 1 stream-begin command-request new cbor:{b'name': b'caf\\xe9'}"][..]),
        ("reflect encoded", &["1 1 stream-begin|encoded command-request new cbor:{b'name': b'x'}"][..]),
    ] {
        v.push(framed(label, format!("{api}/ro/debugreflect"), frames(proto, lines)));
    }
    v
}

fn show(b: &[u8]) -> String {
    let s = escape_bytes(b);
    if s.len() > 400 {
        format!("{}... ({} bytes)", &s[..400], b.len())
    } else {
        s
    }
}

fn compare(version: &str) {
    let proto = release(version).unwrap().proto;
    let hg = HgServer::start_release(version, APICONFIG);
    let ours = our_server(proto);
    let mut failures = Vec::new();
    let cs = cases(proto);
    for c in &cs {
        let headers: Vec<(&str, &str)> = c.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let a: HttpResponse = http(hg.port, c.method, &c.path, &headers, &c.body);
        let b: HttpResponse = http(ours.addr().port(), c.method, &c.path, &headers, &c.body);
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
        if !diffs.is_empty() {
            failures.push(format!(
                "{} ({} {}):\n    {}",
                c.label,
                c.method,
                c.path,
                diffs.join("\n    ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "hgframe serve --hg {version} differs from Mercurial {version} in {} of {} requests:\n{}",
        failures.len(),
        cs.len(),
        failures.join("\n")
    );
    eprintln!(
        "hgframe serve --hg {version}: {} requests answered as Mercurial {version} answers them",
        cs.len()
    );
}

#[test]
fn serve_as_4_7_2_matches_mercurial_4_7_2() {
    compare("4.7.2");
}

#[test]
fn serve_as_4_8_2_matches_mercurial_4_8_2() {
    compare("4.8.2");
}
