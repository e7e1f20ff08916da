//! Write the built-in seed inputs to `fuzz/corpus/<target>/` so that a
//! fuzzing run does not start from nothing:
//!
//! ```text
//! cargo run --manifest-path fuzz/Cargo.toml --example seeds
//! ```

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let seeds = hgframe_fuzz::seeds();
    for (name, _) in hgframe_fuzz::TARGETS {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        for (i, s) in seeds.iter().enumerate() {
            std::fs::write(dir.join(format!("seed-{i:03}")), s).unwrap();
        }
        println!("{}: {} seeds", dir.display(), seeds.len());
    }
}
