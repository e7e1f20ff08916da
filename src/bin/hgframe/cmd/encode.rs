//! `hgframe encode`: human frame strings to wire bytes.

use std::io::BufRead;

use hgframe::python::escape::{escape_bytes_into, hex_into};

use super::{choose_proto, frame_lines, lookahead, parse_line, Io, Result};
use crate::args::{EncodeArgs, EncodeFormat, GlobalOpts};
use crate::error::Failure;

pub fn run(global: &GlobalOpts, a: EncodeArgs, io: &mut Io<'_>) -> Result<u8> {
    if a.format == EncodeFormat::Raw && io.stdout_is_terminal {
        return Err(Failure::Usage(
            "refusing to write binary frames to a terminal\n  = use --format hex or --format escaped, or redirect stdout to a file or pipe".into(),
        ));
    }
    let reader = if a.frames.is_empty() {
        io.note_stdin("frame lines")?;
        // Read in 256 KiB chunks (stdin's own buffer is 8 KiB: a read
        // system call every 40 lines).
        Some((
            "stdin line".to_string(),
            Box::new(std::io::BufReader::with_capacity(256 << 10, &mut *io.stdin))
                as Box<dyn BufRead>,
        ))
    } else {
        None
    };
    // Lines typed at a terminal are answered as they are typed.
    let live = a.frames.is_empty() && io.stdin_is_terminal;
    let mut lines = frame_lines(&a.frames, reader);
    let (proto, ahead) = choose_proto(
        global,
        &mut lines,
        lookahead(a.frames.is_empty(), io.stdin_is_terminal),
        io.stderr,
    )?;
    let mut buf = Vec::new();
    let mut text = Vec::new();
    for l in ahead.into_iter().map(Ok).chain(lines) {
        let l = l?;
        let f = parse_line(proto, &l, io.stderr)?;
        buf.clear();
        f.encode_into(proto, &mut buf)
            .map_err(|e| Failure::Usage(format!("{} {}: {e}", l.origin, l.number)))?;
        if f.payload.len() >= 65536 {
            writeln!(
                io.stderr,
                "hgframe: warning: {} {}: a {}-byte payload: Mercurial servers read this frame's length as {} and lose sync",
                l.origin,
                l.number,
                f.payload.len(),
                hgframe::wire::frame::mercurial_misread_len(f.payload.len())
            )?;
        }
        match a.format {
            EncodeFormat::Raw => io.stdout.write_all(&buf)?,
            EncodeFormat::Hex => {
                text.clear();
                hex_into(&mut text, &buf);
                text.push(b'\n');
                io.stdout.write_all(&text)?;
            }
            EncodeFormat::Escaped => {
                text.clear();
                escape_bytes_into(&mut text, &buf);
                text.push(b'\n');
                io.stdout.write_all(&text)?;
            }
        }
        if live {
            io.stdout.flush()?;
        }
    }
    io.stdout.flush()?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    // The one thing a pipe cannot show (tests/cli/help.rs also checks it through
    // a real pseudo-terminal): raw bytes are refused when stdout is a
    // terminal.
    fn run_lib(
        args: &[&str],
        stdout_is_terminal: bool,
    ) -> (Result<u8, crate::error::Failure>, Vec<u8>, Vec<u8>) {
        use clap::Parser;
        let cli = crate::args::Cli::try_parse_from(args).unwrap();
        let mut stdin: &[u8] = b"";
        let mut stdout = Vec::new();
        let mut stderr = Vec::new();
        let r = crate::cmd::run(
            cli,
            &mut crate::cmd::Io {
                stdin: &mut stdin,
                stdout: &mut stdout,
                stderr: &mut stderr,
                stdout_is_terminal,
                stdin_is_terminal: stdout_is_terminal,
                color: false,
            },
        );
        (r, stdout, stderr)
    }

    #[test]
    fn encode_raw_refuses_a_terminal() {
        let (r, stdout, stderr) = run_lib(
            &["hgframe", "encode", "-f", "raw", "1 1 0 command-data eos x"],
            true,
        );
        let e = r.expect_err("raw output to a terminal must be refused");
        assert_eq!(e.exit_code(), 2);
        assert_eq!(
            e.to_string(),
            "error: refusing to write binary frames to a terminal\n  \
             = use --format hex or --format escaped, or redirect stdout to a file or pipe"
        );
        assert!(stdout.is_empty() && stderr.is_empty());

        // Text formats are fine on a terminal; raw is fine elsewhere.
        let (r, stdout, _) = run_lib(&["hgframe", "encode", "1 1 0 command-data eos x"], true);
        assert_eq!(r.unwrap(), 0);
        assert_eq!(stdout, b"010000010001002278\n");
        let (r, stdout, _) = run_lib(
            &["hgframe", "encode", "-f", "raw", "1 1 0 command-data eos x"],
            false,
        );
        assert_eq!(r.unwrap(), 0);
        assert_eq!(
            stdout,
            hgframe::python::escape::unhex("010000010001002278").unwrap()
        );
    }

    /// Issue 13 item 17: reading stdin that is a terminal is announced
    /// (before, the command waited silently).
    #[test]
    fn i17_stdin_on_a_terminal_is_announced() {
        use clap::Parser;
        for (args, what) in [
            (&["hgframe", "encode"][..], "frame lines"),
            (&["hgframe", "decode"], "binary frames"),
            (&["hgframe", "decode", "--hex-input"], "hex text"),
            (&["hgframe", "reflect"], "frame lines"),
            (&["hgframe", "reflect", "--bin", "-"], "a request body"),
        ] {
            for terminal in [true, false] {
                let cli = crate::args::Cli::try_parse_from(args).unwrap();
                let mut stdin: &[u8] = b"";
                let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
                let r = crate::cmd::run(
                    cli,
                    &mut crate::cmd::Io {
                        stdin: &mut stdin,
                        stdout: &mut stdout,
                        stderr: &mut stderr,
                        stdout_is_terminal: false,
                        stdin_is_terminal: terminal,
                        color: false,
                    },
                );
                assert!(r.is_ok(), "{args:?}");
                let err = String::from_utf8_lossy(&stderr);
                let said = err.contains(&format!("reading {what} from stdin (a terminal)"));
                assert_eq!(said, terminal, "{args:?}: {err}");
            }
        }
    }
}
