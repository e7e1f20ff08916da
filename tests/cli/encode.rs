//! `hgframe encode`: human frame strings to bytes, revision inference, and
//! the error messages for bad lines.

use predicates::prelude::*;

use crate::support::{hgframe, three_0006_bin, THREE_0006};

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
        .stderr("hgframe: protocol 0006 (inferred: `command-request` is a frame type of 0005 and 0006; 0006, the newest, assumed; --proto 0005 or --hg 4.7 for Mercurial 4.6/4.7)\n");
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
            "invalid value '0003' for '--proto <P>': unknown protocol revision \"0003\": expected one of 0001, 0002, 0005, 0006",
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
