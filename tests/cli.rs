//! The command line as a user sees it: exact stdout bytes, stderr text and
//! exit codes of `hgframe encode`, `decode`, `reflect --local`, colour
//! handling and `--help`. The binary is run with assert_cmd; the one thing
//! a pipe cannot show (refusing raw bytes on a terminal) is checked through
//! a real pseudo-terminal made by util-linux `script` here, and in the
//! binary's own unit tests (`cmd::encode`) with `stdout_is_terminal: true`.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value as J;

// ---------------------------------------------------------------- helpers

/// The documented exit codes, as every `--help` must show them.
const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  an expectation did not hold (replays)
  2  usage or parse error (bad flag, bad frame line, bad hex)
  3  transport error (connect, timeout)
  4  the server answered an HTTP error (for `reflect --local`: a real
     Mercurial server would answer HTTP 500 here; the reason is on stderr)
  5  undecodable bytes (truncated frame header or payload)";

/// The binary, with the caller's colour environment removed.
fn hgframe() -> Command {
    let mut c = Command::cargo_bin("hgframe").unwrap();
    // A fixed help width (clap wraps --help to COLUMNS).
    c.env("COLUMNS", "100")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR")
        .env_remove("CLICOLOR_FORCE");
    c
}

/// Run and return (exit code, stdout, stderr as text).
fn run(args: &[&str], stdin: &[u8]) -> (i32, Vec<u8>, String) {
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

fn text(b: &[u8]) -> &str {
    std::str::from_utf8(b).expect("stdout is UTF-8")
}

fn tempfile_with(bytes: &[u8]) -> tempfile::NamedTempFile {
    let f = tempfile::NamedTempFile::new().unwrap();
    fs::write(f.path(), bytes).unwrap();
    f
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

const CMD1_0006: &str = "1 1 stream-begin command-request new cbor:{b'name': b'command1'}";

/// Three 0006 frames used by the decode tests (see `encode_from_arguments_hex`).
const THREE_0006: [&str; 3] = [
    "1 1 stream-begin command-request new cbor:{b'name': b'heads'}",
    r"1 1 0 command-data eos \x00\xffhi",
    "3 1 stream-end command-response continuation cbor:[1, b'x']",
];
const THREE_0006_HEX: &str = "0c00000100010111a1446e616d65456865616473\n\
                              040000010001002200ff6869\n\
                              040000030001023182014178\n";

fn three_0006_bin() -> Vec<u8> {
    unhex(THREE_0006_HEX)
}

const THREE_0006_BLOCKS: &str = "\
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
fn frame_65536() -> Vec<u8> {
    let mut b = unhex("000001 0100 01 00 22");
    b.extend(std::iter::repeat_n(b'a', 65536));
    b
}

const MISREAD_WARNING: &str = "the header says 65536 payload bytes; Mercurial servers read its length as 16384 (b0 + 256*b1 + 16384*b2) and lose sync";

// ------------------------------------------------------------ vector files

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/vectors")
}

/// A captured case: its `.txt` description and the files next to it.
struct Case {
    proto: &'static str,
    name: String,
    txt: String,
    bin: PathBuf,
    out: PathBuf,
}

impl Case {
    fn field(&self, key: &str) -> &str {
        self.txt
            .lines()
            .find_map(|l| l.strip_prefix(key).map(str::trim))
            .unwrap_or_else(|| panic!("{}: no `{key}` line", self.name))
    }

    fn status(&self) -> &str {
        self.field("response-status-code:")
    }

    fn is_debugreflect(&self) -> bool {
        self.field("request:").ends_with("/debugreflect")
    }

    /// The frame lines in human-string syntax, when the `.txt` gives them
    /// all that way (not raw hex, not Python reprs of payloads).
    fn human_lines(&self) -> Option<Vec<String>> {
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

fn vector_cases() -> Vec<Case> {
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

// ================================================================= encode

#[test]
fn encode_from_arguments_hex() {
    // Headers: length (3 bytes LE), request id (2 LE), stream id, stream
    // flags, type << 4 | flags; then the payload.
    hgframe()
        .arg("encode")
        .args(THREE_0006)
        .assert()
        .code(0)
        .stdout(
            "0c00000100010111a1446e616d65456865616473\n\
             040000010001002200ff6869\n\
             040000030001023182014178\n",
        )
        .stderr("");
}

#[test]
fn encode_from_stdin_skips_blank_lines_and_comments() {
    let stdin = "# a session\n\
                 \n\
                 1 1 stream-begin command-request new cbor:{b'name': b'heads'}\n   \n\
                 \x20\x20# an indented comment\n\
                 1 1 0 command-data eos \\x00\\xffhi\r\n\
                 3 1 stream-end command-response continuation cbor:[1, b'x']";
    hgframe()
        .arg("encode")
        .write_stdin(stdin)
        .assert()
        .code(0)
        .stdout(
            "0c00000100010111a1446e616d65456865616473\n\
             040000010001002200ff6869\n\
             040000030001023182014178\n",
        )
        .stderr("");
}

#[test]
fn encode_empty_stdin_prints_nothing() {
    hgframe()
        .arg("encode")
        .write_stdin("\n# only a comment\n")
        .assert()
        .code(0)
        .stdout("")
        .stderr("");
}

#[test]
fn encode_format_escaped() {
    hgframe()
        .args([
            "encode",
            "--format",
            "escaped",
            "1 1 0 command-data eos x",
            r"1 1 0 command-data eos \x00",
        ])
        .assert()
        .code(0)
        .stdout(
            "\\x01\\x00\\x00\\x01\\x00\\x01\\x00\"x\n\\x01\\x00\\x00\\x01\\x00\\x01\\x00\"\\x00\n",
        )
        .stderr("");
}

#[test]
fn encode_format_raw_to_a_pipe() {
    let expected = three_0006_bin();
    hgframe()
        .args(["encode", "-f", "raw"])
        .args(THREE_0006)
        .assert()
        .code(0)
        .stdout(expected.clone())
        .stderr("");
    // Same bytes from stdin lines.
    hgframe()
        .args(["encode", "--format", "raw"])
        .write_stdin(THREE_0006.join("\n"))
        .assert()
        .code(0)
        .stdout(expected)
        .stderr("");
}

#[test]
fn encode_infers_0001_from_a_3_field_command_name() {
    hgframe()
        .args(["-v", "encode", "command-name eos command1"])
        .assert()
        .code(0)
        // 0001 header: 3-byte length, then type 1 << 4 | eos.
        .stdout("08000011636f6d6d616e6431\n")
        .stderr("hgframe: protocol 0001 (inferred: `command-name` in the first of 3 fields is a 0001 frame type)\n");
}

#[test]
fn encode_infers_0002_from_a_6_field_command_name() {
    hgframe()
        .args(["encode", "-v", "1 1 0 command-name eos command1"])
        .assert()
        .code(0)
        .stdout("0800000100010011636f6d6d616e6431\n")
        .stderr("hgframe: protocol 0002 (inferred: `command-name` with 6 fields is a 0002 frame type)\n");
}

#[test]
fn encode_infers_0006_from_command_request() {
    hgframe()
        .args([
            "encode",
            "--verbose",
            "1 1 stream-begin command-request new x",
        ])
        .assert()
        .code(0)
        .stdout("010000010001011178\n")
        .stderr("hgframe: protocol 0006 (inferred: `command-request` is a 0006 frame type)\n");
}

#[test]
fn encode_defaults_to_0006() {
    // command-data is a type of 0002 (id 3) and 0006 (id 2): no evidence.
    hgframe()
        .args(["-v", "encode", "1 1 0 command-data eos x"])
        .assert()
        .code(0)
        .stdout("010000010001002278\n")
        .stderr("hgframe: protocol 0006 (no revision-specific type name seen; default)\n");
    // Without -v nothing is said.
    hgframe()
        .args(["encode", "1 1 0 command-data eos x"])
        .assert()
        .code(0)
        .stdout("010000010001002278\n")
        .stderr("");
}

#[test]
fn encode_inference_looks_past_ambiguous_lines() {
    // The first line fits 0002 and 0006; the second only 0002, so the
    // first is encoded with 0002's command-data id (3).
    hgframe()
        .args([
            "-v",
            "encode",
            "1 1 stream-begin command-data eos x",
            r"1 1 0 command-argument eoa \x01\x00\x01\x00ab",
        ])
        .assert()
        .code(0)
        .stdout("010000010001013278\n0600000100010022010001006162\n")
        .stderr("hgframe: protocol 0002 (inferred: `command-argument` with 6 fields is a 0002 frame type)\n");
}

#[test]
fn encode_proto_overrides_inference() {
    hgframe()
        .args([
            "--proto",
            "0002",
            "-v",
            "encode",
            "1 1 0 command-data eos x",
        ])
        .assert()
        .code(0)
        .stdout("010000010001003278\n")
        .stderr("hgframe: protocol 0002 (from --proto)\n");
    // --proto also goes after the subcommand, and beats a 0001-looking line.
    hgframe()
        .args(["encode", "--proto", "0006", "command-name eos command1"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::starts_with(
            "error: argument 1 (protocol 0006): expected 6 space-separated fields, got 3\n",
        ));
}

#[test]
fn bad_proto_value_is_a_usage_error() {
    hgframe()
        .args(["--proto", "0003", "encode", "x"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains(
            "invalid value '0003' for '--proto <P>': unknown protocol revision \"0003\": expected one of 0001, 0002, 0006",
        ));
}

#[test]
fn encode_warns_about_a_type_number_outside_the_revision() {
    hgframe()
        .args(["encode", "--proto", "0001", "11 0 x"])
        .assert()
        .code(0)
        .stdout("010000b078\n")
        .stderr(
            "hgframe: warning: argument 1: type 11 is not a 0001 frame type \
             (Mercurial's makeframefromhumanstring raises KeyError for it); sending it anyway\n",
        );
}

// ---------------------------------------------------- encode: bad lines

#[test]
fn bad_flag_quotes_the_line_with_a_caret_and_a_suggestion() {
    hgframe()
        .args(["encode", "command-name have-arg foo"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(
            "error: argument 1 (protocol 0001): unknown flag `have-arg` for command-name\n\
             \x20 | command-name have-arg foo\n\
             \x20 |              ^^^^^^^^\n\
             \x20 = did you mean `have-args`?\n\
             \x20 = valid flags for command-name: eos, have-args, have-data (or a number; join several with |)\n",
        );
}

#[test]
fn bad_type_name_lists_valid_names_and_suggests() {
    hgframe()
        .args(["encode", "1 1 stream-begin command-reqest new x"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(
            "error: argument 1 (protocol 0006): unknown frame type `command-reqest`\n\
             \x20 | 1 1 stream-begin command-reqest new x\n\
             \x20 |                  ^^^^^^^^^^^^^^\n\
             \x20 = did you mean `command-request`?\n\
             \x20 = expected a frame type name or number; 0006 types: command-request, command-data, \
             command-response, error-response, text-output, progress, sender-protocol-settings, stream-settings\n",
        );
}

#[test]
fn bad_line_on_stdin_names_its_line_number() {
    // Line numbers count the skipped lines; frames before the bad line
    // have already been written.
    hgframe()
        .arg("encode")
        .write_stdin("# header\n1 1 0 command-data eos x\n\n1 1 0 command-data eos y z\n1 1 0 command-data eox x\n")
        .assert()
        .code(2)
        .stdout("010000010001002278\n030000010001002279207a\n")
        .stderr(
            "error: stdin line 5 (protocol 0006): unknown flag `eox` for command-data\n\
             \x20 | 1 1 0 command-data eox x\n\
             \x20 |                    ^^^\n\
             \x20 = did you mean `eos`?\n\
             \x20 = valid flags for command-data: continuation, eos (or a number; join several with |)\n",
        );
}

#[test]
fn bad_cbor_literal() {
    hgframe()
        .args(["encode", r#"1 1 stream-begin command-request new cbor:{b"name": }"#])
        .assert()
        .code(2)
        .stdout("")
        .stderr(
            "error: argument 1 (protocol 0006): bad cbor: literal: expected a value: b'bytes', an int, None, True, False, [list], (tuple), {dict} or {set}\n\
             \x20 | 1 1 stream-begin command-request new cbor:{b\"name\": }\n\
             \x20 |                                                     ^\n\
             \x20 = cbor: takes a Python literal, e.g. cbor:{b'name': b'heads'}\n",
        );
    // A str where CBOR needs bytes.
    hgframe()
        .args(["encode", "1 1 stream-begin command-request new cbor:{'name': b'x'}"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(
            "error: argument 1 (protocol 0006): cannot CBOR-encode this value: do not know how to encode <class 'str'> (use a bytes literal: b'...')\n\
             \x20 | 1 1 stream-begin command-request new cbor:{'name': b'x'}\n\
             \x20 |                                           ^^^^^^^^^^^^^^\n",
        );
}

#[test]
fn bad_escape_in_payload() {
    hgframe()
        .args(["encode", r"1 1 0 command-data eos ab\xZZ"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(
            "error: argument 1 (protocol 0006): bad escape in payload: invalid \\x escape at position 2: expected two hex digits after \\x\n\
             \x20 | 1 1 0 command-data eos ab\\xZZ\n\
             \x20 |                          ^^^^\n\
             \x20 = payload escapes are Python's: \\xNN, \\n, \\t, \\r, \\0, \\\\ ...\n",
        );
}

#[test]
fn too_few_fields() {
    hgframe()
        .args(["encode", "1 1 0 command-data"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(
            "error: argument 1 (protocol 0006): expected 6 space-separated fields, got 4\n\
             \x20 | 1 1 0 command-data\n\
             \x20 |                   ^\n\
             \x20 = a 0006 frame is: <request-id> <stream-id> <stream-flags> <type> <flags> <payload>\n",
        );
    // A missing empty payload gets its own hint.
    hgframe()
        .args(["encode", "1 1 0 command-data eos"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::ends_with(
            "  = an empty payload still needs the space before it (end the line with a space)\n",
        ));
    hgframe()
        .args(["encode", "1 1 0 command-data eos "])
        .assert()
        .code(0)
        .stdout("0000000100010022\n")
        .stderr("");
}

#[test]
fn out_of_range_request_id() {
    hgframe()
        .args(["encode", "70000 1 0 command-data eos x"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(
            "error: argument 1 (protocol 0006): request id 70000 is out of range\n\
             \x20 | 70000 1 0 command-data eos x\n\
             \x20 | ^^^^^\n\
             \x20 = expected a decimal integer from 0 to 65535\n",
        );
    // The largest one is fine.
    hgframe()
        .args(["encode", "65535 255 0 command-data eos x"])
        .assert()
        .code(0)
        .stdout("010000ffffff002278\n");
}

#[test]
fn type_name_of_another_revision_hints_at_proto() {
    hgframe()
        .args(["encode", "--proto", "0001", "command-request new x"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(
            "error: argument 1 (protocol 0001): unknown frame type `command-request`\n\
             \x20 | command-request new x\n\
             \x20 | ^^^^^^^^^^^^^^^\n\
             \x20 = expected a frame type name or number; 0001 types: command-name, command-argument, command-data, bytes-response, error-response\n\
             \x20 = `command-request` is a frame type of protocol 0006, whose frames read <request-id> <stream-id> <stream-flags> <type> <flags> <payload> (use --proto 0006 with that form)\n",
        );
    hgframe()
        .args(["encode", "--proto", "0006", "1 1 0 bytes-response eos x"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::ends_with(
            "  = `bytes-response` is a frame type of protocol 0002 (use --proto 0002)\n",
        ));
    // A 0001-form line under the 0006 default.
    hgframe()
        .args(["encode", "command-request new x"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::ends_with(
            "  = this looks like the 3-field 0001 form; use --proto 0001, or add <request-id> <stream-id> <stream-flags> in front\n",
        ));
}

#[test]
fn type_name_hint_names_the_revision_with_matching_fields() {
    // `command-name` is a type of 0001 and 0002; on a 6-field line only
    // 0002 fits. Following the current hint (--proto 0001) silently
    // encodes type 1, flags 1 and the payload "0 command-name eos x".
    hgframe()
        .args(["encode", "--proto", "0006", "1 1 0 command-name eos x"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("use --proto 0002"))
        .stderr(predicate::str::contains("use --proto 0001").not());
}

// ================================================================= decode

#[test]
fn decode_binary_file_as_blocks() {
    let f = tempfile_with(&three_0006_bin());
    hgframe()
        .args(["decode", path_str(f.path())])
        .assert()
        .code(0)
        .stdout(THREE_0006_BLOCKS)
        .stderr("");
    // The same from stdin, with -v naming the revision.
    hgframe()
        .args(["-v", "decode"])
        .write_stdin(three_0006_bin())
        .assert()
        .code(0)
        .stdout(THREE_0006_BLOCKS)
        .stderr("hgframe: decoding as protocol 0006 (the default; use --proto for 0001 or 0002)\n");
}

#[test]
fn decode_hex_input() {
    // Whitespace anywhere, either case.
    let hex = "0C 00 00 01\n00 01 01 11 a1446e616d65456865616473\n\
               \t040000010001002200FF6869 040000030001023182014178\n";
    hgframe()
        .args(["decode", "--hex-input"])
        .write_stdin(hex)
        .assert()
        .code(0)
        .stdout(THREE_0006_BLOCKS)
        .stderr("");
    let f = tempfile_with(THREE_0006_HEX.as_bytes());
    hgframe()
        .args(["decode", "--hex-input", path_str(f.path())])
        .assert()
        .code(0)
        .stdout(THREE_0006_BLOCKS)
        .stderr("");
}

#[test]
fn decode_0001_blocks() {
    hgframe()
        .args(["--proto", "0001", "decode", "--hex-input"])
        .write_stdin("08000016636f6d6d616e6431 0200003200ff")
        .assert()
        .code(0)
        .stdout(
            "frame 0 @ offset 0 (header 4 + payload 8 bytes)\n\
             \x20 type command-name (1)  flags have-args|have-data (0x6)\n\
             \x20 payload command1\n\
             \n\
             frame 1 @ offset 12 (header 4 + payload 2 bytes)\n\
             \x20 type command-data (3)  flags eos (0x2)\n\
             \x20 payload \\x00\\xff\n",
        )
        .stderr("");
}

#[test]
fn decode_json_fields() {
    let f = tempfile_with(&three_0006_bin());
    let (code, stdout, stderr) = run(&["decode", "--json", path_str(f.path())], b"");
    assert_eq!((code, stderr.as_str()), (0, ""));
    let lines: Vec<J> = text(&stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert_eq!(lines.len(), 3);

    let f0 = &lines[0];
    assert_eq!(f0["offset"], 0);
    assert_eq!(f0["length"], 12);
    assert_eq!(f0["request_id"], 1);
    assert_eq!(f0["stream_id"], 1);
    assert_eq!(f0["stream_flags"], 1);
    assert_eq!(f0["stream_flag_names"], serde_json::json!(["stream-begin"]));
    assert_eq!(f0["type"], 1);
    assert_eq!(f0["type_name"], "command-request");
    assert_eq!(f0["flags"], 1);
    assert_eq!(f0["flag_names"], serde_json::json!(["new"]));
    assert_eq!(f0["payload_hex"], "a1446e616d65456865616473");
    assert_eq!(f0["payload"], r"\xa1DnameEheads");
    assert_eq!(f0["cbor"], serde_json::json!([{"name": "heads"}]));
    assert_eq!(f0["warnings"], serde_json::json!([]));

    let f1 = &lines[1];
    assert_eq!(f1["offset"], 20);
    assert_eq!(f1["length"], 4);
    assert_eq!(f1["stream_flags"], 0);
    assert_eq!(f1["stream_flag_names"], serde_json::json!([]));
    assert_eq!(f1["type"], 2);
    assert_eq!(f1["type_name"], "command-data");
    assert_eq!(f1["flags"], 2);
    assert_eq!(f1["flag_names"], serde_json::json!(["eos"]));
    assert_eq!(f1["payload_hex"], "00ff6869");
    assert_eq!(f1["payload"], r"\x00\xffhi");
    assert!(
        f1.get("cbor").is_none(),
        "command-data payloads are not CBOR: {f1}"
    );

    let f2 = &lines[2];
    assert_eq!(f2["offset"], 32);
    assert_eq!(f2["request_id"], 3);
    assert_eq!(f2["stream_flag_names"], serde_json::json!(["stream-end"]));
    assert_eq!(f2["type_name"], "command-response");
    assert_eq!(f2["flag_names"], serde_json::json!(["continuation"]));
    assert_eq!(f2["cbor"], serde_json::json!([[1, "x"]]));

    // An unknown type: null name, numeric flag names.
    let (code, stdout, _) = run(
        &["--proto", "0002", "decode", "--json", "--hex-input"],
        b"030000 0100 01 00 7f 756e6b",
    );
    assert_eq!(code, 0);
    let j: J = serde_json::from_slice(&stdout).unwrap();
    assert_eq!(j["type"], 7);
    assert_eq!(j["type_name"], J::Null);
    assert_eq!(
        j["flag_names"],
        serde_json::json!(["0x1", "0x2", "0x4", "0x8"])
    );
    assert_eq!(j["payload"], "unk");
}

#[test]
fn decode_json_conflicts_with_format() {
    hgframe()
        .args(["decode", "--json", "--format", "human"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains(
            "the argument '--json' cannot be used with '--format <FORMAT>'",
        ));
}

/// encode → decode --format human → encode gives the same bytes, all
/// through the CLI, for several frames of each revision.
fn human_round_trip(proto: &str, input: &str, expected_human: &str) {
    let (code, bin, stderr) = run(&["--proto", proto, "encode", "-f", "raw"], input.as_bytes());
    assert_eq!(code, 0, "{proto}: encode: {stderr}");
    assert!(!bin.is_empty());
    let f = tempfile_with(&bin);
    let (code, human, stderr) = run(
        &[
            "--proto",
            proto,
            "decode",
            "--format",
            "human",
            path_str(f.path()),
        ],
        b"",
    );
    assert_eq!(code, 0, "{proto}: decode: {stderr}");
    assert_eq!(text(&human), expected_human, "{proto}");
    let (code, again, stderr) = run(&["--proto", proto, "encode", "-f", "raw"], &human);
    assert_eq!(code, 0, "{proto}: re-encode: {stderr}");
    assert_eq!(
        again, bin,
        "{proto}: the human form does not encode back to the same bytes"
    );
}

#[test]
fn decode_human_round_trips_0001() {
    let input = "\
# 0001: <type> <flags> <payload>
command-name have-args|have-data command1
command-argument 0 \\x03\\x00\\x04\\x00foovalue
command-argument continuation|eoa \\x01\\x00\\x01\\x00ab
command-data 1 chunk\\n
command-data eos \\x00\\xff
bytes-response eos result with  spaces\\r
error-response 0 oops
11 0 x
";
    let human = "\
command-name have-args|have-data command1
command-argument 0 \\x03\\x00\\x04\\x00foovalue
command-argument continuation|eoa \\x01\\x00\\x01\\x00ab
command-data continuation chunk\\n
command-data eos \\x00\\xff
bytes-response eos result with  spaces\\r
error-response 0 oops
11 0 x
";
    human_round_trip("0001", input, human);
}

#[test]
fn decode_human_round_trips_0002() {
    let input = "\
1 1 stream-begin command-name have-args command1
1 1 0 command-argument eoa \\x03\\x00\\x04\\x00foovalue
3 1 0 command-name have-data x
3 1 encoded command-data continuation  lead and trail \\r
3 1 stream-end command-data eos 
2 2 stream-begin|stream-end bytes-response continuation|eos ok
2 2 0 error-response application bad
2 2 0 text-output 0 \\x00
65535 255 7 stream-settings 0 s
1 1 0 7 15 unk
";
    let human = "\
1 1 stream-begin command-name have-args command1
1 1 0 command-argument eoa \\x03\\x00\\x04\\x00foovalue
3 1 0 command-name have-data x
3 1 encoded command-data continuation  lead and trail \\r
3 1 stream-end command-data eos 
2 2 stream-begin|stream-end bytes-response continuation|eos ok
2 2 0 error-response application bad
2 2 0 text-output 0 \\x00
65535 255 stream-begin|stream-end|encoded stream-settings 0 s
1 1 0 7 15 unk
";
    human_round_trip("0002", input, human);
}

#[test]
fn decode_human_round_trips_0006() {
    let input = "\
1 1 stream-begin sender-protocol-settings eos cbor:{b'contentencodings': [b'identity']}
1 1 0 command-request new|have-data cbor:{b'name': b'x', b'args': {b'a': [1, -2, None, True]}}
1 1 0 command-data continuation \\x63bor:not cbor
1 1 0 command-data eos cbor:b''
1 2 stream-begin|encoded command-response continuation|eos cbor:{b'status': b'ok'}
1 2 0 error-response 0 cbor:{b'type': b'server'}
1 2 0 text-output 0 hello
1 2 0 progress 0 \\xa0
1 2 stream-end stream-settings eos cbor:b'identity'
0 0 0 4 0 \\xff\\x00
1 1 0 command-request more \\xa2Dargs
1 1 0 command-data eos \\x18\\x01
";
    // CBOR payloads come back as cbor: literals (keys sorted, as the
    // canonical encoding is); bytes that are not one canonical CBOR value
    // (or are not CBOR payloads at all) stay escaped.
    let human = "\
1 1 stream-begin sender-protocol-settings eos cbor:{b'contentencodings': [b'identity']}
1 1 0 command-request new|have-data cbor:{b'args': {b'a': [1, -2, None, True]}, b'name': b'x'}
1 1 0 command-data continuation \\x63bor:not cbor
1 1 0 command-data eos cbor:b''
1 2 stream-begin|encoded command-response continuation|eos cbor:{b'status': b'ok'}
1 2 0 error-response 0 cbor:{b'type': b'server'}
1 2 0 text-output 0 hello
1 2 0 progress 0 cbor:{}
1 2 stream-end stream-settings eos cbor:b'identity'
0 0 0 4 0 \\xff\\x00
1 1 0 command-request more \\xa2Dargs
1 1 0 command-data eos \\x18\\x01
";
    human_round_trip("0006", input, human);
}

#[test]
fn decode_truncated_payload_exits_5() {
    let mut bin = three_0006_bin();
    bin.truncate(30); // the second frame has 2 of its 4 payload bytes
    let f = tempfile_with(&bin);
    hgframe()
        .args(["decode", path_str(f.path())])
        .assert()
        .code(5)
        // The complete frame before the cut is still shown.
        .stdout(
            "frame 0 @ offset 0 (header 8 + payload 12 bytes)\n\
             \x20 request 1  stream 1  stream-flags stream-begin\n\
             \x20 type command-request (1)  flags new (0x1)\n\
             \x20 payload \\xa1DnameEheads\n\
             \x20 cbor {b'name': b'heads'}\n",
        )
        .stderr(
            "error: truncated payload of the frame at byte offset 20: header says 4 payload bytes, only 2 follow\n\
             \x20 = the input ends inside a frame; was it cut short, or is it another protocol revision (--proto)?\n",
        );
}

#[test]
fn decode_truncated_header_exits_5() {
    hgframe()
        .args(["decode", "--hex-input"])
        .write_stdin("0c00000100")
        .assert()
        .code(5)
        .stdout("")
        .stderr(
            "error: truncated frame header at byte offset 0: got 5 of 8 header bytes (0c00000100)\n\
             \x20 = the input ends inside a frame; was it cut short, or is it another protocol revision (--proto)?\n",
        );
}

#[test]
fn decode_bad_hex_exits_2() {
    hgframe()
        .args(["decode", "--hex-input"])
        .write_stdin("0c00 00zz")
        .assert()
        .code(2)
        .stdout("")
        .stderr("error: bad hex input: invalid hex digit 'z' at input byte 7: expected 0-9, a-f or A-F\n");
    hgframe()
        .args(["decode", "--hex-input"])
        .write_stdin("0c0\n")
        .assert()
        .code(2)
        .stdout("")
        .stderr(
            "error: bad hex input: odd number of hex digits: the last byte is missing a digit\n",
        );
}

#[test]
fn decode_missing_file_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.bin");
    hgframe()
        .args(["decode", path_str(&missing)])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains(format!(
            "cannot open {}: ",
            missing.display()
        )));
}

#[test]
fn missing_file_error_has_the_error_prefix() {
    hgframe()
        .args(["decode", "/nonexistent/hgframe-test.bin"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with(
            "error: cannot open /nonexistent/hgframe-test.bin: ",
        ));
}

#[test]
fn decode_warns_about_mercurials_length_misread() {
    let f = tempfile_with(&frame_65536());
    // Blocks: the warning under the frame.
    let (code, stdout, stderr) = run(&["decode", path_str(f.path())], b"");
    assert_eq!((code, stderr.as_str()), (0, ""));
    let out = text(&stdout);
    assert!(
        out.starts_with("frame 0 @ offset 0 (header 8 + payload 65536 bytes)\n"),
        "{out}"
    );
    assert!(
        out.ends_with(&format!("  warning: {MISREAD_WARNING}\n")),
        "{out}"
    );
    // JSON: in `warnings`.
    let (code, stdout, _) = run(&["decode", "--json", path_str(f.path())], b"");
    assert_eq!(code, 0);
    let j: J = serde_json::from_slice(&stdout).unwrap();
    assert_eq!(j["length"], 65536);
    assert_eq!(j["warnings"], serde_json::json!([MISREAD_WARNING]));
    // Human: the line on stdout, the warning on stderr.
    let (code, stdout, stderr) = run(&["decode", "--format", "human", path_str(f.path())], b"");
    assert_eq!(code, 0);
    assert_eq!(
        stdout,
        format!("1 1 0 command-data eos {}\n", "a".repeat(65536)).into_bytes()
    );
    assert_eq!(
        stderr,
        format!("hgframe: warning: frame at offset 0: {MISREAD_WARNING}\n")
    );
    // One byte less has no problem.
    let mut small = unhex("ffff00 0100 01 00 22");
    small.extend(std::iter::repeat_n(b'a', 65535));
    let (code, stdout, _) = run(&["decode", "--json"], &small);
    assert_eq!(code, 0);
    let j: J = serde_json::from_slice(&stdout).unwrap();
    assert_eq!(j["warnings"], serde_json::json!([]));
}

#[test]
fn mercurial_lengths_warning_names_the_encoded_length() {
    let f = tempfile_with(&frame_65536());
    let (_, stdout, _) = run(&["decode", "--mercurial-lengths", path_str(f.path())], b"");
    let out = text(&stdout);
    let warning = out
        .lines()
        .find(|l| l.trim_start().starts_with("warning:"))
        .expect("a misread warning");
    assert!(warning.contains("65536"), "{warning}");
    assert!(!warning.contains("payload is 16384 bytes"), "{warning}");
}

// ================================================================ reflect

#[test]
fn reflect_raw_reproduces_every_captured_debugreflect_body() {
    let mut n200 = 0;
    let mut n500 = 0;
    for case in vector_cases() {
        if !case.is_debugreflect() {
            continue;
        }
        let bin = path_str(&case.bin).to_string();
        let (code, stdout, stderr) = run(
            &["reflect", "--raw", "--bin", &bin, "--proto", case.proto],
            b"",
        );
        match case.status() {
            "200" => {
                let expected = fs::read(&case.out).unwrap();
                assert_eq!(
                    String::from_utf8_lossy(&stdout),
                    String::from_utf8_lossy(&expected),
                    "{}",
                    case.name
                );
                assert_eq!(stdout, expected, "{}", case.name);
                assert_eq!((code, stderr.as_str()), (0, ""), "{}", case.name);
                n200 += 1;
            }
            "500" => {
                let want = if case.name.contains("truncated") {
                    5
                } else {
                    4
                };
                assert_eq!(code, want, "{}: {stderr}", case.name);
                assert!(stdout.is_empty(), "{}: a 500 has no body", case.name);
                assert!(stderr.starts_with("error: "), "{}: {stderr}", case.name);
                assert!(stderr.contains("HTTP 500"), "{}: {stderr}", case.name);
                assert!(
                    stderr.contains("  = Mercurial's log would show: "),
                    "{}: {stderr}",
                    case.name
                );
                assert!(
                    stderr.ends_with(
                        "  = a real server returns no body, only `Internal Server Error`\n"
                    ),
                    "{}: {stderr}",
                    case.name
                );
                n500 += 1;
            }
            _ => {} // 404: debugreflect disabled, an HTTP-level matter
        }
    }
    assert!(n200 >= 25 && n500 >= 5, "{n200} bodies, {n500} 500s");
}

#[test]
fn reflect_raw_500_explanations() {
    let v = vectors_dir();
    let truncated = v.join("0001/truncated-payload.bin");
    hgframe()
        .args(["reflect", "--raw", "--proto", "0001", "--bin", path_str(&truncated)])
        .assert()
        .code(5)
        .stdout("")
        .stderr(
            "error: a Mercurial server answers HTTP 500 here: it cannot read the request body: \
             truncated payload of the frame at byte offset 0: header says 12 payload bytes, only 3 follow\n\
             \x20 = Mercurial's log would show: Abort: frame length error: expected 12; got 3\n\
             \x20 = a real server returns no body, only `Internal Server Error`\n",
        );
    let encoded = v.join("0002/encoded-stream-flag.bin");
    hgframe()
        .args(["reflect", "--raw", "--proto", "0002", "--bin", path_str(&encoded)])
        .assert()
        .code(4)
        .stdout("")
        .stderr(predicate::str::contains(
            "ProgrammingError: support for decoding stream payloads not yet implemented \
             (the frame has the `encoded` stream flag, which Mercurial's server reactor does not implement)\n",
        ))
        .stderr(predicate::str::ends_with(
            "  = Mercurial's log would show: ProgrammingError: support for decoding stream payloads not yet implemented\n\
             \x20 = a real server returns no body, only `Internal Server Error`\n",
        ));
}

#[test]
fn reflect_raw_crash_message_says_http_500_once() {
    let encoded = vectors_dir().join("0002/encoded-stream-flag.bin");
    let (code, _, stderr) = run(
        &[
            "reflect",
            "--raw",
            "--proto",
            "0002",
            "--bin",
            path_str(&encoded),
        ],
        b"",
    );
    assert_eq!(code, 4);
    assert_eq!(
        stderr.matches("answers HTTP 500 here").count(),
        1,
        "{stderr}"
    );
}

#[test]
fn reflect_human_strings_match_the_captured_bodies() {
    // The frame lines of each .txt, as arguments, from -f FILE and from
    // stdin, give the same body as the captured .bin.
    let mut checked = 0;
    for case in vector_cases() {
        if !case.is_debugreflect() {
            continue;
        }
        if !["200", "500"].contains(&case.status()) {
            continue; // 404: debugreflect disabled, an HTTP-level matter
        }
        let Some(lines) = case.human_lines() else {
            continue;
        };
        let status = case.status();
        let expected = fs::read(&case.out).unwrap();
        let file_text = format!("# {}\n\n{}\n", case.name, lines.join("\n"));
        let file = tempfile_with(file_text.as_bytes());

        let mut as_args = vec!["--proto", case.proto, "reflect", "--raw"];
        as_args.extend(lines.iter().map(String::as_str));
        let runs = [
            run(&as_args, b""),
            run(
                &[
                    "--proto",
                    case.proto,
                    "reflect",
                    "--raw",
                    "-f",
                    path_str(file.path()),
                ],
                b"",
            ),
            run(
                &["--proto", case.proto, "reflect", "--raw"],
                file_text.as_bytes(),
            ),
        ];
        for (how, (code, stdout, stderr)) in ["arguments", "-f FILE", "stdin"].iter().zip(runs) {
            match status {
                "200" => {
                    assert_eq!(
                        String::from_utf8_lossy(&stdout),
                        String::from_utf8_lossy(&expected),
                        "{} ({how})",
                        case.name
                    );
                    assert_eq!((code, stderr.as_str()), (0, ""), "{} ({how})", case.name);
                }
                "500" => {
                    assert_eq!(code, 4, "{} ({how}): {stderr}", case.name);
                    assert!(
                        stdout.is_empty() && stderr.contains("HTTP 500"),
                        "{} ({how}): {stderr}",
                        case.name
                    );
                }
                other => panic!("{}: unexpected status {other}", case.name),
            }
        }
        checked += 1;
    }
    eprintln!("{checked} cases reflected from human strings");
    assert!(checked >= 25, "{checked} cases");
}

#[test]
fn reflect_infers_the_revision_from_human_strings() {
    for (proto, line) in [
        ("0001", "command-name eos command1"),
        ("0002", "1 1 stream-begin command-name eos command1"),
        ("0006", CMD1_0006),
    ] {
        let expected = fs::read(vectors_dir().join(proto).join("cmd-simple.out")).unwrap();
        hgframe()
            .args(["-v", "reflect", "--raw", line])
            .assert()
            .code(0)
            .stdout(expected)
            .stderr(predicate::str::starts_with(format!(
                "hgframe: protocol {proto} (inferred: "
            )));
    }
}

#[test]
fn reflect_bin_from_stdin() {
    let v = vectors_dir();
    hgframe()
        .args(["reflect", "--raw", "--proto", "0002", "--bin", "-"])
        .write_stdin(fs::read(v.join("0002/cmd-args.bin")).unwrap())
        .assert()
        .code(0)
        .stdout(fs::read(v.join("0002/cmd-args.out")).unwrap())
        .stderr("");
}

#[test]
fn reflect_pretty_output() {
    hgframe()
        .args(["--color", "never", "reflect", CMD1_0006])
        .assert()
        .code(0)
        .stdout(
            "@0 req 1 stream 1 [stream-begin] command-request new  (15 bytes)  cbor {b'name': b'command1'}\n\
             \x20 → runcommand\n\
             \x20     {\n\
             \x20       \"args\": {},\n\
             \x20       \"command\": \"command1\",\n\
             \x20       \"data\": null,\n\
             \x20       \"redirect\": null,\n\
             \x20       \"requestid\": 1\n\
             \x20     }\n\
             end of input\n\
             \x20 → noop\n",
        )
        .stderr("");
}

#[test]
fn reflect_pretty_shows_the_action_names() {
    let v = vectors_dir();
    // wantframe, runcommand, noop (0001 command with arguments and data).
    let (code, stdout, stderr) = run(
        &[
            "--proto",
            "0001",
            "reflect",
            "--bin",
            path_str(&v.join("0001/cmd-args-and-data.bin")),
        ],
        b"",
    );
    assert_eq!((code, stderr.as_str()), (0, ""));
    let out = text(&stdout);
    for needle in [
        "@0 command-name have-args|have-data  (8 bytes)  command1\n  → wantframe (state command-receiving-args)\n",
        "@12 command-argument eoa  (10 bytes)  \\x03\\x00\\x03\\x00keyval\n  → wantframe (state command-receiving-data)\n",
        "@26 command-data eos  (7 bytes)  payload\n  → runcommand\n",
        "\"key\": \"val\"",
        "end of input\n  → noop\n",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in:\n{out}");
    }
    // error (0002, even stream id).
    let (code, stdout, _) = run(
        &[
            "--proto",
            "0002",
            "reflect",
            "--bin",
            path_str(&v.join("0002/even-stream-id.bin")),
        ],
        b"",
    );
    assert_eq!(code, 0);
    assert!(
        text(&stdout).contains("  → error: received frame with even numbered stream ID: 2\n"),
        "{}",
        text(&stdout)
    );
}

#[test]
fn reflect_pretty_crash_exits_4() {
    hgframe()
        .args(["--color", "never", "--proto", "0002", "reflect", "1 1 stream-begin|encoded command-name eos command1"])
        .assert()
        .code(4)
        .stdout(predicate::str::starts_with(
            "@0 req 1 stream 1 [stream-begin|encoded] command-name eos  (8 bytes)  command1\n\
             \x20 ✗ a Mercurial server answers HTTP 500 here: ProgrammingError: support for decoding stream payloads not yet implemented\n\
             \x20   why: the frame has the `encoded` stream flag, which Mercurial's server reactor does not implement\n",
        ))
        .stderr(
            "error: a Mercurial server answers HTTP 500 here: \
             ProgrammingError: support for decoding stream payloads not yet implemented\n",
        );
}

#[test]
fn reflect_pretty_undecodable_exits_5() {
    hgframe()
        .args(["--color", "never", "reflect", "--bin", "-"])
        .write_stdin(unhex("0c00000100"))
        .assert()
        .code(5)
        .stdout(
            "✗ truncated frame header at byte offset 0: got 5 of 8 header bytes (0c00000100)\n\
             \x20   why: a Mercurial server raises while reading the body and answers HTTP 500\n",
        )
        .stderr(
            "error: truncated frame header at byte offset 0: got 5 of 8 header bytes (0c00000100)\n\
             \x20 = a Mercurial server answers HTTP 500 for this body\n",
        );
}

fn json_lines(stdout: &[u8]) -> Vec<J> {
    text(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[test]
fn reflect_json_events() {
    let (code, stdout, stderr) = run(
        &["reflect", "--json", CMD1_0006, "3 1 0 command-data eos x"],
        b"",
    );
    assert_eq!((code, stderr.as_str()), (0, ""));
    let ev = json_lines(&stdout);
    let events: Vec<&str> = ev.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["frame", "frame", "eof"]);
    assert_eq!(ev[0]["offset"], 0);
    assert_eq!(ev[0]["frame"]["type_name"], "command-request");
    assert_eq!(
        ev[0]["frame"]["cbor"],
        serde_json::json!([{"name": "command1"}])
    );
    assert_eq!(ev[0]["action"]["action"], "runcommand");
    assert_eq!(ev[0]["action"]["meta"]["command"], "command1");
    assert_eq!(ev[0]["action"]["meta"]["requestid"], 1);
    assert_eq!(ev[0]["crash"], J::Null);
    assert_eq!(ev[1]["offset"], 23);
    assert_eq!(ev[1]["frame"]["request_id"], 3);
    assert_eq!(ev[1]["action"]["action"], "error");
    assert_eq!(
        ev[2]["action"],
        serde_json::json!({"action": "noop", "meta": {}})
    );

    // A crash is reported in the event and by the exit code.
    let (code, stdout, _) = run(
        &[
            "--proto",
            "0002",
            "reflect",
            "--json",
            "1 1 stream-begin|encoded command-name eos command1",
        ],
        b"",
    );
    assert_eq!(code, 4);
    let ev = json_lines(&stdout);
    assert_eq!(ev[0]["event"], "frame");
    assert_eq!(ev[0]["action"], J::Null);
    assert_eq!(
        ev[0]["crash"]["exception"],
        "ProgrammingError: support for decoding stream payloads not yet implemented"
    );
    // Undecodable input.
    let (code, stdout, _) = run(&["reflect", "--json", "--bin", "-"], &unhex("0c00000100"));
    assert_eq!(code, 5);
    assert_eq!(
        json_lines(&stdout),
        [serde_json::json!({
            "event": "undecodable",
            "error": "truncated frame header at byte offset 0: got 5 of 8 header bytes (0c00000100)"
        })]
    );
}

#[test]
fn reflect_respond_sends_command_response_frames() {
    let cmd3 = "3 1 0 command-request new cbor:{b'name': b'c3'}";
    let (code, stdout, stderr) = run(
        &[
            "--color",
            "never",
            "reflect",
            "--respond",
            "1=hello",
            CMD1_0006,
            cmd3,
        ],
        b"",
    );
    assert_eq!((code, stderr.as_str()), (0, ""));
    let out = text(&stdout);
    let sendframes = "⇢ canned response for request 1\n\
                      \x20 → sendframes\n\
                      \x20     ⇠ req 1 stream 2 [stream-begin] stream-settings eos  (9 bytes)  cbor b'identity'\n\
                      \x20     ⇠ req 1 stream 2 [encoded] command-response continuation  (11 bytes)  cbor {b'status': b'ok'}\n\
                      \x20     ⇠ req 1 stream 2 [encoded] command-response continuation  (6 bytes)  cbor b'hello'\n\
                      \x20     ⇠ req 1 stream 2 command-response eos  (0 bytes)\n";
    let at = out
        .find(sendframes)
        .unwrap_or_else(|| panic!("no sendframes in:\n{out}"));
    // Sent right after the command, before the next frame is read.
    assert!(at < out.find("@23 req 3").unwrap(), "{out}");
    assert!(at < out.find("end of input").unwrap(), "{out}");

    // --defer-output: buffered until the end of input.
    let (code, stdout, _) = run(
        &[
            "--color",
            "never",
            "reflect",
            "--defer-output",
            "--respond",
            "1=hello",
            CMD1_0006,
            cmd3,
        ],
        b"",
    );
    assert_eq!(code, 0);
    let out = text(&stdout);
    assert!(
        out.contains("⇢ canned response for request 1\n  → noop\n@23 req 3"),
        "{out}"
    );
    let deferred = sendframes.replace("⇢ canned response for request 1\n", "end of input\n");
    assert!(out.ends_with(&deferred), "{out}");

    // The same in JSON: a response event carrying the frames.
    let (code, stdout, _) = run(
        &["reflect", "--json", "--respond", "1=hello", CMD1_0006],
        b"",
    );
    assert_eq!(code, 0);
    let ev = json_lines(&stdout);
    let events: Vec<&str> = ev.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["frame", "response", "eof"]);
    assert_eq!(ev[1]["request_id"], 1);
    assert_eq!(ev[1]["action"]["action"], "sendframes");
    let types: Vec<&str> = ev[1]["sent"]["frames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["type_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "stream-settings",
            "command-response",
            "command-response",
            "command-response"
        ]
    );
    assert_eq!(
        ev[1]["sent"]["frames"][2]["cbor"],
        serde_json::json!(["hello"])
    );
}

#[test]
fn reflect_respond_0001_bytes_response() {
    hgframe()
        .args([
            "--color",
            "never",
            "reflect",
            "--respond",
            "command1=payload",
            "command-name eos command1",
        ])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "⇢ canned response\n  → sendframes\n      ⇠ bytes-response eos  (7 bytes)  payload\n",
        ))
        .stderr("");
    hgframe()
        .args([
            "reflect",
            "--raw",
            "--respond",
            "command1=payload",
            "command-name eos command1",
        ])
        .assert()
        .code(0)
        .stdout(
            "received: 1 1 command1\n\
             [\"runcommand\", {\"args\": {}, \"command\": \"command1\", \"data\": null}]\n\
             [\"sendframes\", {\"framegen\": \"<generator object>\"}]\n\
             sent: bytes-response eos payload\n\
             received: <no frame>\n\
             {\"action\": \"noop\"}",
        )
        .stderr("");
}

#[test]
fn reflect_bad_respond_specs_exit_2() {
    for (args, err) in [
        (
            vec!["reflect", "--respond", "bad", "command-name eos x"],
            "error: --respond 'bad': expected KEY=RESPONSE (KEY a request id or a command name)\n",
        ),
        (
            vec!["reflect", "--respond", "x=cbor:{}", "command-name eos x"],
            "error: --respond 'x=cbor:{}': protocol 0001 responses are raw bytes; cbor: needs 0006\n",
        ),
        (
            vec!["reflect", "--respond", "=x", CMD1_0006],
            "error: --respond '=x': empty KEY (expected a request id or a command name)\n",
        ),
    ] {
        hgframe().args(&args).assert().code(2).stdout("").stderr(err);
    }
}

#[test]
fn reflect_conflicting_sources_are_usage_errors() {
    hgframe()
        .args(["reflect", "--raw", "--json", CMD1_0006])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains(
            "the argument '--raw' cannot be used with '--json'",
        ));
    hgframe()
        .args(["reflect", "--bin", "x.bin", CMD1_0006])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("cannot be used with"));
}

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

/// Run the binary on a pseudo-terminal (util-linux `script`); returns the
/// exit code and everything the terminal showed.
fn on_a_tty(args: &[&str], no_color: bool) -> (i32, Vec<u8>) {
    fn quote(s: &str) -> String {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
    let bin = assert_cmd::cargo::cargo_bin("hgframe");
    let mut cmdline = quote(path_str(&bin));
    for a in args {
        cmdline.push(' ');
        cmdline.push_str(&quote(a));
    }
    let mut c = std::process::Command::new("script");
    c.args(["-qec", &cmdline, "/dev/null"])
        .env_remove("NO_COLOR")
        .stdin(std::process::Stdio::null());
    if no_color {
        c.env("NO_COLOR", "1");
    }
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
    hgframe()
        .arg("--version")
        .assert()
        .code(0)
        .stdout(format!("hgframe {}\n", env!("CARGO_PKG_VERSION")))
        .stderr("");
}
