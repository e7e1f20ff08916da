//! What is common to every subcommand: colour handling (including a real
//! pseudo-terminal), `--help` with the exit codes, and `--version`.

use std::fs;

use predicates::prelude::*;

use crate::support::{
    hgframe, json_lines, path_str, run, tempfile_with, text, three_0006_bin, vectors_dir,
    CMD1_0006, EXIT_CODES, THREE_0006, THREE_0006_BLOCKS, THREE_0006_HEX,
};

// ================================================================= colour

fn has_ansi(b: &[u8]) -> bool {
    b.windows(2).any(|w| w == b"\x1b[")
}

#[test]
fn color_always_never_and_no_color() {
    let f = tempfile_with(&three_0006_bin());
    let file = path_str(f.path());
    for args in [vec!["reflect", CMD1_0006], vec!["decode", file]] {
        let mut always = vec!["--color", "always"];
        always.extend(&args);
        let (code, out, _) = run(&always, b"");
        assert_eq!(code, 0);
        assert!(has_ansi(&out), "--color always {args:?}: no escapes");

        let mut never = vec!["--color", "never"];
        never.extend(&args);
        let (code, out_never, _) = run(&never, b"");
        assert_eq!(code, 0);
        assert!(!has_ansi(&out_never), "--color never {args:?}");

        // NO_COLOR (auto; stdout is a pipe here anyway, see the tty test).
        let out = hgframe().env("NO_COLOR", "1").args(&args).output().unwrap();
        assert!(out.status.success());
        assert!(!has_ansi(&out.stdout), "NO_COLOR=1 {args:?}");
        assert_eq!(out.stdout, out_never, "{args:?}");

        // An explicit --color always wins over NO_COLOR.
        let out = hgframe()
            .env("NO_COLOR", "1")
            .args(&always)
            .output()
            .unwrap();
        assert!(has_ansi(&out.stdout), "NO_COLOR=1 --color always {args:?}");
    }
    // The colour is escapes around the same text.
    let (_, out, _) = run(&["--color", "always", "decode", file], b"");
    let stripped = strip_ansi(&out);
    assert_eq!(text(&stripped), THREE_0006_BLOCKS);
}

fn strip_ansi(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == 0x1b && b.get(i + 1) == Some(&b'[') {
            i += 2;
            while i < b.len() && !b[i].is_ascii_alphabetic() {
                i += 1;
            }
            i += 1;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

#[test]
fn color_never_touches_machine_output() {
    // JSON, hex, raw and the debugreflect body stay byte-exact.
    let expected = fs::read(vectors_dir().join("0006/cmd-simple.out")).unwrap();
    hgframe()
        .args(["--color", "always", "reflect", "--raw", CMD1_0006])
        .assert()
        .code(0)
        .stdout(expected);
    let (_, out, _) = run(&["--color", "always", "reflect", "--json", CMD1_0006], b"");
    assert!(!has_ansi(&out));
    json_lines(&out);
    let (_, out, _) = run(
        &["--color", "always", "decode", "--json"],
        &three_0006_bin(),
    );
    assert!(!has_ansi(&out));
    hgframe()
        .args(["--color", "always", "encode"])
        .args(THREE_0006)
        .assert()
        .code(0)
        .stdout(THREE_0006_HEX);
}

/// The clicolors conventions beside NO_COLOR: CLICOLOR_FORCE colours a
/// pipe, CLICOLOR=0 keeps a terminal plain; NO_COLOR beats
/// CLICOLOR_FORCE; --color beats them all.
#[test]
fn clicolor_force_and_clicolor() {
    let forced = hgframe()
        .env("CLICOLOR_FORCE", "1")
        .args(["reflect", CMD1_0006])
        .output()
        .unwrap();
    assert!(has_ansi(&forced.stdout), "CLICOLOR_FORCE=1 on a pipe");
    let both = hgframe()
        .env("CLICOLOR_FORCE", "1")
        .env("NO_COLOR", "1")
        .args(["reflect", CMD1_0006])
        .output()
        .unwrap();
    assert!(
        !has_ansi(&both.stdout),
        "NO_COLOR=1 wins over CLICOLOR_FORCE"
    );
    let never = hgframe()
        .env("CLICOLOR_FORCE", "1")
        .args(["--color", "never", "reflect", CMD1_0006])
        .output()
        .unwrap();
    assert!(!has_ansi(&never.stdout), "--color never wins");
    assert_eq!(strip_ansi(&forced.stdout), never.stdout);
    // raw bytes pass untouched whatever the setting
    let expected = fs::read(vectors_dir().join("0006/cmd-simple.out")).unwrap();
    for color in ["never", "always"] {
        hgframe()
            .env("CLICOLOR_FORCE", "1")
            .args(["--color", color, "reflect", "--raw", CMD1_0006])
            .assert()
            .code(0)
            .stdout(expected.clone());
    }

    let (code, out) = on_a_tty_env(&["reflect", CMD1_0006], &[("CLICOLOR", "0")]);
    assert_eq!(code, 0);
    assert!(
        !has_ansi(&out),
        "CLICOLOR=0 on a terminal: {}",
        String::from_utf8_lossy(&out)
    );
    let (_, out) = on_a_tty_env(&["reflect", CMD1_0006], &[("CLICOLOR", "1")]);
    assert!(has_ansi(&out), "CLICOLOR=1 on a terminal");
}

/// `replay` on a terminal: a progress bar (indicatif) on stderr, the
/// results on stdout; --quiet hides both the bar and the PASS lines. On a
/// pipe there is never a bar (the other tests read stdout and stderr).
#[test]
fn replay_progress_on_a_terminal_only() {
    let examples = format!("{}/examples/0006", env!("CARGO_MANIFEST_DIR"));
    let (code, out) = on_a_tty_env(&["replay", &examples], &[("TERM", "xterm")]);
    let shown = String::from_utf8_lossy(&out);
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains("PASS"), "{shown}");
    assert!(shown.contains(" scripts"), "no progress bar: {shown}");
    let (code, out) = on_a_tty_env(&["replay", "--quiet", &examples], &[("TERM", "xterm")]);
    let shown = String::from_utf8_lossy(&out);
    assert_eq!(code, 0, "{shown}");
    assert!(!shown.contains("PASS"), "{shown}");
    assert!(!shown.contains(" scripts"), "{shown}");
    assert!(shown.contains(" passed, 0 failed"), "{shown}");
    let (code, _, err) = run(&["replay", &examples], b"");
    assert_eq!(code, 0);
    assert!(!err.contains(" scripts"), "a bar on a pipe: {err}");
}

/// Run the binary on a pseudo-terminal (util-linux `script`); returns the
/// exit code and everything the terminal showed.
fn on_a_tty(args: &[&str], no_color: bool) -> (i32, Vec<u8>) {
    on_a_tty_env(args, if no_color { &[("NO_COLOR", "1")] } else { &[] })
}

/// [`on_a_tty`] with these environment variables set.
fn on_a_tty_env(args: &[&str], env: &[(&str, &str)]) -> (i32, Vec<u8>) {
    fn quote(s: &str) -> String {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
    let bin = assert_cmd::cargo::cargo_bin("hgframe");
    let mut cmdline = quote(path_str(&bin));
    for a in args {
        cmdline.push(' ');
        cmdline.push_str(&quote(a));
    }
    // `timeout`: a hang (a deadlock on the terminal) fails the test.
    let mut c = std::process::Command::new("timeout");
    c.args(["120", "script", "-qec", &cmdline, "/dev/null"])
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR")
        .env_remove("CLICOLOR_FORCE")
        .stdin(std::process::Stdio::null());
    c.envs(env.iter().copied());
    let out = c
        .output()
        .expect("util-linux `script` is needed to run hgframe on a pseudo-terminal");
    (out.status.code().unwrap(), out.stdout)
}

#[test]
fn on_a_terminal_auto_colours_unless_no_color_and_raw_is_refused() {
    let (code, out) = on_a_tty(&["reflect", CMD1_0006], false);
    assert_eq!(code, 0, "{}", String::from_utf8_lossy(&out));
    assert!(
        has_ansi(&out),
        "auto on a terminal: {}",
        String::from_utf8_lossy(&out)
    );

    let (code, out) = on_a_tty(&["reflect", CMD1_0006], true);
    assert_eq!(code, 0);
    assert!(
        !has_ansi(&out),
        "NO_COLOR=1 on a terminal: {}",
        String::from_utf8_lossy(&out)
    );
    assert!(String::from_utf8_lossy(&out).contains("→ runcommand"));

    let (code, out) = on_a_tty(&["encode", "-f", "raw", "1 1 0 command-data eos x"], false);
    assert_eq!(code, 2);
    let shown = String::from_utf8_lossy(&out).replace("\r\n", "\n");
    assert!(
        shown.contains("error: refusing to write binary frames to a terminal\n"),
        "{shown}"
    );
    assert!(
        !shown.contains('\x01'),
        "raw bytes reached the terminal: {shown:?}"
    );
}

// =================================================================== help

#[test]
fn help_lists_the_exit_codes() {
    for args in [
        vec!["--help"],
        vec!["-h"],
        vec!["encode", "--help"],
        vec!["decode", "--help"],
        vec!["reflect", "--help"],
        vec!["help", "reflect"],
    ] {
        hgframe()
            .args(&args)
            .assert()
            .code(0)
            .stdout(predicate::str::contains(EXIT_CODES))
            .stderr("");
    }
    // No subcommand: usage on stderr, exit 2.
    hgframe()
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains(
            "Usage: hgframe [OPTIONS] <COMMAND>",
        ))
        .stderr(predicate::str::contains("Exit codes:"));
}

#[test]
fn encode_help_keeps_the_syntax_lines() {
    let out = hgframe().args(["encode", "--help"]).output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(
        help.lines().any(|l| l.trim_start().starts_with("0001:")),
        "{help}"
    );
    assert!(
        help.lines()
            .any(|l| l.trim_start().starts_with("0002, 0006:")),
        "{help}"
    );
}

#[test]
fn version() {
    // -V: one line.
    hgframe()
        .arg("-V")
        .assert()
        .code(0)
        .stdout(format!("hgframe {}\n", env!("CARGO_PKG_VERSION")))
        .stderr("");
    // --version: what a bug report needs.
    let out = hgframe().arg("--version").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with(&format!(
            "hgframe {}\n\nprotocol revisions (--proto):\n  0001  ",
            env!("CARGO_PKG_VERSION")
        )),
        "{text}"
    );
    for want in [
        "\n  0006  Mercurial 4.8 .. 6.0",
        "\nMercurial servers (--hg):\n  4.6/4.7         0005, Python 2",
        "\n  5.0-py2/5.1-py2 0006, Python 2",
        // the bundled libzstd: Mercurial's byte-for-byte comparisons
        // were made with it
        ", zstd 1.5.7\n",
    ] {
        assert!(text.contains(want), "{want:?} in {text}");
    }
    let last = text.lines().last().unwrap_or_default();
    assert!(last.starts_with("compression: zlib 1."), "{text}");
}

#[test]
fn help_has_examples_and_completions_offer_values() {
    let out = hgframe().args(["send", "--help"]).output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(
        help.contains("\nExamples:\n  hgframe send http://127.0.0.1:8000/ heads\n"),
        "{help}"
    );
    assert!(
        help.contains("[possible values: identity, zlib, zstd-8mb]"),
        "{help}"
    );
    let out = hgframe().args(["completions", "bash"]).output().unwrap();
    let bash = String::from_utf8(out.stdout).unwrap();
    // --proto's revisions and --hg's releases, offered after the flag.
    assert!(bash.contains("0001 0002 0005 0006"), "--proto");
    assert!(
        bash.contains("4.6 4.7 4.8 4.9 5.0 5.0-py2 5.1 5.1-py2 5.2"),
        "--hg"
    );
}

/// Frames typed at a terminal are answered line by line: `reflect` and
/// `encode` used to read up to 256 lines ahead (to infer the revision) and
/// to write through a 64 KiB buffer, so a person typing a frame saw
/// nothing until Ctrl-D. Python's `pty` types one line, waits for the
/// answer, and only then ends the input.
#[test]
fn frames_typed_at_a_terminal_are_answered_as_typed() {
    const TYPE_ONE_LINE: &str = r#"
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
def read_until(want, seconds):
    out, end = b'', time.time() + seconds
    while want not in out and time.time() < end:
        if select.select([fd], [], [], 0.05)[0]:
            try:
                out += os.read(fd, 4096)
            except OSError:
                break
    return out
time.sleep(0.2)
os.write(fd, os.environ['LINE'].encode())
seen = read_until(os.environ['WANT'].encode(), 10 if os.environ['LINE'] else 0.3)
os.write(fd, b'\x04')
rest = read_until(b'\0', 2)
for _ in range(100):
    if os.waitpid(pid, os.WNOHANG)[0]:
        break
    time.sleep(0.05)
else:
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    rest += b'\n(still running 5 s after the end of input: killed)'
print('BEFORE-EOF' if os.environ['WANT'].encode() in seen else 'AFTER-EOF')
sys.stdout.write((seen + rest).decode(errors='replace'))
"#;
    let bin = assert_cmd::cargo::cargo_bin("hgframe");
    let typed = |args: &[&str], line: &str, want: &str| {
        let out = std::process::Command::new("python3")
            .arg("-c")
            .arg(TYPE_ONE_LINE)
            .arg(&bin)
            .args(args)
            .env("LINE", line)
            .env("WANT", want)
            .output()
            .expect("python3 is needed to type at hgframe on a pseudo-terminal");
        String::from_utf8_lossy(&out.stdout).replace('\r', "")
    };
    let line = "1 1 stream-begin command-request new cbor:{b'name': b'heads'}\n";
    for (args, want) in [
        (&["reflect", "--color", "never"][..], "runcommand"),
        (&["encode"][..], "0c00000100010111a1446e616d65456865616473"),
    ] {
        let shown = typed(args, line, want);
        assert!(
            shown.starts_with("BEFORE-EOF") && !shown.contains("killed"),
            "hgframe {args:?}: the answer to a typed line did not show before the end of input, or one Ctrl-D did not end it:\n{shown}"
        );
    }
    // Ctrl-D at once: the end of input, the first time.
    let shown = typed(&["reflect", "--color", "never"], "", "end of input");
    assert!(
        shown.contains("end of input") && !shown.contains("killed"),
        "{shown}"
    );
}
