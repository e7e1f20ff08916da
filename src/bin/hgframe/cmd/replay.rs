//! `hgframe replay`: find scripts, run them (in parallel), report each
//! as it finishes (text or JSON lines, a progress bar on a terminal), then
//! the summary and a JUnit XML report.

use std::fs::File;
use std::io::{BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use hgframe::client::Client;
use hgframe::remote::DetectError;
use hgframe::render::replay::write_failure;
use hgframe::render::style::Paint;
use hgframe::replay::script::ScriptError;
use hgframe::replay::{run_script, Exec, Failure as Mismatch, Fatal, RunOptions, ScriptReport};
use hgframe::Proto;
use serde_json::json;

use super::{make_client, Io};
use crate::args::{GlobalOpts, ReplayArgs};
use crate::error::Failure;

/// The file extension of replay scripts.
pub const EXTENSION: &str = "hgframe";

/// The name a transcript read from stdin (`replay -`) goes by.
pub const STDIN_NAME: &str = "<stdin>";

fn collect_files(args: &[PathBuf]) -> Result<Vec<PathBuf>, Failure> {
    let mut out = Vec::new();
    for a in args {
        if a.as_os_str() == "-" {
            if out.iter().any(|p: &PathBuf| p.as_os_str() == "-") {
                return Err(Failure::Usage(
                    "- (stdin) given twice: it holds one transcript".into(),
                ));
            }
            out.push(a.clone());
        } else if a.is_dir() {
            // Symlinked directories are not followed (a link to a parent
            // would loop); symlinked scripts are run.
            let mut found = Vec::new();
            for e in walkdir::WalkDir::new(a).follow_links(false) {
                let e = e.map_err(|e| Failure::Usage(format!("cannot read directory: {e}")))?;
                let p = e.path();
                let is_file =
                    e.file_type().is_file() || (e.file_type().is_symlink() && p.is_file());
                if is_file && p.extension().is_some_and(|x| x == EXTENSION) {
                    found.push(p.to_path_buf());
                }
            }
            found.sort();
            out.extend(found);
        } else if a.exists() {
            out.push(a.clone());
        } else {
            return Err(Failure::Usage(format!(
                "no such file or directory: {}",
                a.display()
            )));
        }
    }
    Ok(out)
}

/// Result of one script on one target.
struct Outcome {
    file: String,
    result: Result<ScriptReport, Fatal>,
    started: SystemTime,
    seconds: f64,
}

/// A target: the local reactor or a server (with its detected revision).
enum TargetSpec {
    Local,
    Url(Box<Client>, Option<Proto>),
}

fn target_spec(global: &GlobalOpts, a: &ReplayArgs, url: &str) -> Result<TargetSpec, Failure> {
    if url == "local" {
        return Ok(TargetSpec::Local);
    }
    let client = make_client(&a.remote, url)?;
    // One probe before any script: a server that cannot be reached is one
    // error (exit 3), not one per script.
    let proto = match hgframe::remote::detect(&client) {
        Ok(d) => {
            if global.verbose > 0 {
                super::write_detected(&mut anstream::stderr(), &d)?;
            }
            Some(global.proto.unwrap_or(d.proto))
        }
        Err(DetectError::Client(e)) => return Err(e.into()),
        Err(_) => global.proto,
    };
    Ok(TargetSpec::Url(Box::new(client), proto))
}

/// Run one script; `stdin` is the transcript `-` stands for.
fn run_one(path: &Path, stdin: &[u8], spec: &TargetSpec, opts: &RunOptions) -> Outcome {
    let from_stdin = path.as_os_str() == "-";
    let file = if from_stdin {
        STDIN_NAME.to_string()
    } else {
        path.display().to_string()
    };
    let started = SystemTime::now();
    let t = Instant::now();
    let (exec, sp) = match spec {
        TargetSpec::Local => (Exec::Local, None),
        TargetSpec::Url(c, p) => (Exec::Remote(c), *p),
    };
    let result = if from_stdin {
        run_script(&file, stdin, &exec, sp, opts, |_| {})
    } else {
        match File::open(path) {
            Err(e) => Err(Fatal::Parse(Box::new(ScriptError {
                file: file.clone(),
                line: 0,
                text: String::new(),
                caret: String::new(),
                message: format!("cannot open: {e}"),
                help: String::new(),
            }))),
            Ok(f) => run_script(&file, BufReader::new(f), &exec, sp, opts, |_| {}),
        }
    };
    Outcome {
        file,
        result,
        started,
        seconds: t.elapsed().as_secs_f64(),
    }
}

/// Run `f` on every file, `jobs` at a time, handing each outcome to
/// `report` (on this thread) as soon as its script finishes: with one
/// job in the order given, with more in the order they finish. Once a
/// script cannot reach its server, the scripts not yet started are not
/// run (they would all fail the same way). Returns how many ran.
fn parallel<F>(
    files: &[PathBuf],
    jobs: usize,
    f: F,
    mut report: impl FnMut(Outcome) -> Result<(), Failure>,
) -> Result<usize, Failure>
where
    F: Fn(&Path) -> Outcome + Sync,
{
    let unreachable = AtomicBool::new(false);
    let next = AtomicUsize::new(0);
    let n = files.len();
    let (tx, rx) = mpsc::channel::<Outcome>();
    let mut ran = 0;
    std::thread::scope(|s| {
        for _ in 0..jobs.clamp(1, 64).min(n.max(1)) {
            let tx = tx.clone();
            let (f, next, unreachable) = (&f, &next, &unreachable);
            s.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= n || unreachable.load(Ordering::SeqCst) {
                    break;
                }
                let o = f(&files[i]);
                if matches!(o.result, Err(Fatal::Transport(_))) {
                    unreachable.store(true, Ordering::SeqCst);
                }
                if tx.send(o).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        for o in rx {
            ran += 1;
            if let Err(e) = report(o) {
                // Stop handing out scripts; the running ones finish.
                unreachable.store(true, Ordering::SeqCst);
                return Err(e);
            }
        }
        Ok(())
    })?;
    Ok(ran)
}

/// `hgframe replay`.
pub fn run(global: &GlobalOpts, a: ReplayArgs, io: &mut Io<'_>) -> Result<u8, Failure> {
    let files = collect_files(&a.files)?;
    if files.is_empty() {
        return Err(Failure::Usage(format!(
            "no .{EXTENSION} scripts found in {}",
            a.files
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    if !a.against.is_empty() && a.against.len() != 2 {
        return Err(Failure::Usage(format!(
            "--against takes two targets, e.g. --against local,http://127.0.0.1:8000/ (got {})",
            a.against.len()
        )));
    }
    if a.update && !a.against.is_empty() {
        return Err(Failure::Usage(
            "--update and --against do not combine (update against one target)".into(),
        ));
    }
    let from_stdin = files.iter().any(|p| p.as_os_str() == "-");
    if a.update && from_stdin {
        return Err(Failure::Usage(
            "--update rewrites scripts in place; a transcript on stdin (-) has no file to rewrite"
                .into(),
        ));
    }
    let mut stdin = Vec::new();
    if from_stdin {
        io.note_stdin("a transcript")?;
        io.stdin.read_to_end(&mut stdin)?;
    }
    let progress = (std::io::stderr().is_terminal() && !a.quiet && files.len() > 1)
        .then(|| progress_bar(files.len()));
    let mut report = Report::new(&a, files.len());
    let ran = if a.against.is_empty() {
        let spec = match &a.url {
            Some(u) => target_spec(global, &a, u)?,
            None => TargetSpec::Local,
        };
        let opts = RunOptions {
            proto: global.proto,
            update: a.update,
            keep_outputs: false,
            cli_target: a.local || a.url.is_some(),
            allow_file_access: a.allow_file_access,
        };
        parallel(
            &files,
            a.jobs,
            |p| run_one(p, &stdin, &spec, &opts),
            |o| report.outcome(o, io, progress.as_ref()),
        )?
    } else {
        let specs = [
            target_spec(global, &a, &a.against[0])?,
            target_spec(global, &a, &a.against[1])?,
        ];
        // Each target must meet the script's expectations, and the two
        // must agree with each other.
        let opts = RunOptions {
            proto: global.proto,
            update: false,
            keep_outputs: true,
            cli_target: true,
            allow_file_access: a.allow_file_access,
        };
        parallel(
            &files,
            a.jobs,
            |p| {
                let x = run_one(p, &stdin, &specs[0], &opts);
                let y = run_one(p, &stdin, &specs[1], &opts);
                Outcome {
                    file: x.file.clone(),
                    started: x.started,
                    seconds: x.seconds + y.seconds,
                    result: compare_targets(&a.against, x.result, y.result),
                }
            },
            |o| report.outcome(o, io, progress.as_ref()),
        )?
    };
    if let Some(p) = &progress {
        p.finish_and_clear();
    }
    report.finish(files.len() - ran, io)
}

/// The progress bar (stderr, a terminal only): scripts done of all.
fn progress_bar(n: usize) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(n as u64),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("[{bar:30}] {pos}/{len} scripts {elapsed}")
    {
        bar.set_style(style.progress_chars("#>-"));
    }
    bar
}

/// What the run has reported so far: counts, the exit status, the JUnit
/// cases.
struct Report<'a> {
    a: &'a ReplayArgs,
    started: SystemTime,
    clock: Instant,
    passed: usize,
    failed: usize,
    skipped: usize,
    updated: usize,
    worst: u8,
    junit: quick_junit::TestSuite,
}

impl<'a> Report<'a> {
    fn new(a: &'a ReplayArgs, _scripts: usize) -> Self {
        let started = SystemTime::now();
        let mut suite = quick_junit::TestSuite::new("hgframe replay");
        suite.set_timestamp(chrono::DateTime::<chrono::Utc>::from(started).fixed_offset());
        Report {
            a,
            started,
            clock: Instant::now(),
            passed: 0,
            failed: 0,
            skipped: 0,
            updated: 0,
            worst: 0,
            junit: suite,
        }
    }

    fn fail(&mut self, code: u8) {
        let rank = |code: u8| match code {
            2 => 4,
            3 => 3,
            4 => 2,
            1 => 1,
            _ => 0,
        };
        if rank(code) > rank(self.worst) {
            self.worst = code;
        }
    }

    /// Report one script: its line(s) or JSON event, written and flushed
    /// now (above the progress bar), and its JUnit case.
    fn outcome(
        &mut self,
        o: Outcome,
        io: &mut Io<'_>,
        progress: Option<&indicatif::ProgressBar>,
    ) -> Result<(), Failure> {
        let mut out = Vec::new();
        let case = self.judge(&o, &mut out)?;
        self.junit.add_test_case(case);
        let mut write = || -> std::io::Result<()> {
            io.stdout.write_all(&out)?;
            io.stdout.flush()
        };
        match progress {
            Some(p) => {
                p.suspend(&mut write)?;
                p.inc(1);
            }
            None => write()?,
        }
        Ok(())
    }

    /// Count the outcome, write its report into `w`, return its JUnit case.
    fn judge(&mut self, o: &Outcome, w: &mut Vec<u8>) -> Result<quick_junit::TestCase, Failure> {
        use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus};
        let a = self.a;
        let status = match &o.result {
            Ok(r) if r.skipped.is_some() => {
                self.skipped += 1;
                let why = r.skipped.clone().unwrap_or_default();
                if a.json {
                    if !a.quiet {
                        event(
                            w,
                            json!({"event": "script", "file": o.file, "result": "skipped", "reason": why, "seconds": o.seconds}),
                        )?;
                    }
                } else if !a.quiet {
                    writeln!(w, "{} {}: {why}", "SKIP".yellow().bold(), o.file)?;
                }
                let mut st = TestCaseStatus::skipped();
                st.set_message(why);
                st
            }
            Ok(r) if r.failures.is_empty() => {
                self.passed += 1;
                if a.update {
                    if let Some(text) = &r.updated {
                        write_if_changed(&o.file, text)?;
                    }
                }
                if a.json {
                    if !a.quiet {
                        event(
                            w,
                            json!({"event": "script", "file": o.file, "result": "passed", "requests": r.requests, "frames": r.frames, "seconds": o.seconds}),
                        )?;
                    }
                } else if !a.quiet {
                    writeln!(
                        w,
                        "{} {} ({} requests, {} frames)",
                        "PASS".green().bold(),
                        o.file,
                        r.requests,
                        r.frames
                    )?;
                }
                TestCaseStatus::success()
            }
            Ok(r) => {
                // With --update the expectations are rewritten: only
                // assertions can still fail.
                let remaining: Vec<&Mismatch> = if a.update {
                    if let Some(text) = &r.updated {
                        write_if_changed(&o.file, text)?;
                    }
                    r.failures
                        .iter()
                        .filter(|f| f.message != "output differs")
                        .collect()
                } else {
                    r.failures.iter().collect()
                };
                if remaining.is_empty() {
                    self.passed += 1;
                    self.updated += 1;
                    if a.json {
                        event(
                            w,
                            json!({"event": "script", "file": o.file, "result": "updated", "requests": r.requests, "frames": r.frames, "seconds": o.seconds}),
                        )?;
                    } else {
                        writeln!(
                            w,
                            "{} {} (expected output updated)",
                            "UPDATED".cyan().bold(),
                            o.file
                        )?;
                    }
                    TestCaseStatus::success()
                } else {
                    self.failed += 1;
                    self.fail(1);
                    if a.json {
                        event(
                            w,
                            json!({"event": "script", "file": o.file, "result": "failed", "seconds": o.seconds, "failures": r.failures.iter().map(|f| json!({"line": f.line, "message": f.message, "step": f.step, "expected": f.expected, "actual": f.actual})).collect::<Vec<_>>()}),
                        )?;
                    } else {
                        writeln!(w, "{} {}", "FAIL".red().bold(), o.file)?;
                        for f in &r.failures {
                            write_failure(w, &o.file, f)?;
                        }
                    }
                    let texts: Vec<String> = r
                        .failures
                        .iter()
                        .map(|f| failure_text(&o.file, f))
                        .collect();
                    let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    st.set_message(match r.failures.as_slice() {
                        [one] => one.message.clone(),
                        many => format!("{} failures", many.len()),
                    });
                    st.set_type("mismatch");
                    st.set_description(texts.join("\n"));
                    st
                }
            }
            Err(e) => {
                self.failed += 1;
                let (code, kind) = match e {
                    Fatal::Parse(_) => (2, "parse"),
                    Fatal::Transport(_) => (3, "transport"),
                    Fatal::Http(_) => (4, "http"),
                };
                self.fail(code);
                let message = fatal_text(e);
                if a.json {
                    event(
                        w,
                        json!({"event": "script", "file": o.file, "result": "error", "kind": kind, "exit": code, "message": message, "seconds": o.seconds}),
                    )?;
                } else {
                    writeln!(w, "{} {}", "ERROR".red().bold(), o.file)?;
                    writeln!(w, "{message}")?;
                }
                let mut st = TestCaseStatus::non_success(NonSuccessKind::Error);
                st.set_message(message.lines().next().unwrap_or("").to_string());
                st.set_type(kind);
                st.set_description(message);
                st
            }
        };
        let mut case = TestCase::new(o.file.clone(), status);
        case.set_classname(classname(&o.file));
        case.set_time(Duration::from_secs_f64(o.seconds));
        case.set_timestamp(chrono::DateTime::<chrono::Utc>::from(o.started).fixed_offset());
        Ok(case)
    }

    /// The summary (a line, or the last JSON event) and the JUnit file.
    fn finish(mut self, not_run: usize, io: &mut Io<'_>) -> Result<u8, Failure> {
        let a = self.a;
        let seconds = self.clock.elapsed().as_secs_f64();
        if let Some(path) = &a.junit {
            self.junit.set_time(self.clock.elapsed());
            let mut report = quick_junit::Report::new("hgframe replay");
            report
                .set_timestamp(chrono::DateTime::<chrono::Utc>::from(self.started).fixed_offset());
            report.set_time(self.clock.elapsed());
            report.add_test_suite(self.junit.clone());
            let xml = report
                .to_string()
                .map_err(|e| Failure::Usage(format!("cannot write {}: {e}", path.display())))?;
            std::fs::write(path, xml)
                .map_err(|e| Failure::Usage(format!("cannot write {}: {e}", path.display())))?;
        }
        if a.json {
            let mut w = Vec::new();
            event(
                &mut w,
                json!({
                    "event": "summary",
                    "passed": self.passed,
                    "failed": self.failed,
                    "skipped": self.skipped,
                    "updated": self.updated,
                    "not_run": not_run,
                    "exit": self.worst,
                    "seconds": seconds,
                }),
            )?;
            io.stdout.write_all(&w)?;
            return Ok(self.worst);
        }
        let mut summary = format!("{} passed, {} failed", self.passed, self.failed);
        if self.skipped > 0 {
            summary.push_str(&format!(", {} skipped", self.skipped));
        }
        if not_run > 0 {
            summary.push_str(&format!(
                ", {not_run} not run (the server could not be reached)"
            ));
        }
        writeln!(io.stdout, "{summary}")?;
        Ok(self.worst)
    }
}

/// One JSON event, one line.
fn event(w: &mut Vec<u8>, v: serde_json::Value) -> std::io::Result<()> {
    serde_json::to_writer(&mut *w, &v)?;
    w.push(b'\n');
    Ok(())
}

/// A script's JUnit class: its directory, as a dotted name (CI systems
/// group cases by it); `stdin` for `-`.
fn classname(file: &str) -> String {
    if file == STDIN_NAME {
        return "stdin".into();
    }
    let dir: Vec<String> = Path::new(file)
        .parent()
        .map(|d| {
            d.components()
                .filter_map(|c| match c {
                    std::path::Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    if dir.is_empty() {
        "replay".into()
    } else {
        dir.join(".")
    }
}

/// A failure as plain text (for JUnit): the printer's styles removed.
fn failure_text(file: &str, f: &Mismatch) -> String {
    let mut b = Vec::new();
    let _ = write_failure(&mut b, file, f);
    hgframe::render::style::plain(&String::from_utf8_lossy(&b))
}

/// A script that could not run, as reported: parse errors carry their own
/// location; transport and HTTP errors get the `error: ` prefix.
fn fatal_text(e: &Fatal) -> String {
    match e {
        Fatal::Parse(s) => s.to_string(),
        other => format!("error: {other}"),
    }
}

fn write_if_changed(file: &str, text: &str) -> Result<(), Failure> {
    let old = std::fs::read_to_string(file).unwrap_or_default();
    if old == text {
        return Ok(());
    }
    let tmp = format!("{file}.hgframe-tmp");
    std::fs::write(&tmp, text)
        .and_then(|_| std::fs::rename(&tmp, file))
        .map_err(|e| Failure::Usage(format!("cannot rewrite {file}: {e}")))
}

fn compare_targets(
    names: &[String],
    x: Result<ScriptReport, Fatal>,
    y: Result<ScriptReport, Fatal>,
) -> Result<ScriptReport, Fatal> {
    let (x, y) = (x?, y?);
    for (r, n) in [(&x, &names[0]), (&y, &names[1])] {
        if let Some(s) = &r.skipped {
            return Ok(ScriptReport {
                skipped: Some(format!("{n}: {s}")),
                ..Default::default()
            });
        }
    }
    let mut out = ScriptReport {
        requests: x.requests,
        frames: x.frames,
        ..Default::default()
    };
    for (r, n) in [(&x, &names[0]), (&y, &names[1])] {
        for f in &r.failures {
            out.failures.push(Mismatch {
                message: format!("{n}: {}", f.message),
                ..f.clone()
            });
        }
    }
    if x.outputs.len() != y.outputs.len() {
        out.failures.push(Mismatch {
            line: 0,
            message: format!(
                "{} ran {} steps and {} ran {}",
                names[0],
                x.outputs.len(),
                names[1],
                y.outputs.len()
            ),
            step: String::new(),
            expected: Vec::new(),
            actual: Vec::new(),
        });
    }
    for (a, b) in x.outputs.iter().zip(&y.outputs) {
        if !a.agrees_with(b) {
            out.failures.push(Mismatch {
                line: a.line,
                message: format!(
                    "{} and {} disagree (- {}, + {})",
                    names[0], names[1], names[0], names[1]
                ),
                step: String::new(),
                expected: a.lines.clone(),
                actual: b.lines.clone(),
            });
        }
    }
    Ok(out)
}
