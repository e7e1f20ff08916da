//! The committed recording of a real Mercurial 6.0 clone over protocol v2
//! (`tests/data/hg60/clone-sample/`, zstd-8mb) decoded offline with
//! hgframe's client reactor and compared, object by object, with what
//! Mercurial's own client code decodes from the same bytes
//! (`NNN.decoded.json`, written by `tests/support/hgdecode.py`). The live
//! version of this test, with every encoder, is `tests/clone_hg.rs`.

mod common;

use common::oracle::compare_recording;

#[test]
fn the_recorded_clone_decodes_as_mercurial_decodes_it() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/hg60/clone-sample");
    let r = compare_recording(&dir);
    eprintln!(
        "{} exchanges, {} frames, {} objects compared, {} request bodies reproduced; encodings {:?}; commands {:?}",
        r.exchanges, r.frames, r.objects, r.reproduced, r.encodings, r.commands
    );
    assert!(r.mismatches.is_empty(), "{}", r.mismatches.join("\n"));
    assert_eq!(r.exchanges, 21);
    assert!(r.objects > 100, "{}", r.objects);
    assert_eq!(r.encodings, ["zstd-8mb"]);
}

/// The comparison is not vacuous: a changed object, a changed frame
/// verdict and a changed request body in the oracle's files are each
/// reported.
#[test]
fn the_comparison_notices_differences() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/hg60/clone-sample");
    let tmp = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(&src).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, tmp.path().join(p.file_name().unwrap())).unwrap();
    }
    let edit = |name: &str, f: &dyn Fn(&mut serde_json::Value)| {
        let p = tmp.path().join(name);
        let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
        f(&mut v);
        std::fs::write(&p, serde_json::to_vec(&v).unwrap()).unwrap();
    };
    // 005 filesdata: one byte of the 210 KB file's data; 017 heads: eos
    edit("005.decoded.json", &|v| {
        let objs = v["responses"][0]["objects"].as_array_mut().unwrap();
        let last = objs.len() - 1;
        objs[last] = serde_json::json!("not the data");
    });
    edit("017.decoded.json", &|v| {
        v["frames"][1]["eos"] = serde_json::json!(0)
    });
    // a trailing byte no Mercurial client sends
    let mut req = std::fs::read(tmp.path().join("003.req.bin")).unwrap();
    req.push(0);
    std::fs::write(tmp.path().join("003.req.bin"), req).unwrap();
    let r = compare_recording(tmp.path());
    let all = r.mismatches.join("\n");
    assert!(all.contains("005") && all.contains("object"), "{all}");
    assert!(all.contains("017") && all.contains("eos"), "{all}");
    assert!(
        all.contains("003") && all.contains("does not reproduce"),
        "{all}"
    );
}
