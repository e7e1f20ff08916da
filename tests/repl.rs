//! The REPL driven through a real pseudo-terminal (rexpect), and as a
//! script against a real Mercurial 6.0 server.

mod common;

use std::process::Command;

use assert_cmd::cargo::cargo_bin;
use rexpect::session::{spawn_command, PtySession};

fn repl(history: &std::path::Path) -> PtySession {
    let mut c = Command::new(cargo_bin("hgframe"));
    c.arg("repl")
        .env("NO_COLOR", "1")
        .env("HGFRAME_HISTORY", history)
        .env("TERM", "xterm");
    let mut p = spawn_command(c, Some(10_000)).expect("spawn hgframe repl in a pty");
    p.exp_string("Ctrl-D quits").expect("banner");
    p.exp_string("hgframe 0006 local [initial]> ")
        .expect("prompt with revision, target, state");
    p
}

#[test]
fn completes_type_and_flag_names() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = repl(&dir.path().join("h"));
    // a type name: `sender-p` + Tab → the full name
    p.send("1 1 stream-begin sender-p").unwrap();
    p.flush().unwrap();
    p.send("\t").unwrap();
    p.flush().unwrap();
    p.exp_string("sender-protocol-settings")
        .expect("type name completed");
    // a flag valid for that type: `eo` + Tab → eos (a unique completion
    // brings its space: the next field is typed right after it)
    p.send("eo").unwrap();
    p.flush().unwrap();
    p.send("\t").unwrap();
    p.flush().unwrap();
    p.exp_string("eos")
        .expect("flag completed for the typed type");
    p.send_line("cbor:{b'contentencodings': [b'identity']}")
        .unwrap();
    p.exp_string("wantframe (state idle)").expect("live action");
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
}

#[test]
fn live_action_error_caret_then_working_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = repl(&dir.path().join("h"));
    p.send_line("1 1 stream-begin command-request nwe cbor:{b'name': b'heads'}")
        .unwrap();
    p.exp_string("unknown flag `nwe` for command-request")
        .unwrap();
    p.exp_string("^^^").expect("caret under the bad field");
    p.exp_string("did you mean `new`?").unwrap();
    p.exp_string("[initial]> ").expect("the session goes on");
    p.send_line("1 1 stream-begin command-request new cbor:{b'name': b'heads'}")
        .unwrap();
    p.exp_string("runcommand").unwrap();
    p.exp_string("\"command\": \"heads\"").unwrap();
    p.exp_string("[idle]> ")
        .expect("prompt shows the new state");
    // multi-line input while the literal's brackets are open
    p.send_line("cmd known").unwrap();
    p.exp_string("\"requestid\": 3").unwrap();
    p.exp_string("]> ").unwrap();
    p.send_line("5 1 0 command-request new cbor:{b'name':")
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    p.send_line("  b'lookup'}").unwrap();
    p.exp_string("\"command\": \"lookup\"").unwrap();
    p.exp_string("]> ").unwrap();
    // Ctrl-C cancels the line, the session goes on
    p.send("1 1 garbage").unwrap();
    p.flush().unwrap();
    p.send_control('c').unwrap();
    // the line editor drops input typed while it resets the terminal
    std::thread::sleep(std::time::Duration::from_millis(500));
    p.send_line(":quit").unwrap();
    p.exp_eof().unwrap();
}

#[test]
fn history_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let h = dir.path().join("history");
    let mut p = repl(&h);
    p.send_line("cmd branchmap").unwrap();
    p.exp_string("\"command\": \"branchmap\"").unwrap();
    p.exp_string("]> ").unwrap();
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
    assert!(std::fs::read_to_string(&h)
        .unwrap()
        .contains("cmd branchmap"));
    let mut p = repl(&h);
    p.send("\x1b[A").unwrap();
    p.flush().unwrap(); // Up arrow
    p.exp_string("cmd branchmap")
        .expect("history recalled after restart");
    p.send("\r").unwrap();
    p.flush().unwrap();
    p.exp_string("\"command\": \"branchmap\"").unwrap();
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
}

#[test]
fn save_writes_a_script_that_replay_passes() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("session.hgframe");
    let mut p = repl(&dir.path().join("h"));
    p.send_line("cmd heads").unwrap();
    p.exp_string("runcommand").unwrap();
    p.exp_string("]> ").unwrap();
    p.send_line(":respond 3 cbor:[b'hello']").unwrap();
    p.exp_string("takes effect with the next request").unwrap();
    p.exp_string("]> ").unwrap();
    p.send_line(":eof").unwrap();
    p.exp_string("noop").unwrap();
    p.exp_string("]> ").unwrap();
    p.send_line("cmd heads").unwrap();
    p.exp_string("\"requestid\": 1").unwrap();
    p.exp_string("]> ").unwrap();
    p.send_line("cmd known").unwrap();
    p.exp_string("command-response eos")
        .expect("the canned response's frames");
    p.exp_string("]> ").unwrap();
    p.send_line(&format!(":save {}", script.display())).unwrap();
    p.exp_string("saved 2 request(s), 3 frame(s)").unwrap();
    p.send_line(":quit").unwrap();
    p.exp_eof().unwrap();
    let out = Command::new(cargo_bin("hgframe"))
        .args(["replay", script.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.ends_with("1 passed, 0 failed\n"), "{text}");
    let saved = std::fs::read_to_string(&script).unwrap();
    assert!(
        saved.contains("respond 3 cbor:[b'hello']") && saved.contains("< sent: 3 2"),
        "{saved}"
    );
}

#[test]
fn script_session_against_real_mercurial() {
    let server = common::HgServer::start(common::APICONFIG);
    let input = format!(
        ":target {url}/\ncmd heads\n1 1 0 command-request new cbor:{{b'name': b'x'}}\n:show\n:send\n:run heads\n:run capabilities\n",
        url = server.url()
    );
    let out = assert_cmd::Command::cargo_bin("hgframe")
        .unwrap()
        .arg("repl")
        .env("NO_COLOR", "1")
        .write_stdin(input)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("protocol 0006: the server lists API exp-http-v2-0003"),
        "{text}"
    );
    assert!(text.contains("server commands: "), "{text}");
    assert!(
        text.contains("queued req 1 stream 1 [stream-begin] command-request new"),
        "{text}"
    );
    // :send shows the server's reflection, parsed back into actions
    assert!(
        text.contains("runcommand")
            && text.contains("→ error: request with ID 1 is already active"),
        "{text}"
    );
    // :run heads: a real command, decoded (null node on an empty repo)
    assert!(text.contains("request 1: ok"), "{text}");
    assert!(
        text.contains("[0000000000000000000000000000000000000000]"),
        "{text}"
    );
    // no prompt in script mode, inputs echoed
    assert!(!text.contains("hgframe 0006"), "{text}");
    assert!(text.contains("> :run heads"), "{text}");
}
