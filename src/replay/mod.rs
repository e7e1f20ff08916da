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

mod check;
mod exec;
mod runner;
pub mod script;

use std::io::BufRead;

use crate::client::{Client, ClientError};
use crate::remote::HttpError;
use crate::wire::proto::Proto;
use script::ScriptError;

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
    pub outputs: Vec<StepOutput>,
}

/// What one step printed.
#[derive(Debug, Clone)]
pub struct StepOutput {
    /// The step's line in the script.
    pub line: usize,
    pub lines: Vec<String>,
    /// The value behind each line (`None` when it is not JSON), so that
    /// two targets agree when only the order of a set's members differs.
    pub shapes: Vec<crate::python::value::Value>,
}

impl StepOutput {
    /// Whether two targets printed the same (sets in any order).
    pub fn agrees_with(&self, other: &StepOutput) -> bool {
        self.lines.len() == other.lines.len()
            && self
                .lines
                .iter()
                .zip(&other.lines)
                .enumerate()
                .all(|(i, (a, b))| {
                    a == b
                        || self.shapes.get(i).or(other.shapes.get(i)).is_some_and(|s| {
                            crate::reflect::same_up_to_set_order(s, a.as_bytes(), b.as_bytes())
                        })
                })
    }
}

/// Options of a run.
#[derive(Default)]
pub struct RunOptions {
    /// Override the script's revision.
    pub proto: Option<Proto>,
    /// Rewrite expectations (collect the updated text).
    pub update: bool,
    /// Keep per-step outputs (for `--against`).
    pub keep_outputs: bool,
    /// The command line named the target (`--local`, `--url`, `--against`):
    /// a script's `target` line is then overridden; otherwise a script
    /// recorded against a server (`target URL`) is an error that says how
    /// to run it — a transcript never chooses where hgframe connects.
    pub cli_target: bool,
    /// `respond KEY @FILE` may read any file (`--allow-file-access`, for
    /// a script the user trusts); otherwise only regular files beside the
    /// script (a transcript is data, not a program). Relative names are
    /// relative to the script either way.
    pub allow_file_access: bool,
}

/// Run a script from a reader. `server_proto` is the revision the target
/// server speaks (a script of another revision is skipped); `progress`
/// hears the number of frames run after each request.
pub fn run_script<R: BufRead + Send>(
    file: &str,
    reader: R,
    exec: &Exec<'_>,
    server_proto: Option<Proto>,
    opts: &RunOptions,
    progress: impl FnMut(usize),
) -> Result<ScriptReport, Fatal> {
    runner::run(file, reader, exec, server_proto, opts, progress)
}
