//! The `hgframe` binary: parse arguments, set up colour (anstream), run the
//! subcommand, map failures to the documented exit codes. The protocol
//! lives in the library; this is only the command line.

mod args;
mod cmd;
mod error;
mod strip;
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
    // Styles are always written; anstream strips them unless colour is on
    // for that stream (--color, then NO_COLOR, CLICOLOR_FORCE, CLICOLOR=0,
    // TERM=dumb, a terminal). Commands that write bytes (raw frames, a
    // debugreflect body) get them through untouched: stripping would drop
    // control bytes.
    let choice = if cli.command.writes_bytes() {
        anstream::ColorChoice::AlwaysAnsi
    } else {
        match cli.global.color {
            ColorChoice::Always => anstream::ColorChoice::Always,
            ColorChoice::Never => anstream::ColorChoice::Never,
            ColorChoice::Auto => anstream::ColorChoice::Auto,
        }
    };
    let err_choice = match cli.global.color {
        ColorChoice::Always => anstream::ColorChoice::Always,
        ColorChoice::Never => anstream::ColorChoice::Never,
        ColorChoice::Auto => anstream::ColorChoice::Auto,
    };
    let stdin = io::stdin();
    let mut stdin = stdin.lock();
    let stdout = anstream::AutoStream::new(io::stdout().lock(), choice);
    let color =
        !cli.command.writes_bytes() && stdout.current_choice() != anstream::ColorChoice::Never;
    // Without colour the styles are stripped by our own writer (one scan
    // with memchr, one write per chunk; see strip.rs), and stdout is
    // written in 64 KiB chunks: decode and reflect stream hundreds of MB.
    let stdout: Box<dyn Write> = if stdout.current_choice() == anstream::ColorChoice::Never {
        Box::new(strip::StripEscapes::new(stdout.into_inner()))
    } else {
        Box::new(stdout)
    };
    let mut stdout = io::BufWriter::with_capacity(64 << 10, stdout);
    let mut stderr = anstream::AutoStream::new(io::stderr().lock(), err_choice);
    let result = run(
        cli,
        &mut Io {
            stdin: &mut stdin,
            stdout: &mut stdout,
            stderr: &mut stderr,
            stdout_is_terminal,
            stdin_is_terminal: io::stdin().is_terminal(),
            color,
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

/// Give the memory this thread freed back to the system now (mimalloc
/// otherwise purges it only when the thread allocates again, so an idle
/// server would keep its peak): the servers' idle hook.
pub fn release_freed_memory() {
    // SAFETY: mi_collect only walks and purges the calling thread's heap.
    unsafe { libmimalloc_sys::mi_collect(true) }
}
