//! Helpers shared by every subcommand's tests: the binary with a clean
//! colour environment, a run that returns (code, stdout, stderr), the three
//! 0006 frames most tests use, and the captured vector cases under
//! `tests/data/vectors`.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value as J;

/// The documented exit codes, as every `--help` must show them.
pub const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  an expectation did not hold (replays)
  2  usage or parse error (bad flag, bad frame line, bad hex)
  3  transport error (connect, timeout)
  4  the server answered an HTTP error (for `reflect --local`: a real
     Mercurial server would answer HTTP 500 here; the reason is on stderr)
  5  undecodable bytes (truncated frame header or payload)";

/// The binary, with the caller's colour environment removed.
pub fn hgframe() -> Command {
    let mut c = Command::cargo_bin("hgframe").unwrap();
    // A fixed help width (clap wraps --help to COLUMNS).
    c.env("COLUMNS", "100")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR")
        .env_remove("CLICOLOR_FORCE");
    c
}

/// Run and return (exit code, stdout, stderr as text).
pub fn run(args: &[&str], stdin: &[u8]) -> (i32, Vec<u8>, String) {
    let out = hgframe()
        .args(args)
        .write_stdin(stdin.to_vec())
        .output()
        .unwrap();
    (
        out.status.code().expect("exit code"),
        out.stdout,
        String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    )
}

pub fn text(b: &[u8]) -> &str {
    std::str::from_utf8(b).expect("stdout is UTF-8")
}

pub fn tempfile_with(bytes: &[u8]) -> tempfile::NamedTempFile {
    let f = tempfile::NamedTempFile::new().unwrap();
    fs::write(f.path(), bytes).unwrap();
    f
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

pub fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

pub const CMD1_0006: &str = "1 1 stream-begin command-request new cbor:{b'name': b'command1'}";

/// Three 0006 frames used by the decode tests (see `encode_from_arguments_hex`).
pub const THREE_0006: [&str; 3] = [
    "1 1 stream-begin command-request new cbor:{b'name': b'heads'}",
    r"1 1 0 command-data eos \x00\xffhi",
    "3 1 stream-end command-response continuation cbor:[1, b'x']",
];
pub const THREE_0006_HEX: &str = "0c00000100010111a1446e616d65456865616473\n\
                              040000010001002200ff6869\n\
                              040000030001023182014178\n";

pub fn three_0006_bin() -> Vec<u8> {
    unhex(THREE_0006_HEX)
}

pub const THREE_0006_BLOCKS: &str = "\
frame 0 @ offset 0 (header 8 + payload 12 bytes)
  request 1  stream 1  stream-flags stream-begin
  type command-request (1)  flags new (0x1)
  payload \\xa1DnameEheads
  cbor {b'name': b'heads'}

frame 1 @ offset 20 (header 8 + payload 4 bytes)
  request 1  stream 1  stream-flags 0
  type command-data (2)  flags eos (0x2)
  payload \\x00\\xffhi

frame 2 @ offset 32 (header 8 + payload 4 bytes)
  request 3  stream 1  stream-flags stream-end
  type command-response (3)  flags continuation (0x1)
  payload \\x82\\x01Ax
  cbor [1, b'x']
";

/// One command-data frame of 65536 payload bytes (0006): the length bytes
/// are 00 00 01, which Mercurial reads as 16384.
pub fn frame_65536() -> Vec<u8> {
    let mut b = unhex("000001 0100 01 00 22");
    b.extend(std::iter::repeat_n(b'a', 65536));
    b
}

pub const MISREAD_WARNING: &str = "the header says 65536 payload bytes; Mercurial servers read its length as 16384 (b0 + 256*b1 + 16384*b2) and lose sync";

// ------------------------------------------------------------ vector files

pub fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/vectors")
}

/// A captured case: its `.txt` description and the files next to it.
pub struct Case {
    pub proto: &'static str,
    pub name: String,
    pub txt: String,
    pub bin: PathBuf,
    pub out: PathBuf,
}

impl Case {
    pub fn field(&self, key: &str) -> &str {
        self.txt
            .lines()
            .find_map(|l| l.strip_prefix(key).map(str::trim))
            .unwrap_or_else(|| panic!("{}: no `{key}` line", self.name))
    }

    pub fn status(&self) -> &str {
        self.field("response-status-code:")
    }

    pub fn is_debugreflect(&self) -> bool {
        self.field("request:").ends_with("/debugreflect")
    }

    /// The frame lines in human-string syntax, when the `.txt` gives them
    /// all that way (not raw hex, not Python reprs of payloads).
    pub fn human_lines(&self) -> Option<Vec<String>> {
        if self.txt.lines().any(|l| l.starts_with("  raw ")) {
            return None;
        }
        let lines: Vec<String> = self
            .txt
            .lines()
            .filter_map(|l| l.strip_prefix("  frame "))
            .map(str::to_string)
            .collect();
        // Payloads written as Python reprs (b'...') are for reading only.
        let fields = if self.proto == "0001" { 3 } else { 6 };
        let repr = |l: &String| {
            l.splitn(fields, ' ')
                .nth(fields - 1)
                .is_some_and(|p| p.starts_with("b'"))
        };
        if lines.is_empty() || lines.iter().any(repr) {
            return None;
        }
        Some(lines)
    }
}

pub fn vector_cases() -> Vec<Case> {
    let mut v = Vec::new();
    for proto in ["0001", "0002", "0006"] {
        let dir = vectors_dir().join(proto);
        let mut txts: Vec<PathBuf> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "txt"))
            .collect();
        txts.sort();
        for t in txts {
            v.push(Case {
                proto,
                name: format!("{proto}/{}", t.file_stem().unwrap().to_str().unwrap()),
                txt: fs::read_to_string(&t).unwrap(),
                bin: t.with_extension("bin"),
                out: t.with_extension("out"),
            });
        }
    }
    v
}

pub fn json_lines(stdout: &[u8]) -> Vec<J> {
    text(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}
