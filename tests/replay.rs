//! `hgframe replay`: the example scripts pass on the local reactor and
//! (0006) on a real Mercurial 6.0; a wrong expectation fails with a diff
//! naming the line; `--update` repairs exactly that line; a malformed
//! script is a caret error (exit 2); JUnit output is valid XML.

mod common;

use std::path::Path;
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;
use common::{HgServer, APICONFIG};

fn hgframe() -> Command {
    let mut c = Command::cargo_bin("hgframe").unwrap();
    c.env("NO_COLOR", "1");
    c
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = hgframe().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn examples() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .display()
        .to_string()
}

fn summary(out: &str) -> &str {
    out.lines().last().unwrap_or("")
}

#[test]
fn examples_pass_on_the_local_reactor() {
    let (code, out, err) = run(&["replay", "--jobs", "2", &examples()]);
    assert_eq!(code, 0, "{out}{err}");
    let n = out.lines().filter(|l| l.starts_with("PASS ")).count();
    assert!(n >= 30, "{n} scripts");
    assert_eq!(summary(&out), format!("{n} passed, 0 failed"));
}

#[test]
fn examples_pass_on_real_mercurial_6_0() {
    let server = HgServer::start(APICONFIG);
    let ex = examples();
    let (code, out, err) = run(&[
        "replay",
        "--url",
        &server.url(),
        &format!("{ex}/0006"),
        &format!("{ex}/local"),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let passed = out
        .lines()
        .filter(|l| l.starts_with("PASS examples") || l.starts_with("PASS /"))
        .count();
    assert!(passed >= 20, "{out}");
    // local-only scripts are skipped with a reason, never counted as passed
    assert!(
        out.contains("SKIP") && out.contains("local reactor only"),
        "{out}"
    );
    assert!(summary(&out).ends_with(" skipped"), "{out}");
    // and the differential mode agrees on every 0006 script
    let (code, out, err) = run(&[
        "replay",
        "--against",
        &format!("local,{}", server.url()),
        &format!("{ex}/0006"),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        summary(&out).starts_with(&format!("{passed} passed, 0 failed")),
        "{out}"
    );
}

#[test]
fn wrong_line_fails_then_update_repairs_only_it() {
    let dir = tempfile::tempdir().unwrap();
    let src =
        std::fs::read_to_string(Path::new(&examples()).join("0006/cmd-args.hgframe")).unwrap();
    let path = dir.path().join("t.hgframe");
    let broken = src.replace("\"foo\": \"val1\"", "\"foo\": \"WRONG\"");
    assert_ne!(broken, src);
    std::fs::write(&path, &broken).unwrap();
    let p = path.to_str().unwrap();
    let (code, out, _) = run(&["replay", p]);
    assert_eq!(code, 1, "{out}");
    let bad_line = broken.lines().position(|l| l.contains("WRONG")).unwrap(); // index of the `<` line
                                                                              // the failure names the step line (the `>` line above the `<` line)
    assert!(
        out.contains(&format!("{p}:{bad_line}: output differs")),
        "{out}"
    );
    assert!(
        out.contains("-< [\"runcommand\", {\"args\": {\"bar1\": \"val\", \"foo\": \"WRONG\"}"),
        "{out}"
    );
    assert!(
        out.contains("+< [\"runcommand\", {\"args\": {\"bar1\": \"val\", \"foo\": \"val1\"}"),
        "{out}"
    );
    assert_eq!(summary(&out), "0 passed, 1 failed");
    let (code, out, _) = run(&["replay", "--update", p]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        src,
        "--update restores the file exactly"
    );
    let (code, out, _) = run(&["replay", p]);
    assert_eq!((code, summary(&out)), (0, "1 passed, 0 failed"));
}

#[test]
fn update_keeps_comments_layout_and_globs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.hgframe");
    let text = "# leading comment\nproto 0006\n\n> cmd heads\n# a comment between steps\n< [\"runcommand\", * (glob)\neof\n< stale\nexpect status 200\n# trailing comment\n";
    std::fs::write(&path, text).unwrap();
    let (code, out, _) = run(&["replay", "--update", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    let after = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        after,
        "# leading comment\nproto 0006\n\n> cmd heads\n< [\"runcommand\", * (glob)\n# a comment between steps\neof\n< {\"action\": \"noop\"}\nexpect status 200\n# trailing comment\n"
    );
}

#[test]
fn malformed_script_is_a_caret_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.hgframe");
    std::fs::write(
        &path,
        "proto 0006\n> 1 1 stream-begin command-request nwe x\neof\n",
    )
    .unwrap();
    let p = path.to_str().unwrap();
    let (code, out, _) = run(&["replay", p]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains(&format!("{p}:2: unknown flag `nwe` for command-request")),
        "{out}"
    );
    assert!(out.contains("did you mean `new`?"), "{out}");
    assert!(out.contains("^^^"), "{out}");
    std::fs::write(&path, "proto 0006\n1 1 0 command-request new x\n").unwrap();
    let (code, out, _) = run(&["replay", p]);
    assert_eq!(code, 2);
    assert!(
        out.contains(":2: unknown script line `1`") && out.contains("start with `> `"),
        "{out}"
    );
    std::fs::write(&path, "> cmd heads\n").unwrap();
    let (code, out, _) = run(&["replay", p]);
    assert_eq!(code, 2);
    assert!(out.contains("ends in the middle of a request"), "{out}");
}

#[test]
fn junit_is_valid_xml_and_counts() {
    let dir = tempfile::tempdir().unwrap();
    let ok = dir.path().join("ok.hgframe");
    std::fs::write(
        &ok,
        "> cmd heads\n< [\"runcommand\", * (glob)\neof\n< {\"action\": \"noop\"}\n",
    )
    .unwrap();
    let bad = dir.path().join("bad.hgframe");
    std::fs::write(
        &bad,
        "> cmd heads\n< [\"runcommand\", * (glob)\neof\n< {\"action\": \"other\"} <&>\n",
    )
    .unwrap();
    let xml = dir.path().join("r.xml");
    let (code, out, _) = run(&[
        "replay",
        "--junit",
        xml.to_str().unwrap(),
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert_eq!(summary(&out), "1 passed, 1 failed");
    let text = std::fs::read_to_string(&xml).unwrap();
    let doc = roxmltree::Document::parse(&text).expect("JUnit XML parses");
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .unwrap();
    assert_eq!(suite.attribute("tests"), Some("2"));
    assert_eq!(suite.attribute("failures"), Some("1"));
    let failures: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("failure"))
        .collect();
    assert_eq!(failures.len(), 1);
    assert!(failures[0].text().unwrap_or("").contains("<&>"));
    // --json: one object per script, then the summary line
    let (_, out, _) = run(&["replay", "--json", dir.path().to_str().unwrap()]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3);
    for l in &lines[..2] {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        assert!(v["result"] == "passed" || v["result"] == "failed");
    }
}

#[test]
fn examples_pass_on_hgframe_serve() {
    use hgframe::server::{start, LogTarget, ServeOptions};
    use hgframe::wire::proto::release;
    let ex = examples();
    let mut total = 0;
    // Each revision's scripts on `hgframe serve` in each flavour a release
    // speaks it in: a script may only be skipped for naming other releases
    // (`hg ...`), and must pass on at least one of them.
    for (dir, protos) in [
        (
            "0006",
            vec![
                hgframe::Proto::P0006,
                release("4.8").unwrap().proto,
                release("5.0-py2").unwrap().proto,
            ],
        ),
        ("0005", vec![hgframe::Proto::P0005]),
        ("0002", vec![hgframe::Proto::P0002]),
        ("0001", vec![hgframe::Proto::P0001]),
    ] {
        let mut passed_somewhere = std::collections::BTreeSet::new();
        let mut scripts = std::collections::BTreeSet::new();
        for proto in protos {
            let mut opts = ServeOptions::new(proto);
            opts.log = LogTarget::Silent;
            let server = start(opts).expect("hgframe serve starts");
            let (code, out, err) = run(&["replay", "--url", &server.url(), &format!("{ex}/{dir}")]);
            assert_eq!(code, 0, "{dir} as {proto:?}: {out}{err}");
            for l in out.lines() {
                if let Some(rest) = l.strip_prefix("PASS ") {
                    let f = rest.split(' ').next().unwrap_or("").to_string();
                    scripts.insert(f.clone());
                    passed_somewhere.insert(f);
                } else if let Some(rest) = l.strip_prefix("SKIP ") {
                    let (f, why) = rest.split_once(": ").unwrap_or((rest, ""));
                    assert!(
                        why.starts_with("the script's expectations are"),
                        "{dir} as {proto:?}: {l}"
                    );
                    scripts.insert(f.to_string());
                }
            }
            let passed = out.lines().filter(|l| l.starts_with("PASS ")).count();
            let skipped = out.lines().filter(|l| l.starts_with("SKIP ")).count();
            let want = if skipped > 0 {
                format!("{passed} passed, 0 failed, {skipped} skipped")
            } else {
                format!("{passed} passed, 0 failed")
            };
            assert_eq!(summary(&out), want);
            assert!(passed >= 8, "{dir}: {out}");
            server.shutdown();
        }
        let never: Vec<_> = scripts.difference(&passed_somewhere).collect();
        assert!(never.is_empty(), "{dir}: never run: {never:?}");
        total += passed_somewhere.len();
    }
    assert!(total >= 50, "{total}");
}

#[test]
fn hg_directive_names_releases_or_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    for (body, want) in [
        (
            "hg 4.5\n> 1 1 stream-begin command-request new cbor:{b'name': b'x'}\neof\n",
            "has no frame protocol",
        ),
        ("hg 6.1\neof\n", "6.1 removed"),
        (
            "hg 4.7 6.0\neof\n",
            "speaks another revision than the first release named",
        ),
        ("hg\neof\n", "hg needs a release"),
    ] {
        let p = dir.path().join("bad.hgframe");
        std::fs::write(&p, body).unwrap();
        let (code, out, err) = run(&["replay", "--color", "never", p.to_str().unwrap()]);
        assert_eq!(code, 2, "{body}: {out}{err}");
        assert!(
            out.contains(want) || err.contains(want),
            "{body}: {out}{err}"
        );
    }
    // the first release decides the local run: Python 2 literals for 4.7
    let p = dir.path().join("ok.hgframe");
    std::fs::write(
        &p,
        "hg 4.7\n> 1 1 stream-begin command-request new cbor:{'name': 'x'}\n< [\"runcommand\", {\"args\": {}, \"command\": \"x\", \"data\": null, \"requestid\": 1}]\neof\n< {\"action\": \"noop\"}\n",
    )
    .unwrap();
    let (code, out, err) = run(&["replay", "--color", "never", p.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
}
