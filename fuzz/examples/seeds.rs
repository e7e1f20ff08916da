//! Write the built-in seed inputs to `fuzz/corpus/<target>/` so that a
//! fuzzing run does not start from nothing:
//!
//! ```text
//! cargo run --manifest-path fuzz/Cargo.toml --example seeds [TARGET]...
//! ```
//!
//! Without TARGET, every target's directory gets its seeds.

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let wanted: Vec<String> = std::env::args().skip(1).collect();
    for w in &wanted {
        if hgframe_fuzz::target(w).is_none() {
            eprintln!("unknown target {w:?}");
            std::process::exit(2);
        }
    }
    for (name, _) in hgframe_fuzz::TARGETS {
        if !wanted.is_empty() && !wanted.iter().any(|w| w == name) {
            continue;
        }
        let seeds = hgframe_fuzz::seeds_for(name);
        let dir = root.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        for (i, s) in seeds.iter().enumerate() {
            std::fs::write(dir.join(format!("seed-{i:03}")), s).unwrap();
        }
        println!("{}: {} seeds", dir.display(), seeds.len());
    }
}
