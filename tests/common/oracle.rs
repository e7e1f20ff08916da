//! Comparing hgframe's decoding of recorded exchanges with
//! `tests/support/hgdecode.py`'s (Mercurial 6.0's own client code run on
//! the same bytes) or `tests/support/hgdecode47.py`'s (4.7.2's): the
//! values in the oracle's rendering (`conv`), and one recording directory
//! (`NNN.json`, `NNN.req.bin`, `NNN.resp.bin`, `NNN.decoded.json`) checked
//! exchange by exchange. The 4.7.2 oracle also says what each frame makes
//! the reactor raise, where the client stops (its peer raises on every
//! error) and what reading a request's data raises; those are compared
//! when it is the oracle (`"mercurial": "4.7.2"`).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

use hgframe::python::escape::hex;
use hgframe::python::value::{dict_get_in, Value};
use hgframe::python::Py;
use hgframe::reactor::client::response::{
    read_request_body, ResponseDecoder, ResponseEvent, Verdict,
};
use hgframe::reactor::client::ClientCrash;
use hgframe::reactor::client::Limits;
use hgframe::wire::body::{decode_body, BodyKind, DecodedBody};
use hgframe::wire::frame::DecodeError;
use hgframe::wire::frame::{LengthMode, SliceDecoder};
use hgframe::Proto;
use serde_json::{json, Value as J};

/// Python's `json.dumps(v)` (ensure_ascii, default separators), by which
/// the oracle sorts set members.
pub fn py_dumps(v: &J) -> String {
    match v {
        J::String(s) => {
            let mut out = String::from("\"");
            for u in s.encode_utf16() {
                match u {
                    0x22 => out.push_str("\\\""),
                    0x5c => out.push_str("\\\\"),
                    0x0a => out.push_str("\\n"),
                    0x0d => out.push_str("\\r"),
                    0x09 => out.push_str("\\t"),
                    0x08 => out.push_str("\\b"),
                    0x0c => out.push_str("\\f"),
                    0x20..=0x7e => out.push(u as u8 as char),
                    _ => out.push_str(&format!("\\u{u:04x}")),
                }
            }
            out.push('"');
            out
        }
        J::Array(a) => format!(
            "[{}]",
            a.iter().map(py_dumps).collect::<Vec<_>>().join(", ")
        ),
        J::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{}: {}", py_dumps(&J::String(k.clone())), py_dumps(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

/// The oracle's `conv()` (also the golden-data generators').
pub fn conv(v: &Value) -> J {
    fn bytes(b: &[u8]) -> J {
        match std::str::from_utf8(b) {
            Err(_) if b.len() == 20 => J::String(hex(b)),
            Err(_) => json!({ "hex": hex(b) }),
            Ok(s) => {
                let control = s
                    .chars()
                    .any(|c| c < ' ' || ('\x7f'..='\u{9f}').contains(&c));
                if b.len() == 20 && control {
                    J::String(hex(b))
                } else {
                    J::String(s.to_string())
                }
            }
        }
    }
    match v {
        Value::None => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => match i64::try_from(*i) {
            Ok(x) => json!(x),
            Err(_) => json!(*i as u64),
        },
        Value::Bytes(b) | Value::ByteArray(b) => bytes(b),
        Value::Chunk { data, first, last } => {
            json!({"chunk": bytes(data), "first": first, "last": last})
        }
        Value::List(x) | Value::Tuple(x) => J::Array(x.iter().map(conv).collect()),
        Value::Set(x) => {
            let mut items: Vec<J> = x.iter().map(conv).collect();
            items.sort_by_key(py_dumps);
            json!({ "set": items })
        }
        Value::Dict(d) => {
            let items: Vec<(J, J)> = d.iter().map(|(k, v)| (conv(k), conv(v))).collect();
            if items.iter().all(|(k, _)| k.is_string()) {
                J::Object(
                    items
                        .into_iter()
                        .map(|(k, v)| (k.as_str().unwrap().to_string(), v))
                        .collect(),
                )
            } else {
                json!({"map": items.into_iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>()})
            }
        }
        Value::Str(s) => J::String(String::from_utf8_lossy(s).into_owned()),
        Value::Float(f) => json!(f),
        other => panic!("the oracle never decodes a {}", other.type_name()),
    }
}

/// `conv()` of `tests/support/hgdecode47.py`: every Python 2 type told
/// apart (bytes from text, a float by its bits, bytearray, big ints, the
/// objects cbor2 makes by what hgframe shows of them).
pub fn conv47(v: &Value) -> J {
    fn bytes(b: &[u8]) -> J {
        conv(&Value::Bytes(b.to_vec()))
    }
    fn sorted(mut items: Vec<J>) -> Vec<J> {
        items.sort_by_cached_key(py_dumps);
        items
    }
    match v {
        Value::None => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) if (-(1i128 << 63)..(1i128 << 64)).contains(i) => {
            if *i < 0 {
                json!(*i as i64)
            } else {
                json!(*i as u64)
            }
        }
        Value::Int(i) => json!({"int": i.to_string()}),
        Value::Big(b) => json!({"int": b.to_decimal()}),
        Value::Float(f) => json!({"float": format!("{:016x}", f.to_bits())}),
        Value::Str(s) => match std::str::from_utf8(s) {
            Ok(t) => json!({ "text": t }),
            Err(_) => json!({ "text-cp": code_points(s) }),
        },
        Value::Bytes(b) => bytes(b),
        Value::ByteArray(b) => json!({ "bytearray": bytes(b) }),
        Value::List(x) | Value::Tuple(x) => J::Array(x.iter().map(conv47).collect()),
        Value::Set(x) => json!({ "set": sorted(x.iter().map(conv47).collect()) }),
        Value::Dict(d) => {
            let items: Vec<(J, J)> = d.iter().map(|(k, v)| (conv47(k), conv47(v))).collect();
            if items.iter().all(|(k, _)| k.is_string()) {
                J::Object(
                    items
                        .into_iter()
                        .map(|(k, v)| (k.as_str().unwrap().to_string(), v))
                        .collect(),
                )
            } else {
                json!({"map": sorted(items.into_iter().map(|(k, v)| json!([k, v])).collect())})
            }
        }
        Value::Opaque(_, shown) => json!({ "opaque": shown }),
        Value::Chunk { .. } => panic!("cbor2 never decodes a chunk"),
    }
}

/// The code points of UTF-8 that may hold encoded surrogates (what
/// Python 2's codec decodes them to).
fn code_points(s: &[u8]) -> Vec<u32> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let b = s[i] as u32;
        let (n, init) = match b {
            0..=0x7f => (1, b),
            0xc0..=0xdf => (2, b & 0x1f),
            0xe0..=0xef => (3, b & 0x0f),
            _ => (4, b & 0x07),
        };
        let mut c = init;
        for k in 1..n {
            c = c << 6 | (s.get(i + k).copied().unwrap_or(0) as u32 & 0x3f);
        }
        out.push(c);
        i += n;
    }
    out
}

/// What comparing one recording found.
#[derive(Debug, Default)]
pub struct Report {
    pub exchanges: usize,
    /// Objects (CBOR values) compared with the oracle's, all kinds.
    pub objects: usize,
    /// Response frames compared.
    pub frames: usize,
    /// Commands seen, in order: `capabilities (v1)` for the handshake, the
    /// URL command and, for multirequest, the commands inside.
    pub commands: Vec<String>,
    /// Encodings the server chose, over all responses.
    pub encodings: Vec<String>,
    /// Request bodies our client reactor reproduced byte for byte.
    pub reproduced: usize,
    pub mismatches: Vec<String>,
}

fn content_type(meta: &J) -> Option<String> {
    meta["response_headers"].as_array()?.iter().find_map(|h| {
        let h = h.as_array()?;
        h[0].as_str()?
            .eq_ignore_ascii_case("content-type")
            .then(|| h[1].as_str().unwrap_or("").to_string())
    })
}

/// Compare every exchange of a recording directory with its
/// `NNN.decoded.json`.
pub fn compare_recording(dir: &Path) -> Report {
    let mut report = Report::default();
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n.strip_suffix(".json").is_some_and(|stem| {
                    !stem.is_empty() && stem.bytes().all(|b| b.is_ascii_digit())
                })
            })
        })
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no exchanges in {}", dir.display());
    for meta_path in names {
        let base = meta_path
            .to_str()
            .unwrap()
            .trim_end_matches(".json")
            .to_string();
        let read = |suffix: &str| std::fs::read(format!("{base}{suffix}")).unwrap_or_default();
        let meta: J = serde_json::from_slice(&read(".json")).unwrap();
        let oracle: J = serde_json::from_slice(&read(".decoded.json")).unwrap_or_else(|e| {
            panic!("{base}.decoded.json: {e} (run tests/support/hgdecode.py on the recording)")
        });
        let (req, resp) = (read(".req.bin"), read(".resp.bin"));
        let seq = base.rsplit('/').next().unwrap().to_string();
        report.exchanges += 1;
        let target = meta["target"].as_str().unwrap_or("");
        let mismatch =
            |report: &mut Report, m: String| report.mismatches.push(format!("{seq} {target}: {m}"));
        let ct = content_type(&meta);
        let kind = BodyKind::of(ct.as_deref().unwrap_or(""));
        if target.contains("cmd=capabilities") {
            report.commands.push("capabilities (v1)".into());
        } else if let Some(c) = target.rsplit('/').next() {
            report.commands.push(c.to_string());
        }
        match oracle["kind"].as_str().unwrap() {
            "frames" => {
                let proto = match kind {
                    BodyKind::Frames(p) => p,
                    other => {
                        mismatch(
                            &mut report,
                            format!("oracle decodes frames, we see {other:?}"),
                        );
                        continue;
                    }
                };
                compare_frames(&mut report, &seq, target, proto, &req, &resp, &oracle);
            }
            "cbor" => {
                let ours = match decode_body(kind, &resp, Limits::default().max_value) {
                    DecodedBody::Cbor(Ok(v)) => J::Array(v.iter().map(conv).collect()),
                    other => {
                        mismatch(&mut report, format!("not CBOR values: {other:?}"));
                        continue;
                    }
                };
                report.objects += ours.as_array().unwrap().len();
                if ours != oracle["values"] {
                    mismatch(&mut report, "CBOR values differ".into());
                }
            }
            "text" => {
                report.objects += 1;
                if conv(&Value::Bytes(resp.clone())) != oracle["text"] {
                    mismatch(&mut report, "text differs".into());
                }
            }
            other => {
                if !resp.is_empty() {
                    mismatch(&mut report, format!("oracle kind {other} with a body"));
                }
            }
        }
    }
    report
}

fn compare_frames(
    report: &mut Report,
    seq: &str,
    target: &str,
    proto: Proto,
    req: &[u8],
    resp: &[u8],
    oracle: &J,
) {
    let mut fail = |m: String| report.mismatches.push(format!("{seq} {target}: {m}"));
    // The 4.7.2 oracle records exceptions and data errors per frame and
    // request; hgdecode.py (6.0) stops at the first exception.
    let full = oracle["mercurial"] == "4.7.2";
    let conv = if full { conv47 } else { conv };
    let body = read_request_body(proto, req);
    let want_cmds: Vec<&str> = oracle["request"]["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["command"].as_str().unwrap())
        .collect();
    let got_cmds: Vec<String> = body
        .commands
        .iter()
        .map(|c| String::from_utf8_lossy(&c.command.name).into_owned())
        .collect();
    if got_cmds != want_cmds {
        fail(format!("commands {got_cmds:?}, oracle {want_cmds:?}"));
    }
    if want_cmds.len() > 1 || target.ends_with("multirequest") {
        for c in &got_cmds {
            report.commands.push(format!("  {c}"));
        }
    }
    let (mut dec, sent) = ResponseDecoder::for_request(proto, &body, Limits::default()).unwrap();
    if sent == req {
        report.reproduced += 1;
    } else {
        fail("our client reactor does not reproduce the request body".into());
    }
    // Ours, per frame and per request.
    let mut frames: Vec<J> = Vec::new();
    let mut objects: BTreeMap<u16, Vec<J>> = BTreeMap::new();
    let mut sizes: BTreeMap<u16, (usize, usize)> = BTreeMap::new();
    let mut data_errors: BTreeMap<u16, String> = BTreeMap::new();
    let mut first_objects: BTreeMap<u16, Value> = BTreeMap::new();
    // What reading the body raises at its end (a truncated frame).
    let mut read_error = None;
    for item in SliceDecoder::new(proto, LengthMode::Correct, resp) {
        let l = match item {
            Ok(l) => l,
            Err(e) if full => {
                read_error = Some(readframe_raises(&e));
                break;
            }
            Err(e) => panic!("{seq}: {e}"),
        };
        let l = hgframe::wire::frame::Located {
            offset: l.offset,
            header: l.header,
            frame: l.frame.to_owned(),
        };
        dec.push_frame(l).unwrap();
        while let Some(ev) = dec.poll() {
            match ev.unwrap() {
                ResponseEvent::Frame(fe) => frames.push(with_peer(fe.peer_raises, match fe.verdict {
                    Verdict::Noop { .. } => json!({"action": "noop"}),
                    Verdict::Data {
                        request_id,
                        expect_more,
                        eos,
                        len,
                        ..
                    } => {
                        sizes.entry(request_id).or_default().0 += len;
                        json!({"action": "responsedata", "decoded_size": len, "expectmore": expect_more, "eos": eos})
                    }
                    Verdict::ServerError { kind, message, .. } => {
                        json!({"action": "error", "message": conv(&message), "errortype": conv(&kind)})
                    }
                    Verdict::Rejected { message } => {
                        json!({"action": "error", "message": conv(&Value::Bytes(message))})
                    }
                    Verdict::Raises(c) => json!({"raises": c.exception}),
                })),
                ResponseEvent::Object {
                    request_id, value, ..
                } => {
                    objects.entry(request_id).or_default().push(conv(&value));
                    first_objects.entry(request_id).or_insert(value);
                }
                ResponseEvent::DataError { request_id, error } if full => {
                    data_errors.insert(request_id, error);
                }
                ResponseEvent::DataError { request_id, error } => {
                    fail(format!("request {request_id}: data error {error}"))
                }
            }
        }
    }
    let summary = dec.summary();
    let oframes = oracle["frames"].as_array().unwrap();
    if frames.len() != oframes.len() {
        fail(format!("{} frames, oracle {}", frames.len(), oframes.len()));
    }
    let zstd = oracle["encodings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e == "zstd-8mb");
    for (i, (ours, theirs)) in frames.iter().zip(oframes).enumerate() {
        report.frames += 1;
        let keys: &[&str] = if full {
            &[
                "action",
                "expectmore",
                "eos",
                "message",
                "errortype",
                "raises",
                "peer_raises",
            ]
        } else {
            &["action", "expectmore", "eos", "message", "errortype"]
        };
        for &key in keys {
            if ours.get(key) != theirs.get(key) {
                fail(format!(
                    "frame {i}: {key} {:?}, oracle {:?}",
                    ours.get(key),
                    theirs.get(key)
                ));
            }
        }
        if let Some(n) = theirs["decoded_size"].as_u64() {
            let rid = theirs["requestid"].as_u64().unwrap() as u16;
            sizes.entry(rid).or_default().1 += n as usize;
            // zstd output is split over frames as libzstd hands it over
            // (the totals are compared below).
            if !zstd && ours["decoded_size"] != theirs["decoded_size"] {
                fail(format!(
                    "frame {i}: decoded {} bytes, oracle {n}",
                    ours["decoded_size"]
                ));
            }
        }
    }
    for (rid, (ours, theirs)) in &sizes {
        if ours != theirs {
            fail(format!(
                "request {rid}: {ours} decoded bytes, oracle {theirs}"
            ));
        }
    }
    for r in oracle["responses"].as_array().unwrap() {
        let rid = r["requestid"].as_u64().unwrap() as u16;
        let ours = objects.remove(&rid).unwrap_or_default();
        let theirs = r["objects"].as_array().unwrap();
        report.objects += theirs.len();
        if ours.len() != theirs.len() {
            fail(format!(
                "request {rid}: {} objects, oracle {}",
                ours.len(),
                theirs.len()
            ));
        }
        for (k, (a, b)) in ours.iter().zip(theirs).enumerate() {
            if a != b {
                let show = |v: &J| v.to_string().chars().take(300).collect::<String>();
                fail(format!(
                    "request {rid} object {k}: {} vs oracle {}",
                    show(a),
                    show(b)
                ));
            }
        }
        let s = summary.requests.iter().find(|s| s.request_id == rid);
        let status = s
            .and_then(|s| s.status.clone())
            .map(|b| String::from_utf8_lossy(&b).into_owned());
        if full {
            // `objs[0].get(b'status')`, whatever it is.
            let value = match first_objects.get(&rid) {
                Some(Value::Dict(d)) => dict_get_in(Py::Two, d, &Value::bytes("status")),
                _ => None,
            };
            let ours = value.map_or(J::Null, conv47);
            if ours != r["status"] {
                fail(format!(
                    "request {rid}: status {ours}, oracle {}",
                    r["status"]
                ));
            }
        } else if status.as_deref() != r["status"].as_str() {
            fail(format!(
                "request {rid}: status {status:?}, oracle {}",
                r["status"]
            ));
        }
        if s.map(|s| s.complete) != r["complete"].as_bool() {
            fail(format!("request {rid}: complete differs"));
        }
        if full {
            let ours = data_errors.remove(&rid);
            if ours.as_deref() != r["data_error"].as_str() {
                fail(format!(
                    "request {rid}: data error {ours:?}, oracle {}",
                    r["data_error"]
                ));
            }
        }
    }
    if !objects.is_empty() {
        fail(format!(
            "objects for requests the oracle does not list: {:?}",
            objects.keys()
        ));
    }
    let mut encs: Vec<String> = Vec::new();
    for (_, e) in &summary.encodings {
        if !encs.contains(e) {
            encs.push(e.clone());
        }
    }
    let oencs: Vec<String> = oracle["encodings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap().to_string())
        .collect();
    if encs != oencs {
        fail(format!("encodings {encs:?}, oracle {oencs:?}"));
    }
    for e in encs {
        if !report.encodings.contains(&e) {
            report.encodings.push(e);
        }
    }
    let orej = oracle["rejected"].as_array().unwrap().len() as u64;
    if summary.refused != orej {
        fail(format!("{} frames refused, oracle {orej}", summary.refused));
    }
    if full {
        let ours = summary
            .stopped
            .as_ref()
            .map(|(i, e)| json!({"frame": i, "raises": e}))
            .or_else(|| read_error.map(|e| json!({"frame": null, "raises": e})));
        let theirs = Some(&oracle["stopped"]).filter(|v| !v.is_null());
        if ours.as_ref() != theirs {
            fail(format!("stopped {ours:?}, oracle {theirs:?}"));
        }
    }
}

/// A frame's verdict with what the peer raises on top of it.
fn with_peer(peer: Option<Box<ClientCrash>>, mut verdict: J) -> J {
    if let Some(c) = peer {
        verdict["peer_raises"] = json!(c.exception);
    }
    verdict
}

/// What 4.7.2's `wireprotoframing.readframe` raises at a truncated frame,
/// as the oracle shows it (`Abort: ` and the message, its bytes as UTF-8
/// with replacement characters).
fn readframe_raises(e: &DecodeError) -> String {
    match e {
        DecodeError::TruncatedHeader { got, hex, .. } => {
            // `'%s' % header`: the 8-byte buffer, zeros after what came.
            let mut header = hgframe::python::escape::unhex(hex).unwrap_or_default();
            header.resize(8, 0);
            let mut m = format!("Abort: received incomplete frame: got {got} bytes: ").into_bytes();
            m.extend_from_slice(&header);
            String::from_utf8_lossy(&m).into_owned()
        }
        DecodeError::TruncatedPayload { want, got, .. } => {
            format!("Abort: frame length error: expected {want}; got {got}")
        }
    }
}
