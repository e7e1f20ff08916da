//! Replay scripts: the `.hgframe` transcript format ([`script`]) and the
//! runner.
//!
//! A script is a sequence of requests, each ended by `eof`. A request runs
//! on a fresh local reactor (as a server's debugreflect endpoint makes one
//! per HTTP request) or is POSTed to a URL; every step's actual output is
//! compared with the `<` lines under it. Output lines follow one rule for
//! every target, so one transcript passes against the local reactor,
//! `hgframe serve` and a real Mercurial: a frame's line is the JSON its
//! debugreflect endpoint prints; a request the server answers with 500
//! shows no frame lines and `status 500` at its `eof`.
//!
//! Scripts stream: lines are read and run one request at a time, so memory
//! is bounded by the largest single request, not the script.

pub mod script;

use std::io::BufRead;

use crate::client::{Client, ClientError};
use crate::human::shorthand::Shorthand;
use crate::human::{infer_proto, parse_human};
use crate::python::escape::unhex;
use crate::python::json::to_json;
use crate::python::value::Value;
use crate::reactor::{Action, ReactorOptions};
use crate::reflect::parse_reflect_body;
use crate::remote::HttpError;
use crate::session::{Responder, Session, Step};
use crate::wire::frame::Frame;
use crate::wire::proto::Proto;
use script::{line_matches, Assertion, Item, Line, ScriptError};

/// Where requests go.
pub enum Exec<'a> {
    Local,
    Remote(&'a Client),
}

/// Why a script could not be run to the end (not a mismatch).
#[derive(Debug, thiserror::Error)]
pub enum Fatal {
    /// The script does not parse (or cannot be read).
    #[error("{0}")]
    Parse(Box<ScriptError>),
    /// The server could not be reached.
    #[error(transparent)]
    Transport(ClientError),
    /// The server answered an HTTP error other than 500.
    #[error(transparent)]
    Http(Box<HttpError>),
}

impl From<ScriptError> for Fatal {
    fn from(e: ScriptError) -> Self {
        Fatal::Parse(Box::new(e))
    }
}

/// A mismatch or failed assertion.
#[derive(Debug, Clone)]
pub struct Failure {
    pub line: usize,
    pub message: String,
    /// The step's own line (frame, eof ...).
    pub step: String,
    pub expected: Vec<String>,
    pub actual: Vec<String>,
}

/// Outcome of one script.
#[derive(Debug, Default)]
pub struct ScriptReport {
    pub requests: usize,
    pub frames: usize,
    pub failures: Vec<Failure>,
    /// Reason when skipped.
    pub skipped: Option<String>,
    /// The rewritten script (update mode).
    pub updated: Option<String>,
    /// Per-step outputs, for comparing targets (`--against`).
    pub outputs: Vec<(usize, Vec<String>)>,
}

/// Options of a run.
pub struct RunOptions {
    /// Override the script's revision.
    pub proto: Option<Proto>,
    /// Rewrite expectations (collect the updated text).
    pub update: bool,
    /// Keep per-step outputs (for `--against`).
    pub keep_outputs: bool,
    /// Compare with the `<` lines (off for `--against`).
    pub check: bool,
}

/// A step within the current request.
struct StepRec {
    line: usize,
    text: String,
    /// Encoded bytes this step adds to the body (empty for eof).
    bytes: Vec<u8>,
    is_eof: bool,
    expected: Vec<String>,
    asserts: Vec<(usize, Assertion)>,
    actual: Vec<String>,
    actions: Vec<Action>,
    sent: Vec<Frame>,
}

fn json_line(proto: Proto, v: &Value) -> Result<String, String> {
    to_json(proto.table().json, v)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .map_err(|e| e.to_string())
}

/// Run one request's steps (the last is `eof`); fills `actual`.
fn run_request(
    exec: &Exec<'_>,
    proto: Proto,
    steps: &mut [StepRec],
    defer: bool,
    responder: &Responder,
) -> Result<(), Fatal> {
    match exec {
        Exec::Local => {
            let mut session = Session::new(
                proto,
                ReactorOptions {
                    defer_output: defer,
                },
                responder.clone(),
            );
            let mut failed = false;
            let n = steps.len();
            for st in steps.iter_mut() {
                if st.is_eof {
                    session.finish_input();
                } else {
                    session.push_bytes(&std::mem::take(&mut st.bytes));
                }
                session.drain(&mut |s: Step| collect(proto, s, st, &mut failed));
            }
            if failed {
                for st in steps.iter_mut() {
                    st.actual.clear();
                }
                steps[n - 1].actual = vec!["status 500".into()];
            }
            Ok(())
        }
        Exec::Remote(client) => {
            let mut body = Vec::new();
            let mut ranges = Vec::new();
            for st in steps.iter() {
                let start = body.len();
                body.extend_from_slice(&st.bytes);
                ranges.push(start..body.len());
            }
            let url = client.target.command_url(proto, false, "debugreflect");
            let reply = client
                .post_frames(&url, proto, body.clone())
                .map_err(Fatal::Transport)?;
            let n = steps.len();
            match reply.status {
                200 => {
                    let frames = crate::remote::sent_frames(proto, &body);
                    let parsed = parse_reflect_body(proto, &frames, &reply.body);
                    for rs in parsed.steps {
                        let i = ranges
                            .iter()
                            .position(|r| r.contains(&(rs.frame.offset as usize)))
                            .unwrap_or(n - 1);
                        steps[i]
                            .actual
                            .push(String::from_utf8_lossy(&rs.raw).into_owned());
                        if let Ok(a) = rs.action {
                            steps[i].actions.push(a);
                        }
                    }
                    steps[n - 1]
                        .actual
                        .push(String::from_utf8_lossy(&parsed.eof_raw).into_owned());
                    if let Some(Ok(a)) = parsed.eof {
                        steps[n - 1].actions.push(a);
                    }
                    Ok(())
                }
                500 => {
                    steps[n - 1].actual = vec!["status 500".into()];
                    Ok(())
                }
                _ => Err(Fatal::Http(Box::new(HttpError::new(
                    &reply,
                    format!("POST {}", crate::client::redact(&url)),
                )))),
            }
        }
    }
}

fn collect(proto: Proto, s: Step, st: &mut StepRec, failed: &mut bool) {
    let (outcome, sent, json) = match s {
        Step::Undecodable(_) => {
            *failed = true;
            return;
        }
        // A frame's line is its (action, meta) as debugreflect prints it.
        Step::Frame { outcome, sent, .. } => {
            let json = match &outcome {
                Ok(a) if !matches!(a, Action::SendFrames(_)) => {
                    Some(json_line(proto, &a.as_tuple()))
                }
                _ => None,
            };
            (outcome, sent, json)
        }
        // Canned responses are not part of debugreflect: only their frames show.
        Step::Response { outcome, sent, .. } => (outcome, sent, None),
        // End of input: the final meta with its action.
        Step::Eof { outcome, sent } => {
            let json = outcome.as_ref().ok().map(|a| {
                let mut meta = a.meta();
                if let Value::Dict(d) = &mut meta {
                    d.retain(|(k, _)| k.as_bytes() != Some(b"framegen"));
                    crate::python::value::dict_insert(
                        d,
                        Value::bytes("action"),
                        Value::bytes(a.name()),
                    );
                }
                json_line(proto, &meta)
            });
            (outcome, sent, json)
        }
    };
    match outcome {
        Ok(a) => st.actions.push(a),
        Err(_) => *failed = true,
    }
    match json {
        Some(Ok(l)) => st.actual.push(l),
        Some(Err(_)) => *failed = true,
        None => {}
    }
    if let Some(c) = sent {
        for f in &c.frames {
            st.actual
                .push(format!("sent: {}", crate::human::to_human(proto, f)));
            st.sent.push(f.clone());
        }
        if c.crash.is_some() {
            *failed = true;
        }
    }
}

fn check_assert(proto: Proto, a: &Assertion, st: &StepRec, status: u16) -> Option<String> {
    match a {
        Assertion::Status(want) => {
            (status != *want).then(|| format!("expected status {want}, got {status}"))
        }
        Assertion::Action(name) => {
            let got: Vec<&str> = st.actions.iter().map(|a| a.name()).collect();
            if got.last() == Some(&name.as_str()) {
                None
            } else if status != 200 {
                Some(format!(
                    "expected action {name}, but the request got HTTP {status}"
                ))
            } else {
                Some(format!(
                    "expected action {name}, got {}",
                    if got.is_empty() {
                        "none".into()
                    } else {
                        got.join(", ")
                    }
                ))
            }
        }
        Assertion::Error(text) => {
            let msgs: Vec<String> = st
                .actions
                .iter()
                .filter_map(|a| match a {
                    Action::Error { message } => {
                        Some(String::from_utf8_lossy(message).into_owned())
                    }
                    _ => None,
                })
                .collect();
            if msgs.iter().any(|m| m.contains(text.as_str())) {
                None
            } else if msgs.is_empty() {
                Some(format!(
                    "expected an error containing {text:?}, got no error action"
                ))
            } else {
                Some(format!(
                    "expected an error containing {text:?}, got {msgs:?}"
                ))
            }
        }
        Assertion::Frame(conds) => {
            let ok = st.sent.iter().any(|f| {
                conds.iter().all(|(k, v)| {
                    let p = proto;
                    match k.as_str() {
                        "type" => p.type_name(f.type_id) == *v || f.type_id.to_string() == *v,
                        "flags" => {
                            p.flags_to_string(f.type_id, f.flags) == *v || f.flags.to_string() == *v
                        }
                        "stream-flags" => {
                            p.stream_flags_to_string(f.stream_flags) == *v
                                || f.stream_flags.to_string() == *v
                        }
                        "request" => f.request_id.to_string() == *v,
                        "stream" => f.stream_id.to_string() == *v,
                        "payload" => crate::python::escape::escape_bytes(&f.payload) == *v,
                        _ => false,
                    }
                })
            });
            (!ok).then(|| {
                format!(
                    "no sent frame matches {}; sent: {}",
                    conds
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(" "),
                    if st.sent.is_empty() {
                        "none".to_string()
                    } else {
                        st.sent
                            .iter()
                            .map(|f| crate::human::to_human(proto, f))
                            .collect::<Vec<_>>()
                            .join(" / ")
                    }
                )
            })
        }
    }
}

fn lines_match(expected: &[String], actual: &[String]) -> bool {
    expected.len() == actual.len() && expected.iter().zip(actual).all(|(e, a)| line_matches(e, a))
}

/// Run a script from a reader.
pub fn run_script<R: BufRead + Send>(
    file: &str,
    reader: R,
    exec: &Exec<'_>,
    server_proto: Option<Proto>,
    opts: &RunOptions,
    mut progress: impl FnMut(usize),
) -> Result<ScriptReport, Fatal> {
    let mut report = ScriptReport::default();
    let mut lines = script::read_lines(file.to_string(), reader).peekable();
    // Header: directives and comments before the first step decide the
    // revision; if none is given, the first frame lines decide.
    let mut head: Vec<Line> = Vec::new();
    while let Some(l) = lines.peek() {
        match l {
            Ok(Line {
                item: Item::Frame(_) | Item::Bin(_) | Item::Eof,
                ..
            })
            | Err(_) => break,
            Ok(_) => head.push(lines.next().and_then(|r| r.ok()).expect("peeked")),
        }
    }
    let mut proto = opts.proto;
    let mut defer = false;
    let mut responder_specs: Vec<String> = Vec::new();
    for l in &head {
        match &l.item {
            Item::Proto(p) if opts.proto.is_none() => proto = p.parse().ok(),
            Item::Defer(d) => defer = *d,
            Item::Respond(k, v) => responder_specs.push(format!("{k}={v}")),
            _ => {}
        }
    }
    let mut pending: Vec<Line> = Vec::new();
    if proto.is_none() {
        // Look ahead at frame lines (bounded) to infer.
        let mut texts = Vec::new();
        while let Some(l) = lines.peek() {
            if texts.len() >= 64 {
                break;
            }
            match l {
                Ok(line) => {
                    if let Item::Frame(f) = &line.item {
                        texts.push(f.clone());
                    }
                    pending.push(lines.next().and_then(|r| r.ok()).expect("peeked"));
                }
                Err(_) => break,
            }
        }
        proto = Some(infer_proto(texts.iter().map(|s| s.as_str())).0);
    }
    let proto = proto.unwrap_or(Proto::DEFAULT);
    if let (Exec::Remote(_), Some(sp)) = (exec, server_proto) {
        if sp != proto {
            report.skipped = Some(format!(
                "the script is protocol {proto}; the server speaks {sp}"
            ));
            return Ok(report);
        }
    }
    if matches!(exec, Exec::Remote(_)) && (!responder_specs.is_empty() || defer) {
        report.skipped =
            Some("the script plays the server's part (respond/defer): local reactor only".into());
        return Ok(report);
    }
    let mut responder = Responder::parse(proto, &responder_specs).map_err(|e| {
        Fatal::Parse(Box::new(ScriptError {
            file: file.into(),
            line: head
                .iter()
                .find(|l| matches!(l.item, Item::Respond(..)))
                .map_or(0, |l| l.number),
            text: String::new(),
            caret: String::new(),
            message: e.to_string(),
            help: String::new(),
        }))
    })?;
    let mut out_text = String::new();
    if opts.update {
        for l in &head {
            out_text.push_str(&l.text);
            out_text.push('\n');
        }
    }
    let mut steps: Vec<StepRec> = Vec::new();
    // Lines after the last eof (trailing comments) must survive --update.
    let mut interleaved: Vec<(usize, String)> = Vec::new();
    let all = pending.into_iter().map(Ok).chain(lines);
    // Two threads: one reads the script and encodes frame lines (text
    // parsing is about half the work), this one runs requests and compares.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Result<Prepared, Fatal>>>(16);
    std::thread::scope(|scope| -> Result<(), Fatal> {
        scope.spawn(move || {
            let mut shorthand = Shorthand::new();
            let mut after_eof = false;
            let mut batch = Vec::with_capacity(256);
            for l in all {
                let item = l.map_err(Fatal::from).and_then(|l| {
                    let is_step = matches!(l.item, Item::Frame(_) | Item::Bin(_) | Item::Eof);
                    if is_step && after_eof {
                        shorthand = Shorthand::new();
                        after_eof = false;
                    }
                    if matches!(l.item, Item::Eof) {
                        after_eof = true;
                    }
                    let encoded = match &l.item {
                        Item::Frame(text) => {
                            Some(encode_frame_line(file, proto, &mut shorthand, &l, text)?)
                        }
                        _ => None,
                    };
                    Ok(Prepared { line: l, encoded })
                });
                let stop = item.is_err();
                batch.push(item);
                if batch.len() == 256 || stop {
                    let sent = tx.send(std::mem::take(&mut batch)).is_ok();
                    if !sent || stop {
                        return;
                    }
                }
            }
            let _ = tx.send(batch);
        });
        run_prepared(
            file,
            exec,
            proto,
            opts,
            rx,
            &mut report,
            &mut out_text,
            &mut steps,
            &mut interleaved,
            &mut defer,
            &mut responder,
            &mut responder_specs,
            &mut progress,
        )
    })?;
    if opts.update {
        report.updated = Some(out_text);
    }
    Ok(report)
}

/// A script line, with its frames already encoded when it is a frame line.
struct Prepared {
    line: Line,
    encoded: Option<(Vec<u8>, usize)>,
}

fn encode_frame_line(
    file: &str,
    proto: Proto,
    shorthand: &mut Shorthand,
    l: &Line,
    text: &str,
) -> Result<(Vec<u8>, usize), Fatal> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let frames = if words.first() == Some(&"cmd") {
        shorthand.expand(proto, &words[1..]).map_err(|m| {
            Fatal::Parse(Box::new(ScriptError {
                file: file.into(),
                line: l.number,
                text: l.text.clone(),
                caret: "  ^^^".into(),
                message: m,
                help: String::new(),
            }))
        })?
    } else {
        let p = parse_human(proto, text).map_err(|e| {
            Fatal::Parse(Box::new(ScriptError {
                file: file.into(),
                line: l.number,
                text: l.text.clone(),
                caret: format!(
                    "  {}{}",
                    " ".repeat(text[..e.start.min(text.len())].chars().count()),
                    "^".repeat((e.end.saturating_sub(e.start)).max(1))
                ),
                message: format!("{} (protocol {proto})", e.message),
                help: e.help.iter().map(|h| format!("\n  = {h}")).collect(),
            }))
        })?;
        shorthand.observe(&p.frame);
        vec![p.frame]
    };
    let mut bytes = Vec::new();
    for f in &frames {
        f.encode_into(proto, &mut bytes).map_err(|e| {
            Fatal::Parse(Box::new(ScriptError {
                file: file.into(),
                line: l.number,
                text: l.text.clone(),
                caret: "  ^^^".into(),
                message: e.to_string(),
                help: String::new(),
            }))
        })?;
    }
    Ok((bytes, frames.len()))
}

#[allow(clippy::too_many_arguments)]
fn run_prepared(
    file: &str,
    exec: &Exec<'_>,
    proto: Proto,
    opts: &RunOptions,
    rx: std::sync::mpsc::Receiver<Vec<Result<Prepared, Fatal>>>,
    report: &mut ScriptReport,
    out_text: &mut String,
    steps: &mut Vec<StepRec>,
    interleaved: &mut Vec<(usize, String)>,
    defer: &mut bool,
    responder: &mut Responder,
    responder_specs: &mut Vec<String>,
    progress: &mut dyn FnMut(usize),
) -> Result<(), Fatal> {
    // A request runs once its `eof` and the lines under it have been read.
    let mut request_done = false;
    let mut pending_specs: Vec<String> = Vec::new();
    let mut pending_defer: Option<bool> = None;
    for prepared in rx.into_iter().flatten() {
        let Prepared { line: l, encoded } = prepared?;
        let is_step = matches!(l.item, Item::Frame(_) | Item::Bin(_) | Item::Eof);
        if request_done && is_step {
            finish_request(
                exec,
                proto,
                steps,
                *defer,
                responder,
                opts,
                report,
                out_text,
                interleaved,
            )?;
            request_done = false;
            progress(report.frames);
        }
        // Directives between requests apply from the next request on.
        if is_step && steps.is_empty() {
            if let Some(d) = pending_defer.take() {
                *defer = d;
            }
            if !pending_specs.is_empty() {
                responder_specs.append(&mut pending_specs);
                *responder = Responder::parse(proto, responder_specs).map_err(|e| {
                    Fatal::Parse(Box::new(ScriptError {
                        file: file.into(),
                        line: l.number,
                        text: String::new(),
                        caret: String::new(),
                        message: format!("a respond line before this step: {e}"),
                        help: String::new(),
                    }))
                })?;
            }
        }
        match &l.item {
            Item::Frame(_) => {
                let (bytes, n) = encoded.unwrap_or_default();
                report.frames += n;
                steps.push(step(&l, bytes, false));
            }
            Item::Bin(h) => {
                let bytes = unhex(h).unwrap_or_default();
                steps.push(step(&l, bytes, false));
            }
            Item::Eof => {
                steps.push(step(&l, Vec::new(), true));
                request_done = true;
            }
            Item::Expect(e) => match steps.last_mut() {
                Some(s) => s.expected.push(e.clone()),
                None => {
                    return Err(Fatal::Parse(Box::new(ScriptError {
                        file: file.into(),
                        line: l.number,
                        text: l.text.clone(),
                        caret: "^".into(),
                        message: "expected output before any step".into(),
                        help: "\n  = `<` lines go under the `>` frame or `eof` line whose output they describe".into(),
                    })))
                }
            },
            Item::Assert(a) => match steps.last_mut() {
                Some(s) => s.asserts.push((l.number, a.clone())),
                None => {
                    return Err(Fatal::Parse(Box::new(ScriptError {
                        file: file.into(),
                        line: l.number,
                        text: l.text.clone(),
                        caret: "^".into(),
                        message: "an assertion before any step".into(),
                        help: "\n  = `expect` lines go under the step they check".into(),
                    })))
                }
            },
            Item::Comment(_) | Item::Proto(_) | Item::Target(_) | Item::Defer(_) | Item::Respond(..) => {
                match &l.item {
                    Item::Respond(k, v) => pending_specs.push(format!("{k}={v}")),
                    Item::Defer(d) => pending_defer = Some(*d),
                    _ => {}
                }
                if matches!(exec, Exec::Remote(_)) && matches!(l.item, Item::Respond(..) | Item::Defer(_)) {
                    report.skipped =
                        Some("the script plays the server's part (respond/defer): local reactor only".into());
                    return Ok(());
                }
                if steps.is_empty() {
                    if opts.update {
                        out_text.push_str(&l.text);
                        out_text.push('\n');
                    }
                } else {
                    interleaved.push((steps.len() - 1, l.text.clone()));
                }
            }
        }
    }
    if request_done {
        finish_request(
            exec,
            proto,
            steps,
            *defer,
            responder,
            opts,
            report,
            out_text,
            interleaved,
        )?;
        progress(report.frames);
    }
    if !steps.is_empty() {
        let last = steps.last().map(|s| s.line).unwrap_or(0);
        return Err(Fatal::Parse(Box::new(ScriptError {
            file: file.into(),
            line: last,
            text: steps.last().map(|s| s.text.clone()).unwrap_or_default(),
            caret: "^".into(),
            message: "the script ends in the middle of a request".into(),
            help: "\n  = end every request with an `eof` line".into(),
        })));
    }
    Ok(())
}

fn step(l: &Line, bytes: Vec<u8>, is_eof: bool) -> StepRec {
    StepRec {
        line: l.number,
        text: l.text.clone(),
        bytes,
        is_eof,
        expected: Vec::new(),
        asserts: Vec::new(),
        actual: Vec::new(),
        actions: Vec::new(),
        sent: Vec::new(),
    }
}

#[allow(clippy::too_many_arguments)]
fn finish_request(
    exec: &Exec<'_>,
    proto: Proto,
    steps: &mut Vec<StepRec>,
    defer: bool,
    responder: &Responder,
    opts: &RunOptions,
    report: &mut ScriptReport,
    out_text: &mut String,
    interleaved: &mut Vec<(usize, String)>,
) -> Result<u16, Fatal> {
    run_request(exec, proto, steps, defer, responder)?;
    report.requests += 1;
    let n = steps.len();
    let status = if steps[n - 1].actual.first().map(|s| s.as_str()) == Some("status 500") {
        500
    } else {
        200
    };
    for (i, st) in steps.iter().enumerate() {
        if opts.check && !lines_match(&st.expected, &st.actual) {
            report.failures.push(Failure {
                line: st.line,
                message: "output differs".into(),
                step: st.text.clone(),
                expected: st.expected.clone(),
                actual: st.actual.clone(),
            });
        }
        for (ln, a) in &st.asserts {
            if let Some(m) = check_assert(proto, a, st, status) {
                report.failures.push(Failure {
                    line: *ln,
                    message: m,
                    step: st.text.clone(),
                    expected: Vec::new(),
                    actual: Vec::new(),
                });
            }
        }
        if opts.keep_outputs {
            report.outputs.push((st.line, st.actual.clone()));
        }
        if opts.update {
            out_text.push_str(&st.text);
            out_text.push('\n');
            let keep = lines_match(&st.expected, &st.actual);
            let lines = if keep { &st.expected } else { &st.actual };
            for l in lines {
                out_text.push_str("< ");
                out_text.push_str(l);
                out_text.push('\n');
            }
            for (_, a) in &st.asserts {
                out_text.push_str(&assert_text(a));
                out_text.push('\n');
            }
            for (_, t) in interleaved.iter().filter(|(j, _)| *j == i) {
                out_text.push_str(t);
                out_text.push('\n');
            }
        }
    }
    steps.clear();
    interleaved.clear();
    Ok(status)
}

fn assert_text(a: &Assertion) -> String {
    match a {
        Assertion::Action(n) => format!("expect action {n}"),
        Assertion::Error(t) => format!("expect error \"{t}\""),
        Assertion::Status(s) => format!("expect status {s}"),
        Assertion::Frame(kv) => format!(
            "expect frame {}",
            kv.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    }
}
