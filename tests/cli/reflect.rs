//! `hgframe reflect --local`: the debugreflect body (`--raw`) against the
//! captured vectors, the pretty and JSON traces, and canned responses.

use std::fs;

use predicates::prelude::*;
use serde_json::Value as J;

use crate::support::{
    hgframe, json_lines, path_str, run, tempfile_with, text, unhex, vector_cases, vectors_dir,
    CMD1_0006,
};

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
                    "--file",
                    path_str(file.path()),
                ],
                b"",
            ),
            run(
                &["--proto", case.proto, "reflect", "--raw"],
                file_text.as_bytes(),
            ),
        ];
        for (how, (code, stdout, stderr)) in ["arguments", "--file FILE", "stdin"].iter().zip(runs)
        {
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
            "error: --respond 'x=cbor:{}': protocol 0001 responses are raw bytes; cbor: needs 0005 or 0006\n",
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
