//! The runner: a script read line by line, requests run as each `eof` and
//! the lines under it have been read, checked, and rewritten for
//! `--update`. Memory is bounded by the largest single request.

use std::io::BufRead;

use super::check::{assert_text, check_assert, lines_match_shaped};
use super::exec::{run_request, StepRec};
use super::script::{self, Item, Line, ScriptError};
use super::{Exec, Failure, Fatal, RunOptions, ScriptReport, StepOutput};
use crate::human::shorthand::Shorthand;
use crate::human::{infer_proto, parse_human};
use crate::python::escape::unhex;
use crate::session::{FileAccess, Responder};
use crate::wire::proto::Proto;

/// The state of one script's run.
struct Runner<'a> {
    file: &'a str,
    exec: &'a Exec<'a>,
    proto: Proto,
    opts: &'a RunOptions,
    report: ScriptReport,
    /// The rewritten script (update mode).
    out_text: String,
    /// The steps of the request being read.
    steps: Vec<StepRec>,
    /// Comment and directive lines among the steps (kept by --update),
    /// with the index of the step they follow.
    interleaved: Vec<(usize, String)>,
    defer: bool,
    responder: Responder,
    responder_specs: Vec<String>,
    /// Which files `respond KEY @FILE` reads.
    files: FileAccess,
    progress: Box<dyn FnMut(usize) + 'a>,
}

/// A script's `target` line is honoured, never ignored: `target local`
/// agrees with a local run; a target the command line names overrides it;
/// otherwise a script recorded against a server is an error that says how
/// to run it (a transcript never chooses where hgframe connects).
fn check_target(
    file: &str,
    l: &Line,
    target: &str,
    exec: &Exec<'_>,
    opts: &RunOptions,
) -> Result<(), Fatal> {
    if opts.cli_target || (target == "local" && matches!(exec, Exec::Local)) {
        return Ok(());
    }
    let col = l.text.find(target).unwrap_or(0);
    Err(Fatal::Parse(Box::new(ScriptError {
        file: file.into(),
        line: l.number,
        text: l.text.clone(),
        caret: format!("{}{}", " ".repeat(col), "^".repeat(target.chars().count().clamp(1, 80))),
        message: format!("the script was recorded against {target}; a script does not choose where hgframe connects"),
        help: format!(
            "\n  = run it there with `hgframe replay --url {target} {file}`, or on the local reactor with `hgframe replay --local {file}`"
        ),
    })))
}

/// Read the header, choose the revision, then run the requests: one thread
/// reads the script and encodes frame lines (text parsing is about half
/// the work), this one runs requests and compares.
pub(super) fn run<R: BufRead + Send>(
    file: &str,
    reader: R,
    exec: &Exec<'_>,
    server_proto: Option<Proto>,
    opts: &RunOptions,
    progress: impl FnMut(usize),
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
    // The releases the script's expectations come from, if it names them.
    let mut releases: Vec<Proto> = Vec::new();
    for l in &head {
        match &l.item {
            Item::Proto(p) if opts.proto.is_none() => proto = p.parse().ok(),
            Item::Hg(v) if opts.proto.is_none() => {
                releases = v
                    .split(' ')
                    .filter_map(|v| crate::wire::proto::release(v).ok())
                    .map(|s| s.proto)
                    .collect();
                proto = releases.first().copied();
            }
            Item::Defer(d) => defer = *d,
            Item::Respond(k, v) => responder_specs.push(format!("{k}={v}")),
            Item::Target(t) => check_target(file, l, t, exec, opts)?,
            _ => {}
        }
    }
    let dir = std::path::Path::new(file)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let files = FileAccess {
        confined: !opts.allow_file_access,
        ..FileAccess::beside(dir)
    };
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
    let mut proto = proto.unwrap_or(Proto::DEFAULT);
    if let (Exec::Remote(_), Some(sp)) = (exec, server_proto) {
        // Decided by the server's revision (its /api/ listing and the
        // media type a 406 names), never by debugreflect answering.
        if !sp.same_revision(proto) {
            report.skipped = Some(format!(
                "the script is protocol {proto}; the server speaks {sp} ({})",
                sp.table().media_type
            ));
            return Ok(report);
        }
        if !releases.is_empty() && !releases.contains(&sp) {
            let label = |p: &Proto| {
                crate::wire::proto::Release::of(*p)
                    .map_or_else(|| p.describe(), |r| r.label.to_string())
            };
            report.skipped = Some(format!(
                "the script's expectations are those of {}; the server is {}",
                releases.iter().map(label).collect::<Vec<_>>().join(" or "),
                label(&sp)
            ));
            return Ok(report);
        }
        // The same revision: the server's flavour decides how frame lines
        // read (Python 2 literals) and what it answers.
        proto = sp;
    }
    if matches!(exec, Exec::Remote(_)) && (!responder_specs.is_empty() || defer) {
        report.skipped =
            Some("the script plays the server's part (respond/defer): local reactor only".into());
        return Ok(report);
    }
    let responder = Responder::parse_with(proto, &responder_specs, &files).map_err(|e| {
        // Quote the respond line whose spec failed.
        let line = head.iter().find(|l| match &l.item {
            Item::Respond(k, v) => e.spec == format!("{k}={v}"),
            _ => false,
        });
        let (number, text, caret) = line.map_or((0, String::new(), String::new()), |l| {
            let col = l.text.find(" @").map_or(0, |c| c + 1);
            let width = l.text.len().saturating_sub(col).clamp(1, 80);
            (
                l.number,
                l.text.clone(),
                format!("{}{}", " ".repeat(col), "^".repeat(width)),
            )
        });
        Fatal::Parse(Box::new(ScriptError {
            file: file.into(),
            line: number,
            text,
            caret,
            message: e.why.clone(),
            help: String::new(),
        }))
    })?;
    let mut runner = Runner {
        file,
        exec,
        proto,
        opts,
        report,
        out_text: String::new(),
        steps: Vec::new(),
        interleaved: Vec::new(),
        defer,
        responder,
        responder_specs,
        files,
        progress: Box::new(progress),
    };
    if opts.update {
        for l in &head {
            runner.out_text.push_str(&l.text);
            runner.out_text.push('\n');
        }
    }
    let all = pending.into_iter().map(Ok).chain(lines);
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
        runner.run_prepared(rx)
    })?;
    let mut report = runner.report;
    if report.requests == 0 && report.skipped.is_none() {
        return Err(Fatal::Parse(Box::new(ScriptError {
            file: file.into(),
            line: 0,
            text: String::new(),
            caret: String::new(),
            message: "the transcript runs no request, so it checks nothing".into(),
            help: "\n  = a request is frame lines (`> FRAME`, `bin HEX`) ended by an `eof` line; `hgframe replay --help` shows the format".into(),
        })));
    }
    if opts.update {
        report.updated = Some(runner.out_text);
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

impl Runner<'_> {
    /// Run the prepared lines as they arrive.
    fn run_prepared(
        &mut self,
        rx: std::sync::mpsc::Receiver<Vec<Result<Prepared, Fatal>>>,
    ) -> Result<(), Fatal> {
        let file = self.file;
        // A request runs once its `eof` and the lines under it have been read.
        let mut request_done = false;
        let mut pending_specs: Vec<String> = Vec::new();
        let mut pending_defer: Option<bool> = None;
        for prepared in rx.into_iter().flatten() {
            let Prepared { line: l, encoded } = prepared?;
            let is_step = matches!(l.item, Item::Frame(_) | Item::Bin(_) | Item::Eof);
            if request_done && is_step {
                self.finish_request()?;
                request_done = false;
                (self.progress)(self.report.frames);
            }
            // Directives between requests apply from the next request on.
            if is_step && self.steps.is_empty() {
                if let Some(d) = pending_defer.take() {
                    self.defer = d;
                }
                if !pending_specs.is_empty() {
                    self.responder_specs.append(&mut pending_specs);
                    self.responder =
                        Responder::parse_with(self.proto, &self.responder_specs, &self.files)
                            .map_err(|e| {
                                Fatal::Parse(Box::new(ScriptError {
                                    file: file.into(),
                                    line: l.number,
                                    text: String::new(),
                                    caret: String::new(),
                                    message: format!("a respond line before this step: {}", e.why),
                                    help: String::new(),
                                }))
                            })?;
                }
            }
            match &l.item {
                Item::Frame(_) => {
                    let (bytes, n) = encoded.unwrap_or_default();
                    self.report.frames += n;
                    self.steps.push(step(&l, bytes, false));
                }
                Item::Bin(h) => {
                    let bytes = unhex(h).unwrap_or_default();
                    self.steps.push(step(&l, bytes, false));
                }
                Item::Eof => {
                    self.steps.push(step(&l, Vec::new(), true));
                    request_done = true;
                }
                Item::Expect(e) => match self.steps.last_mut() {
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
                Item::Assert(a) => match self.steps.last_mut() {
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
                Item::Comment(_) | Item::Proto(_) | Item::Hg(_) | Item::Target(_) | Item::Defer(_) | Item::Respond(..) => {
                    match &l.item {
                        Item::Respond(k, v) => pending_specs.push(format!("{k}={v}")),
                        Item::Defer(d) => pending_defer = Some(*d),
                        Item::Target(t) => check_target(file, &l, t, self.exec, self.opts)?,
                        _ => {}
                    }
                    if matches!(self.exec, Exec::Remote(_)) && matches!(l.item, Item::Respond(..) | Item::Defer(_)) {
                        self.report.skipped =
                            Some("the script plays the server's part (respond/defer): local reactor only".into());
                        return Ok(());
                    }
                    if self.steps.is_empty() {
                        if self.opts.update {
                            self.out_text.push_str(&l.text);
                            self.out_text.push('\n');
                        }
                    } else {
                        self.interleaved.push((self.steps.len() - 1, l.text.clone()));
                    }
                }
            }
        }
        if request_done {
            self.finish_request()?;
            (self.progress)(self.report.frames);
        }
        if !self.steps.is_empty() {
            let last = self.steps.last().map(|s| s.line).unwrap_or(0);
            return Err(Fatal::Parse(Box::new(ScriptError {
                file: file.into(),
                line: last,
                text: self
                    .steps
                    .last()
                    .map(|s| s.text.clone())
                    .unwrap_or_default(),
                caret: "^".into(),
                message: "the script ends in the middle of a request".into(),
                help: "\n  = end every request with an `eof` line".into(),
            })));
        }
        Ok(())
    }

    /// Run the request just read, check it, and (with --update) write its
    /// lines with the actual output.
    fn finish_request(&mut self) -> Result<u16, Fatal> {
        let (proto, opts) = (self.proto, self.opts);
        run_request(
            self.exec,
            proto,
            &mut self.steps,
            self.defer,
            &self.responder,
        )?;
        let report = &mut self.report;
        let out_text = &mut self.out_text;
        let steps = &mut self.steps;
        let interleaved = &mut self.interleaved;
        report.requests += 1;
        let n = steps.len();
        let status = if steps[n - 1].actual.first().map(|s| s.as_str()) == Some("status 500") {
            500
        } else {
            200
        };
        for (i, st) in steps.iter().enumerate() {
            if !lines_match_shaped(&st.expected, &st.actual, &st.shapes) {
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
                report.outputs.push(StepOutput {
                    line: st.line,
                    lines: st.actual.clone(),
                    shapes: st.shapes.clone(),
                });
            }
            if opts.update {
                out_text.push_str(&st.text);
                out_text.push('\n');
                let keep = lines_match_shaped(&st.expected, &st.actual, &st.shapes);
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
        shapes: Vec::new(),
        actions: Vec::new(),
        sent: Vec::new(),
    }
}
