//! The committed shell completion scripts under `completions/` must be
//! exactly what the current binary prints for `hgframe completions <shell>`.
//! When the CLI changes, regenerate them with `scripts/gen-completions.sh`.

use std::path::Path;

use assert_cmd::Command;
use clap::ValueEnum;
use clap_complete::Shell;

/// Shell name on the command line, and the committed file (the names
/// scripts/gen-completions.sh writes).
const FILES: &[(&str, &str)] = &[
    ("bash", "hgframe.bash"),
    ("zsh", "_hgframe"),
    ("fish", "hgframe.fish"),
    ("elvish", "hgframe.elv"),
    ("powershell", "_hgframe.ps1"),
];

fn generate(shell: &str) -> Vec<u8> {
    let out = Command::cargo_bin("hgframe")
        .unwrap()
        .args(["completions", shell])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "hgframe completions {shell} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "hgframe completions {shell} wrote to stderr"
    );
    out.stdout
}

#[test]
fn committed_completions_match_the_binary() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    let mut stale = Vec::new();
    for (shell, file) in FILES {
        let generated = generate(shell);
        match std::fs::read(dir.join(file)) {
            Ok(committed) if committed == generated => {}
            Ok(_) => stale.push(format!(
                "completions/{file} differs from `hgframe completions {shell}`"
            )),
            Err(e) => stale.push(format!("completions/{file} cannot be read ({e})")),
        }
    }
    assert!(
        stale.is_empty(),
        "{}\nthe shell completions are out of date: run scripts/gen-completions.sh and commit completions/",
        stale.join("\n")
    );
}

#[test]
fn every_supported_shell_has_a_committed_file() {
    let shells: Vec<String> = Shell::value_variants()
        .iter()
        .map(|s| s.to_possible_value().unwrap().get_name().to_string())
        .collect();
    let mut listed: Vec<String> = FILES.iter().map(|(s, _)| s.to_string()).collect();
    let mut sorted = shells.clone();
    sorted.sort();
    listed.sort();
    assert_eq!(
        sorted, listed,
        "`hgframe completions` supports {shells:?}: add the new shell to scripts/gen-completions.sh and tests/completions.rs, then run scripts/gen-completions.sh"
    );
}

#[test]
fn completion_scripts_know_the_subcommands_and_options() {
    for (shell, _) in FILES {
        let text = String::from_utf8(generate(shell)).unwrap();
        // Option names without dashes: fish writes `-l proto`.
        for word in [
            "encode",
            "decode",
            "reflect",
            "completions",
            "proto",
            "color",
            "hex-input",
            "respond",
        ] {
            assert!(
                text.contains(word),
                "the {shell} completions do not mention {word}"
            );
        }
    }
}

#[test]
fn unknown_shell_is_a_usage_error() {
    Command::cargo_bin("hgframe")
        .unwrap()
        .args(["completions", "tcsh"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicates::str::contains("invalid value 'tcsh'"))
        .stderr(predicates::str::contains(
            "[possible values: bash, elvish, fish, powershell, zsh]",
        ));
}

/// The subcommands `hgframe --help` lists (besides `help`).
fn subcommands() -> Vec<String> {
    let out = Command::cargo_bin("hgframe")
        .unwrap()
        .env("COLUMNS", "1000")
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|s| *s != "help")
        .map(str::to_string)
        .collect()
}

fn man_page(sub: Option<&str>) -> Vec<u8> {
    let mut c = Command::cargo_bin("hgframe").unwrap();
    c.arg("man");
    if let Some(s) = sub {
        c.arg(s);
    }
    let out = c.output().unwrap();
    assert!(out.status.success(), "hgframe man {sub:?} failed");
    out.stdout
}

#[test]
fn committed_man_pages_match_the_binary() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    let mut pages = vec![("hgframe.1".to_string(), None)];
    for s in subcommands() {
        pages.push((format!("hgframe-{s}.1"), Some(s)));
    }
    assert!(pages.len() >= 10, "{pages:?}");
    let mut stale = Vec::new();
    for (file, sub) in &pages {
        let generated = man_page(sub.as_deref());
        match std::fs::read(dir.join(file)) {
            Ok(committed) if committed == generated => {}
            Ok(_) => stale.push(format!("man/{file} differs from the binary")),
            Err(e) => stale.push(format!("man/{file} cannot be read ({e})")),
        }
    }
    let committed = std::fs::read_dir(&dir).unwrap().count();
    assert_eq!(
        committed,
        pages.len(),
        "man/ has pages for subcommands that are gone"
    );
    assert!(
        stale.is_empty(),
        "{}\nthe man pages are out of date: run scripts/gen-completions.sh and commit man/",
        stale.join("\n")
    );
}

/// `man -l` renders every committed page (with groff's warnings as errors).
#[test]
fn man_pages_render() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        let out = std::process::Command::new("man")
            .arg("-l")
            .arg(&path)
            .env("MANWIDTH", "80")
            .env("MAN_KEEP_FORMATTING", "0")
            .env("PAGER", "cat")
            .env("MANPAGER", "cat")
            .output()
            .expect("`man` (man-db) is needed to check that the man pages render");
        // Bold and underline come as overstrikes (`N\x08N`): drop them.
        let mut text = String::new();
        for c in String::from_utf8_lossy(&out.stdout).chars() {
            if c == '\x08' {
                text.pop();
            } else {
                text.push(c);
            }
        }
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{}: {err}", path.display());
        assert!(
            err.trim().is_empty(),
            "{}: man warned: {err}",
            path.display()
        );
        assert!(
            text.contains("NAME") && text.contains("SYNOPSIS"),
            "{}: {text}",
            path.display()
        );
    }
}
