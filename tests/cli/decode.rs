//! `hgframe decode`: bytes to blocks, JSON and human strings, and the exit
//! codes for undecodable or missing input.

use predicates::prelude::*;
use serde_json::Value as J;

use crate::support::{
    frame_65536, hgframe, path_str, run, tempfile_with, text, three_0006_bin, unhex,
    MISREAD_WARNING, THREE_0006_BLOCKS, THREE_0006_HEX,
};

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
        .stderr("hgframe: decoding as protocol 0006 (the default; use --proto for 0001, 0002 or 0005, or --hg VERSION)\n");
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

/// Output without colour keeps every byte the renderers write: the styles
/// are removed, nothing else. (anstream's stripper, used before, also
/// dropped DEL, so `decode --json` lost a 0x7f from a decoded string.)
#[test]
fn output_without_colour_keeps_control_bytes_that_are_data() {
    // cbor {b'name': b'a\x7fb\xc2\x85c'}: UTF-8 text with DEL and U+0085.
    let frame = unhex("0d0000 0100 01 01 11 a1 44 6e616d65 46 617f62c28563");
    let f = tempfile_with(&frame);
    for color in ["never", "auto"] {
        let out = hgframe()
            .args(["--color", color, "decode", "--json", path_str(f.path())])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        let line: J = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            line["cbor"][0]["name"], "a\u{7f}b\u{85}c",
            "--color {color}"
        );
    }
    // With colour, the same text inside the styles.
    let out = hgframe()
        .args(["--color", "always", "decode", path_str(f.path())])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("\x1b["), "{text:?}");
    assert!(text.contains(r"b'a\x7fb\xc2\x85c'"), "{text:?}");
}
