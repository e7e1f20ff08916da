//! The request/response pairs captured from real servers of each revision
//! (`tests/data/vectors/`, copied from the project's shared vectors): every
//! `.bin` posted to a debugreflect URL that answered 200 must reproduce its
//! `.out` byte for byte through the local reactor; every 500 must be
//! predicted as a 500 with a reason. Every frame line in a `.txt` must
//! encode to the `.bin` (where the `.txt` uses human-string syntax).

use std::fs;
use std::path::{Path, PathBuf};

use hgframe::human::parse_human;
use hgframe::reflect::reflect_bytes;
use hgframe::Proto;

fn cases(dir: &str) -> Vec<PathBuf> {
    let d = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/vectors")
        .join(dir);
    let mut v: Vec<PathBuf> = fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    v.sort();
    v
}

fn field<'a>(txt: &'a str, key: &str) -> Option<&'a str> {
    txt.lines().find_map(|l| l.strip_prefix(key).map(str::trim))
}

#[test]
fn reflect_vectors_reproduce_byte_for_byte() {
    let mut n200 = 0;
    let mut n500 = 0;
    for (dir, proto) in [
        ("0001", Proto::P0001),
        ("0002", Proto::P0002),
        ("0006", Proto::P0006),
    ] {
        for txt_path in cases(dir) {
            let txt = fs::read_to_string(&txt_path).unwrap();
            let request = field(&txt, "request:").unwrap();
            if !request.ends_with("/debugreflect") {
                continue; // a real command, not a reflect case
            }
            let status = field(&txt, "response-status-code:").unwrap();
            let bin = fs::read(txt_path.with_extension("bin")).unwrap();
            let out = fs::read(txt_path.with_extension("out")).unwrap();
            let name = txt_path.display();
            match status {
                "200" => {
                    let body = reflect_bytes(proto, &bin).unwrap_or_else(|e| panic!("{name}: {e}"));
                    assert_eq!(
                        String::from_utf8_lossy(&body),
                        String::from_utf8_lossy(&out),
                        "{name}"
                    );
                    assert_eq!(body, out, "{name}");
                    n200 += 1;
                }
                "500" => {
                    let e = reflect_bytes(proto, &bin)
                        .expect_err(&format!("{name}: server answered 500"));
                    assert!(e.to_string().contains("HTTP 500"), "{name}: {e}");
                    n500 += 1;
                }
                // 404 (debugreflect disabled) is the HTTP layer, not the reactor.
                _ => {}
            }
        }
    }
    eprintln!("{n200} bodies identical, {n500} HTTP 500 predicted");
    assert!(n200 >= 25 && n500 >= 5, "{n200} / {n500}");
}

#[test]
fn vector_frame_lines_encode_to_their_bin() {
    let mut checked = 0;
    for (dir, proto) in [
        ("0001", Proto::P0001),
        ("0002", Proto::P0002),
        ("0006", Proto::P0006),
    ] {
        for txt_path in cases(dir) {
            let txt = fs::read_to_string(&txt_path).unwrap();
            let lines: Vec<&str> = txt
                .lines()
                .filter_map(|l| l.strip_prefix("  frame "))
                .collect();
            // Payloads written as Python reprs (b'...') are for reading only.
            if lines.is_empty() || lines.iter().any(|l| l.contains(" b'")) {
                continue;
            }
            let mut bytes = Vec::new();
            for l in &lines {
                let f = parse_human(proto, l)
                    .unwrap_or_else(|e| panic!("{}: {}", txt_path.display(), e.render()));
                f.frame.encode_into(proto, &mut bytes).unwrap();
            }
            let bin = fs::read(txt_path.with_extension("bin")).unwrap();
            assert_eq!(bytes, bin, "{}", txt_path.display());
            checked += 1;
        }
    }
    eprintln!("{checked} vector .txt files encode to their .bin");
    assert!(checked >= 20, "{checked}");
}
