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
