//! The `hgframe` binary: parse arguments, set up colour, run the
//! subcommand, map failures to the documented exit codes. The protocol
//! lives in the library; this is only the command line.

mod args;
mod cmd;
mod error;
mod version;

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use args::{Cli, ColorChoice};
use clap::Parser;
use cmd::{run, Io};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let stdout_is_terminal = io::stdout().is_terminal();
    let color = match cli.global.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            stdout_is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    colored::control::set_override(color);
    let stdin = io::stdin();
    let mut stdin = stdin.lock();
    let stdout = io::stdout();
    let mut stdout = io::BufWriter::new(stdout.lock());
    let stderr = io::stderr();
    let mut stderr = stderr.lock();
    let result = run(
        cli,
        &mut Io {
            stdin: &mut stdin,
            stdout: &mut stdout,
            stderr: &mut stderr,
            stdout_is_terminal,
            stdin_is_terminal: io::stdin().is_terminal(),
        },
    );
    let flushed = stdout.flush();
    match result {
        Ok(code) => match flushed {
            Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
                let _ = writeln!(stderr, "hgframe: error writing output: {e}");
                ExitCode::from(2)
            }
            _ => ExitCode::from(code),
        },
        Err(e) => {
            let code = e.exit_code();
            if code != 0 {
                let _ = writeln!(stderr, "{e}");
            }
            ExitCode::from(code)
        }
    }
}

// The reactor and the replay runner allocate many small values (CBOR
// trees, JSON lines); mimalloc roughly halves their cost (measured with
// scripts/bench-replay.sh).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
