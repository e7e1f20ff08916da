//! `hgframe replay`: find scripts, run them (in parallel), report (text,
//! JSON lines, JUnit XML).

use std::fs::File;
use std::io::{BufReader, IsTerminal};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use colored::Colorize;
use hgframe::client::Client;
use hgframe::remote::DetectError;
use hgframe::render::replay::write_failure;
use hgframe::replay::script::ScriptError;
use hgframe::replay::{run_script, Exec, Failure as Mismatch, Fatal, RunOptions, ScriptReport};
use hgframe::Proto;
use serde_json::json;

use super::{make_client, Io};
use crate::args::{GlobalOpts, ReplayArgs};
use crate::error::Failure;

/// The file extension of replay scripts.
pub const EXTENSION: &str = "hgframe";

fn collect_files(args: &[PathBuf]) -> Result<Vec<PathBuf>, Failure> {
    let mut out = Vec::new();
    for a in args {
        if a.is_dir() {
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
                super::write_detected(&mut std::io::stderr(), &d)?;
            }
            Some(global.proto.unwrap_or(d.proto))
        }
        Err(DetectError::Client(e)) => return Err(e.into()),
        Err(_) => global.proto,
    };
    Ok(TargetSpec::Url(Box::new(client), proto))
}

fn run_one(path: &Path, spec: &TargetSpec, opts: &RunOptions) -> Outcome {
    let file = path.display().to_string();
    let t = Instant::now();
    let result = match File::open(path) {
        Err(e) => Err(Fatal::Parse(Box::new(ScriptError {
            file: file.clone(),
            line: 0,
            text: String::new(),
            caret: String::new(),
            message: format!("cannot open: {e}"),
            help: String::new(),
        }))),
        Ok(f) => {
            let (exec, sp) = match spec {
                TargetSpec::Local => (Exec::Local, None),
                TargetSpec::Url(c, p) => (Exec::Remote(c), *p),
            };
            run_script(&file, BufReader::new(f), &exec, sp, opts, |_| {})
        }
    };
    Outcome {
        file,
        result,
        seconds: t.elapsed().as_secs_f64(),
    }
}

/// Run `f` on every file, `jobs` at a time. Once a script cannot reach its
/// server, the scripts not yet started are not run (they would all fail
/// the same way).
fn parallel<F>(files: &[PathBuf], jobs: usize, show_progress: bool, f: F) -> Vec<Outcome>
where
    F: Fn(&Path) -> Outcome + Sync,
{
    let unreachable = AtomicBool::new(false);
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Outcome>>> = Mutex::new((0..files.len()).map(|_| None).collect());
    let n = files.len();
    std::thread::scope(|s| {
        for _ in 0..jobs.clamp(1, 64).min(n.max(1)) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= n || unreachable.load(Ordering::SeqCst) {
                    break;
                }
                let o = f(&files[i]);
                if matches!(o.result, Err(Fatal::Transport(_))) {
                    unreachable.store(true, Ordering::SeqCst);
                }
                if let Ok(mut r) = results.lock() {
                    r[i] = Some(o);
                }
                let d = done.fetch_add(1, Ordering::SeqCst) + 1;
                if show_progress {
                    let width = 30;
                    let filled = d * width / n.max(1);
                    eprint!(
                        "\r[{}{}] {d}/{n} scripts",
                        "#".repeat(filled),
                        "-".repeat(width - filled)
                    );
                    if d == n {
                        eprint!("\r{}\r", " ".repeat(width + 24));
                    }
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect()
}

fn xml_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => {
                o.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => o.push(c),
        }
    }
    o
}

/// A failure as plain text (for JUnit), leaving the terminal's colour
/// setting as it was.
fn failure_text(file: &str, f: &Mismatch) -> String {
    let mut b = Vec::new();
    let color = colored::control::SHOULD_COLORIZE.should_colorize();
    colored::control::set_override(false);
    let _ = write_failure(&mut b, file, f);
    colored::control::set_override(color);
    String::from_utf8_lossy(&b).into_owned()
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
    let show_progress = std::io::stderr().is_terminal() && !a.json && files.len() > 1;
    let color = colored::control::SHOULD_COLORIZE.should_colorize();
    let mut outcomes: Vec<(Outcome, Option<Outcome>)> = Vec::new();
    if a.against.is_empty() {
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
        for o in parallel(&files, a.jobs, show_progress, |p| run_one(p, &spec, &opts)) {
            outcomes.push((o, None));
        }
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
        for o in parallel(&files, a.jobs, show_progress, |p| {
            let x = run_one(p, &specs[0], &opts);
            let y = run_one(p, &specs[1], &opts);
            Outcome {
                file: x.file.clone(),
                seconds: x.seconds + y.seconds,
                result: compare_targets(&a.against, x.result, y.result),
            }
        }) {
            outcomes.push((o, None));
        }
    }
    colored::control::set_override(color);
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    let mut worst = 0u8;
    let mut junit = Vec::new();
    for (o, _) in &outcomes {
        let rank = |code: u8| match code {
            2 => 4,
            3 => 3,
            4 => 2,
            1 => 1,
            _ => 0,
        };
        let mut set = |code: u8| {
            if rank(code) > rank(worst) {
                worst = code;
            }
        };
        match &o.result {
            Ok(r) if r.skipped.is_some() => {
                skipped += 1;
                let why = r.skipped.clone().unwrap_or_default();
                if a.json {
                    writeln!(
                        io.stdout,
                        "{}",
                        json!({"file": o.file, "result": "skipped", "reason": why})
                    )?;
                } else {
                    writeln!(io.stdout, "{} {}: {why}", "SKIP".yellow().bold(), o.file)?;
                }
                junit.push(format!(
                    "<testcase name=\"{}\" time=\"{:.3}\"><skipped message=\"{}\"/></testcase>",
                    xml_escape(&o.file),
                    o.seconds,
                    xml_escape(&why)
                ));
            }
            Ok(r) if r.failures.is_empty() => {
                passed += 1;
                if a.update {
                    if let Some(text) = &r.updated {
                        write_if_changed(&o.file, text)?;
                    }
                }
                if a.json {
                    writeln!(
                        io.stdout,
                        "{}",
                        json!({"file": o.file, "result": "passed", "requests": r.requests, "frames": r.frames, "seconds": o.seconds})
                    )?;
                } else {
                    writeln!(
                        io.stdout,
                        "{} {} ({} requests, {} frames)",
                        "PASS".green().bold(),
                        o.file,
                        r.requests,
                        r.frames
                    )?;
                }
                junit.push(format!(
                    "<testcase name=\"{}\" time=\"{:.3}\"/>",
                    xml_escape(&o.file),
                    o.seconds
                ));
            }
            Ok(r) => {
                if a.update {
                    if let Some(text) = &r.updated {
                        write_if_changed(&o.file, text)?;
                    }
                    // Expectations rewritten: only assertions can still fail.
                    let remaining: Vec<&Mismatch> = r
                        .failures
                        .iter()
                        .filter(|f| f.message != "output differs")
                        .collect();
                    if remaining.is_empty() {
                        passed += 1;
                        writeln!(
                            io.stdout,
                            "{} {} (expected output updated)",
                            "UPDATED".cyan().bold(),
                            o.file
                        )?;
                        junit.push(format!(
                            "<testcase name=\"{}\" time=\"{:.3}\"/>",
                            xml_escape(&o.file),
                            o.seconds
                        ));
                        continue;
                    }
                }
                failed += 1;
                set(1);
                let texts: Vec<String> = r
                    .failures
                    .iter()
                    .map(|f| failure_text(&o.file, f))
                    .collect();
                if a.json {
                    writeln!(
                        io.stdout,
                        "{}",
                        json!({"file": o.file, "result": "failed", "failures": r.failures.iter().map(|f| json!({"line": f.line, "message": f.message, "step": f.step, "expected": f.expected, "actual": f.actual})).collect::<Vec<_>>()})
                    )?;
                } else {
                    writeln!(io.stdout, "{} {}", "FAIL".red().bold(), o.file)?;
                    for f in &r.failures {
                        write_failure(io.stdout, &o.file, f)?;
                    }
                }
                junit.push(format!(
                    "<testcase name=\"{}\" time=\"{:.3}\"><failure message=\"{} failure(s)\">{}</failure></testcase>",
                    xml_escape(&o.file),
                    o.seconds,
                    r.failures.len(),
                    xml_escape(&texts.join("\n"))
                ));
            }
            Err(e) => {
                failed += 1;
                let code = match e {
                    Fatal::Parse(_) => 2,
                    Fatal::Transport(_) => 3,
                    Fatal::Http(_) => 4,
                };
                set(code);
                let message = fatal_text(e);
                if a.json {
                    writeln!(
                        io.stdout,
                        "{}",
                        json!({"file": o.file, "result": "error", "exit": code, "message": message})
                    )?;
                } else {
                    writeln!(io.stdout, "{} {}", "ERROR".red().bold(), o.file)?;
                    writeln!(io.stdout, "{message}")?;
                }
                junit.push(format!(
                    "<testcase name=\"{}\" time=\"{:.3}\"><error message=\"{}\"/></testcase>",
                    xml_escape(&o.file),
                    o.seconds,
                    xml_escape(&message)
                ));
            }
        }
    }
    if let Some(path) = &a.junit {
        let xml = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites><testsuite name=\"hgframe replay\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">\n{}\n</testsuite></testsuites>\n",
            outcomes.len(),
            failed,
            skipped,
            junit.join("\n")
        );
        std::fs::write(path, xml)
            .map_err(|e| Failure::Usage(format!("cannot write {}: {e}", path.display())))?;
    }
    let mut summary = format!("{passed} passed, {failed} failed");
    if skipped > 0 {
        summary.push_str(&format!(", {skipped} skipped"));
    }
    let not_run = files.len() - outcomes.len();
    if not_run > 0 {
        summary.push_str(&format!(
            ", {not_run} not run (the server could not be reached)"
        ));
    }
    writeln!(io.stdout, "{summary}")?;
    Ok(worst)
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
