//! Run fuzz target bodies on stable, without libFuzzer.
//!
//! ```text
//! cargo run --manifest-path fuzz/Cargo.toml --example replay -- TARGET [PATH]...
//! cargo run --manifest-path fuzz/Cargo.toml --example replay -- TARGET --random N [--seed S] [--max-len L]
//! ```
//!
//! TARGET is decode, human, literal, cbor, reflect, response, transcript,
//! serve_http or `all`. Each PATH is a
//! file (a crash artifact) or a directory (a corpus); every file is one
//! input. `--random N` instead runs N inputs made by mutating the built-in
//! seeds with a small deterministic PRNG: not coverage-guided, but enough to
//! smoke-test the bodies where there is no nightly toolchain. A panicking
//! input is saved under `fuzz/artifacts/replay/`.

use std::path::Path;

fn files(p: &Path, out: &mut Vec<std::path::PathBuf>) {
    if p.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(p)
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for e in entries {
            files(&e, out);
        }
    } else {
        out.push(p.to_path_buf());
    }
}

/// xorshift64*
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const DICT: &[&[u8]] = &[
    b" ",
    b"|",
    b"0",
    b"1",
    b"15",
    b"65535",
    b"cbor:",
    b"[",
    b"]",
    b"{",
    b"}",
    b"(",
    b")",
    b",",
    b":",
    b"'",
    b"b'",
    b"\\x",
    b"\\",
    b"None",
    b"True",
    b"set()",
    b"new",
    b"eos",
    b"stream-begin",
    b"command-request",
    b"command-name",
    b"continuation",
    b"more",
    b"\x81",
    b"\xa1",
    b"\x5f",
    b"\xff",
    b"\xd9\x01\x02",
    b"\x1b",
    b"\xf6",
    b"\x00\x00\x00",
];

fn mutate(rng: &mut Rng, seeds: &[Vec<u8>], max_len: usize) -> Vec<u8> {
    let mut v = seeds[rng.below(seeds.len())].clone();
    for _ in 0..1 + rng.below(8) {
        let pos = rng.below(v.len() + 1);
        match rng.below(7) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] = rng.next() as u8;
            }
            1 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            2 if pos < v.len() => {
                let n = 1 + rng.below((v.len() - pos).min(8));
                v.drain(pos..pos + n);
            }
            3 => {
                let d = DICT[rng.below(DICT.len())];
                v.splice(pos..pos, d.iter().copied());
            }
            4 => {
                let other = &seeds[rng.below(seeds.len())];
                let a = rng.below(other.len() + 1);
                let b = a + rng.below(other.len() - a + 1);
                v.splice(pos..pos, other[a..b].iter().copied());
            }
            5 => v.truncate(pos),
            _ => v.insert(pos, rng.next() as u8),
        }
    }
    v.truncate(max_len);
    v
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: replay TARGET|all [PATH]... | replay TARGET|all --random N [--seed S] [--max-len L]";
    let Some(name) = args.first() else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let targets: Vec<(&str, hgframe_fuzz::Target)> = if name == "all" {
        hgframe_fuzz::TARGETS.to_vec()
    } else {
        match hgframe_fuzz::TARGETS.iter().find(|t| t.0 == name) {
            Some(t) => vec![*t],
            None => {
                eprintln!(
                    "unknown target {name:?}; targets: {} all",
                    hgframe_fuzz::TARGETS
                        .iter()
                        .map(|t| t.0)
                        .collect::<Vec<_>>()
                        .join(" ")
                );
                std::process::exit(2);
            }
        }
    };
    let mut random: Option<u64> = None;
    let mut seed = 1u64;
    let mut max_len = 4096usize;
    let mut paths = Vec::new();
    let mut it = args[1..].iter();
    while let Some(a) = it.next() {
        let mut num = |what: &str| -> u64 {
            it.next()
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("{what} needs a number"))
        };
        match a.as_str() {
            "--random" => random = Some(num("--random")),
            "--seed" => seed = num("--seed").max(1),
            "--max-len" => max_len = num("--max-len") as usize,
            p => files(Path::new(p), &mut paths),
        }
    }
    for (tname, body) in targets {
        let mut n = 0u64;
        for p in &paths {
            let data = std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            eprintln!("{tname}: {}", p.display());
            body(&data);
            n += 1;
        }
        if let Some(count) = random {
            let seeds = hgframe_fuzz::seeds_for(tname);
            let mut rng = Rng(seed);
            for i in 0..count {
                let data = mutate(&mut rng, &seeds, max_len);
                if std::panic::catch_unwind(|| body(&data)).is_err() {
                    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("artifacts/replay");
                    std::fs::create_dir_all(&dir).unwrap();
                    let out = dir.join(format!("crash-{tname}-{seed}-{i}"));
                    std::fs::write(&out, &data).unwrap();
                    eprintln!("{tname}: input {i} panicked; saved to {}", out.display());
                    std::process::exit(1);
                }
                n += 1;
            }
        }
        eprintln!("{tname}: {n} inputs ok");
    }
}
