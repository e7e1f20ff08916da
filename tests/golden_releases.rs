//! Golden data produced by the released Mercurials' own code
//! (`tests/data/hg{47,48,50,60}/`, generators in `scripts/`, run by
//! `scripts/gen-golden.sh`): human strings through each release's
//! `makeframefromhumanstring`, the server reactor cases of 4.7.2 (revision
//! 0005) and 4.8.2 (0006 on Python 2), and the 81 debugreflect requests
//! posted to live 4.7.2, 4.8.2, 5.0.2 (Python 2 and 3) and 6.0 servers.
//! Each release is selected the way a user selects it, by `--hg VERSION`
//! ([`hgframe::wire::proto::release`]).
//!
//! The deliberate differences of `tests/golden_humanstrings.rs` hold here
//! too and are counted, not skipped: a type number missing from the table
//! (Mercurial raises KeyError; hgframe sends it with a warning) and flag
//! values above 15 (Mercurial ORs them into the type nibble; hgframe
//! refuses).

use hgframe::human::parse_human_bytes;
use hgframe::python::escape::{hex, unhex};
use hgframe::python::json::to_json;
use hgframe::python::value::Value;
use hgframe::reactor::v0005::Reactor0005;
use hgframe::reactor::v0006::Reactor0006;
use hgframe::reactor::{Action, FrameGen, Reactor, ReactorOptions, Response, ServerCrash};
use hgframe::reflect::reflect_bytes;
use hgframe::wire::frame::{LengthMode, SliceDecoder};
use hgframe::wire::proto::release;
use hgframe::Proto;
use serde_json::Value as J;

fn proto_of(version: &str) -> Proto {
    release(version)
        .unwrap_or_else(|e| panic!("--hg {version}: {e}"))
        .proto
}

fn jsonl(text: &str) -> Vec<J> {
    text.lines()
        .map(|l| serde_json::from_str(l).expect("valid jsonl"))
        .collect()
}

/// Every line through our parser for `proto`, compared with the release's
/// recorded answer.
fn human_strings(proto: Proto, text: &str, release: &str) {
    let recs = jsonl(text);
    let (mut same, mut rejected_too, mut type_keyerror, mut flags_over_15) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    for r in &recs {
        let bytes = unhex(r["line_hex"].as_str().unwrap()).unwrap();
        let line = String::from_utf8_lossy(&bytes);
        let src = r["source"].as_str().unwrap();
        let ours = parse_human_bytes(proto, &bytes);
        match (r["ok"].as_bool().unwrap(), &ours) {
            (true, Ok(p)) => {
                let got = hex(&p.frame.encode(proto).unwrap());
                if Some(got.as_str()) == r["frame_hex"].as_str() {
                    same += 1;
                } else {
                    failures.push(format!("{src} {line:?}: ours {got} hg {}", r["frame_hex"]));
                }
            }
            (false, Err(_)) => rejected_too += 1,
            (false, Ok(p)) => {
                let err = r["error"].as_str().unwrap_or("");
                if err.starts_with("KeyError") && !p.warnings.is_empty() {
                    type_keyerror += 1;
                } else {
                    failures.push(format!("{src} {line:?}: we accept, hg: {err}"));
                }
            }
            (true, Err(e)) => {
                if e.message.contains("does not fit") {
                    flags_over_15 += 1;
                } else {
                    failures.push(format!(
                        "{src} {line:?}: we reject ({}), hg accepts",
                        e.message
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{release}: {} of {} human strings differ:\n{}",
        failures.len(),
        recs.len(),
        failures.join("\n")
    );
    eprintln!(
        "Mercurial {release}: {} human strings: {same} identical, {rejected_too} rejected by both, {type_keyerror} unknown-type lines sent with a warning, {flags_over_15} flags>15 refused",
        recs.len()
    );
    assert!(same > 150, "{same}");
}

#[test]
fn human_strings_match_mercurial_4_7_2() {
    human_strings(
        proto_of("4.7.2"),
        include_str!("data/hg47/humanstrings.jsonl"),
        "4.7.2",
    );
}

#[test]
fn human_strings_match_mercurial_4_8_2() {
    human_strings(
        proto_of("4.8.2"),
        include_str!("data/hg48/humanstrings.jsonl"),
        "4.8.2",
    );
}

/// A reactor under test: 0005 or 0006, with the per-revision calls the
/// generators make.
enum Any {
    R5(Reactor0005),
    R6(Box<Reactor0006>),
}

impl Any {
    fn r(&mut self) -> &mut dyn Reactor {
        match self {
            Any::R5(r) => r,
            Any::R6(r) => r.as_mut(),
        }
    }

    fn respond_on(&mut self, sid: u8, rid: u16, resp: Response) -> Result<Action, ServerCrash> {
        match self {
            Any::R5(r) => r.respond_on(sid, rid, resp),
            Any::R6(r) => Ok(r.respond_on(sid, rid, resp).expect("stream exists")),
        }
    }
}

fn one_value(proto: Proto, h: &str) -> Value {
    let b = unhex(h).unwrap();
    match proto.table().reactor {
        hgframe::wire::proto::ReactorKind::V0005 => hgframe::python::cbor2::load(&b).unwrap(),
        _ => {
            let mut v = hgframe::python::cbor::decode_all(&b).unwrap();
            assert_eq!(v.len(), 1);
            v.pop().unwrap()
        }
    }
}

fn action_json(proto: Proto, a: &Action) -> Result<String, String> {
    let t = match a {
        Action::SendFrames(_) => {
            Value::Tuple(vec![Value::bytes("sendframes"), Value::Dict(vec![])])
        }
        a => a.as_tuple(),
    };
    to_json(proto.json(), &t)
        .map(|j| String::from_utf8(j).unwrap())
        .map_err(|e| e.to_string())
}

fn serverreactor_cases(proto: Proto, text: &str, release: &str) -> usize {
    let data: J = serde_json::from_str(text).unwrap();
    let cases = data["cases"].as_array().unwrap();
    let mut failures = Vec::new();
    let mut limited = 0;
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let opts = ReactorOptions {
            defer_output: case["deferoutput"].as_bool().unwrap(),
            ..ReactorOptions::default()
        };
        let mut r = match proto.table().reactor {
            hgframe::wire::proto::ReactorKind::V0005 => Any::R5(Reactor0005::new(opts)),
            _ => Any::R6(Box::new(Reactor0006::for_proto(proto, opts))),
        };
        let events = case["events"].as_array().unwrap();
        let results = case["results"].as_array().unwrap();
        let mut sends: Vec<Option<FrameGen>> = Vec::new();
        for (i, (ev, want)) in events.iter().zip(results).enumerate() {
            let kind = ev["event"].as_str().unwrap();
            let fail = |m: String| format!("{name} event {i} ({kind}): {m}");
            let mut send = None;
            let rid = || ev["requestid"].as_u64().unwrap() as u16;
            let sid = || ev["streamid"].as_u64().unwrap_or(2) as u8;
            let outcome = match kind {
                "frame" => {
                    let bytes = unhex(ev["hex"].as_str().unwrap()).unwrap();
                    let f = SliceDecoder::new(proto, LengthMode::Correct, &bytes)
                        .next()
                        .unwrap()
                        .unwrap()
                        .frame
                        .to_owned();
                    Some(r.r().on_frame(&f))
                }
                "eof" => Some(r.r().on_input_eof()),
                "makeoutputstream" => {
                    let id = r.r().make_output_stream().ok().flatten();
                    if want["streamid"].as_u64() != id.map(|i| i as u64) {
                        failures.push(fail(format!("stream id {id:?}, want {}", want["streamid"])));
                    }
                    None
                }
                // A bare stream the caller makes: known to the reactor once
                // a response names it.
                "stream" => None,
                "response" | "responsegen" | "servererror" | "commanderror" => {
                    let resp = match kind {
                        "response" if ev.get("data_hex").is_some() => {
                            Response::Bytes(unhex(ev["data_hex"].as_str().unwrap()).unwrap())
                        }
                        "response" => Response::Objects(
                            ev["objects_cbor_hex"]
                                .as_array()
                                .unwrap()
                                .iter()
                                .map(|h| one_value(proto, h.as_str().unwrap()))
                                .collect(),
                        ),
                        "responsegen" => Response::Chunks(
                            ev["chunks_hex"]
                                .as_array()
                                .unwrap()
                                .iter()
                                .map(|h| unhex(h.as_str().unwrap()).unwrap())
                                .collect(),
                        ),
                        "servererror" => {
                            Response::Error(unhex(ev["message_hex"].as_str().unwrap()).unwrap())
                        }
                        _ => Response::CommandError {
                            message: unhex(ev["message_hex"].as_str().unwrap()).unwrap(),
                            args: ev["args_cbor_hex"].as_str().map(|h| one_value(proto, h)),
                        },
                    };
                    Some(r.respond_on(sid(), rid(), resp))
                }
                "consume" => {
                    let of = ev["of"].as_u64().unwrap() as usize;
                    let s = sends[of]
                        .take()
                        .expect("consume refers to a sendframes not consumed yet");
                    let c = r.r().consume(s);
                    let got: Vec<String> = c
                        .frames
                        .iter()
                        .map(|f| hex(&f.encode(proto).unwrap()))
                        .collect();
                    let want_frames: Vec<String> = want["frames_hex"]
                        .as_array()
                        .map(|a| a.iter().map(|h| h.as_str().unwrap().to_string()).collect())
                        .unwrap_or_default();
                    if let Some(crash) = c
                        .crash
                        .as_ref()
                        .filter(|c| c.exception.starts_with("hgframe limitation"))
                    {
                        if !name.contains("zstd") {
                            failures.push(fail(format!("unexpected limitation: {crash}")));
                        }
                        limited += 1;
                    } else {
                        if got != want_frames {
                            failures.push(fail(format!(
                                "frames\n ours {got:?}\n hg   {want_frames:?}"
                            )));
                        }
                        match (want.get("raises"), &c.crash) {
                            (Some(_), Some(_)) | (None, None) => {}
                            (w, o) => failures.push(fail(format!("raises: hg {w:?}, ours {o:?}"))),
                        }
                    }
                    None
                }
                other => panic!("unknown event {other}"),
            };
            if let Some(outcome) = outcome {
                match (outcome, want.get("raises")) {
                    (Err(_), Some(_)) => {}
                    (Err(c), None) => {
                        failures.push(fail(format!("we crash ({c}), hg returns {}", want["json"])))
                    }
                    (Ok(a), Some(w)) => failures.push(fail(format!(
                        "hg raises {w}, we return {:?}",
                        action_json(proto, &a)
                    ))),
                    (Ok(a), None) => {
                        let got = action_json(proto, &a);
                        match (&got, want.get("json_raises")) {
                            (Err(_), Some(_)) => {}
                            (Ok(g), None) if Some(g.as_str()) == want["json"].as_str() => {}
                            _ => failures.push(fail(format!(
                                "\n ours {got:?}\n hg   {} {}",
                                want["json"],
                                want.get("json_raises").unwrap_or(&J::Null)
                            ))),
                        }
                        if let Action::SendFrames(s) = a {
                            send = Some(s);
                        }
                    }
                }
                if want.get("raises").is_some() {
                    sends.push(send);
                    break;
                }
            }
            sends.push(send);
        }
    }
    assert!(
        failures.is_empty(),
        "{release}: {} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!(
        "Mercurial {release}: {} server reactor cases identical ({limited} stop at the zstd limitation)",
        cases.len()
    );
    assert!(limited <= 1);
    cases.len()
}

#[test]
fn serverreactor_cases_match_mercurial_4_7_2() {
    let n = serverreactor_cases(
        proto_of("4.7.2"),
        include_str!("data/hg47/serverreactor.json"),
        "4.7.2",
    );
    assert!(n >= 74);
}

#[test]
fn serverreactor_cases_match_mercurial_4_8_2() {
    let n = serverreactor_cases(
        proto_of("4.8.2"),
        include_str!("data/hg48/serverreactor.json"),
        "4.8.2",
    );
    assert!(n >= 87);
}

/// The recorded debugreflect answers of a live server: a 200 body must be
/// reproduced byte for byte, a 500 predicted.
fn reflect_vectors(proto: Proto, text: &str, release: &str) {
    let recs = jsonl(text);
    let (mut same200, mut same500, mut unordered) = (0, 0, 0);
    let mut failures = Vec::new();
    for r in &recs {
        let name = r["name"].as_str().unwrap();
        let body = unhex(r["request_hex"].as_str().unwrap()).unwrap();
        let local = reflect_bytes(proto, &body);
        let status = r["status"].as_u64().unwrap();
        match (status, &local) {
            (200, Ok(b)) => {
                let want = unhex(r["body_hex"].as_str().unwrap()).unwrap();
                if *b == want {
                    same200 += 1;
                } else if hgframe::reflect::same_but_set_order(proto, &body, b, &want) {
                    unordered += 1;
                } else {
                    failures.push(format!(
                        "{name}:\n  ours {}\n  hg   {}",
                        String::from_utf8_lossy(b),
                        String::from_utf8_lossy(&want)
                    ));
                }
            }
            (500, Err(_)) => same500 += 1,
            (s, l) => failures.push(format!(
                "{name}: hg {s} ({}), ours {}",
                r["error"].as_str().unwrap_or(""),
                match l {
                    Ok(b) => String::from_utf8_lossy(b).into_owned(),
                    Err(e) => e.to_string(),
                }
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{release}: {} of {} reflect vectors differ:\n{}",
        failures.len(),
        recs.len(),
        failures.join("\n")
    );
    eprintln!(
        "Mercurial {release}: {} reflect vectors: {same200} identical 200 bodies, {unordered} equal up to set order, {same500} predicted 500s",
        recs.len()
    );
}

#[test]
fn reflect_vectors_match_mercurial_4_7_2() {
    reflect_vectors(
        proto_of("4.7.2"),
        include_str!("data/hg47/reflect-vectors.jsonl"),
        "4.7.2",
    );
}

#[test]
fn reflect_vectors_match_mercurial_4_8_2() {
    reflect_vectors(
        proto_of("4.8.2"),
        include_str!("data/hg48/reflect-vectors.jsonl"),
        "4.8.2",
    );
}

#[test]
fn reflect_vectors_match_mercurial_5_0_2_on_python_2() {
    reflect_vectors(
        proto_of("5.0.2-py2"),
        include_str!("data/hg50/reflect-vectors.jsonl"),
        "5.0.2 (Python 2)",
    );
}

#[test]
fn reflect_vectors_match_mercurial_5_0_2_on_python_3() {
    reflect_vectors(
        proto_of("5.0.2"),
        include_str!("data/hg50/reflect-vectors-py3.jsonl"),
        "5.0.2 (Python 3)",
    );
}

#[test]
fn reflect_vectors_match_mercurial_6_0() {
    reflect_vectors(
        proto_of("6.0"),
        include_str!("data/hg60/reflect-vectors.jsonl"),
        "6.0",
    );
}
