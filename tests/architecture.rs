//! The architecture `src/lib.rs` describes, held by a test: no import
//! cycle between modules, no arrow from a lower layer to a higher one, I/O
//! only in the modules that own it, and protocol revisions named only in
//! the tables (`wire`) and the reactors (`reactor`).
//!
//! The checker reads source text, not compiled code: it is a set of plain
//! functions over an in-memory list of (path under `src/`, text), so the
//! self-tests at the bottom can feed it small synthetic trees and check
//! that each rule fires. Comments, string literals and `#[cfg(test)]`
//! items (unit tests) are blanked before anything is looked at; string
//! literals are kept aside for the revision rule.
//!
//! Nodes of the module graph are those of the team's hook
//! (`modgraph.py`): top-level library modules (`src/x.rs`, `src/x/mod.rs`
//! → `x`) and their direct children (`src/x/y.rs`, `src/x/y/mod.rs` →
//! `x::y`; deeper files belong to `x::y`); the whole binary is one node,
//! `bin`, which reaches the library through `hgframe::`. Edges come from
//! `use` trees (groups expanded), from `crate::`, `super::` and `self::`
//! paths in code, and from paths that start with a name a `use` bound
//! (`use crate::wire::proto; proto::Proto::…`). Edges between a folder
//! module and its own children do not count.
//!
//! Run with `cargo test --test architecture -- --nocapture` to see the
//! module graph.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use regex::Regex;

// ================================================================ the rules

/// Layer rules: modules under `from` must not use any module in `not`.
struct LayerRule {
    from: &'static [&'static str],
    not: Targets,
    why: &'static str,
}

enum Targets {
    /// These modules.
    Only(&'static [&'static str]),
    /// Every library module except these (and the module's own children).
    AllBut(&'static [&'static str]),
}

const LAYER_RULES: &[LayerRule] = &[
    LayerRule {
        from: &["python"],
        not: Targets::AllBut(&["python"]),
        why: "python is the bottom layer: Python semantics, no frames, revisions or reactors",
    },
    LayerRule {
        from: &["wire"],
        not: Targets::Only(&[
            "human", "reactor", "session", "reflect", "render", "client", "remote", "server",
            "replay", "repl", "proxy",
        ]),
        why: "wire (revision tables, frame codec) sits on python only",
    },
    LayerRule {
        from: &["human"],
        not: Targets::Only(&[
            "reactor", "session", "reflect", "render", "client", "remote", "server", "replay",
            "repl", "proxy",
        ]),
        why: "human strings are parsed into frames; they know no reactor, printer or transport",
    },
    LayerRule {
        from: &["reactor"],
        not: Targets::Only(&[
            "session", "reflect", "render", "client", "remote", "server", "replay", "repl",
            "human", "proxy",
        ]),
        why: "a reactor does no I/O and knows no printers or CLI",
    },
    LayerRule {
        from: &["session", "reflect"],
        not: Targets::Only(&[
            "render", "client", "remote", "server", "replay", "repl", "proxy",
        ]),
        why: "the session driver and debugreflect are sans-IO and print nothing",
    },
    LayerRule {
        from: &["client"],
        not: Targets::AllBut(&["wire", "python"]),
        why: "the HTTP client needs only the revision tables and the codec",
    },
    LayerRule {
        from: &["server"],
        not: Targets::Only(&["client", "remote", "render", "replay", "repl", "proxy"]),
        why: "the embedded server answers requests; it is not a client, printer or replayer",
    },
    LayerRule {
        from: &["proxy"],
        not: Targets::Only(&["render", "replay", "repl"]),
        why: "the proxy watches exchanges and hands out events; printing them is render's job",
    },
];

/// Crates and paths that open sockets: only `client` and `server` may.
const SOCKET_PATHS: &[&str] = &[
    "reqwest",
    "hyper",
    "hyper_util",
    "tokio::net",
    "std::net::TcpStream",
    "std::net::TcpListener",
];
const SOCKET_MODULES: &[&str] = &["client", "server"];

/// The sans-IO layers and what they must not touch.
const SANS_IO_MODULES: &[&str] = &["python", "wire", "human", "reactor", "session", "reflect"];
const SANS_IO_PATHS: &[&str] = &[
    "std::fs",
    "std::net",
    "std::thread",
    "std::time::Instant",
    "std::time::SystemTime",
];
const PRINT_MACROS: &[&str] = &["println", "eprintln", "print", "eprint"];

/// Allowed exceptions to the I/O rule: (module prefix, path, why).
struct Allow {
    module: &'static str,
    path: &'static str,
    why: &'static str,
}

const IO_ALLOWED: &[Allow] = &[
    Allow {
        module: "session",
        path: "std::fs::metadata",
        why: "a canned `@FILE` response is checked before it is read (a regular file, within the size limit)",
    },
    Allow {
        module: "session",
        path: "std::fs::File",
        why: "a canned `@FILE` response is read once, bounded, when the responder is built",
    },
];

/// What the library must not mention: the command line lives in the binary.
const CLI_CRATES: &[&str] = &["clap", "clap_complete", "rustyline"];
const CLI_PATHS: &[&str] = &["std::process::exit"];

/// Modules where naming a revision is the point.
const REVISION_MODULES: &[&str] = &["wire", "reactor"];
/// Files outside them that name a revision: at most this many.
const MAX_REVISION_FILES: usize = 2;
/// The comment a file naming a revision must carry.
const REVISION_MARK: &str = "names a revision:";
const REVISION_STRINGS: &[&str] = &["0001", "0002", "0005", "0006"];
const REVISION_SUBSTRINGS: &[&str] = &["exp-http-v2-000", "mercurial-exp-framing-000"];

// ================================================================ findings

/// One violation: which rule, where, the offending line, and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Finding {
    pub rule: &'static str,
    /// Path as shown to people: `src/...`.
    pub file: String,
    pub line: usize,
    /// The source line, trimmed.
    pub text: String,
    pub msg: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{}] {}:{}: {}\n      | {}",
            self.rule, self.file, self.line, self.msg, self.text
        )
    }
}

fn report(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(|f| f.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

// ================================================================ lexing

/// A file with comments and literals taken apart from the code.
struct Lexed {
    /// The text with comments and the contents of string and char literals
    /// replaced by spaces (newlines kept, so lines still match; quotes kept).
    code: String,
    /// String literals: offset of the opening quote in `code`, contents.
    strings: Vec<(usize, String)>,
    /// Comments: offset in `code`, text.
    comments: Vec<(usize, String)>,
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn blank(c: char) -> char {
    if c == '\n' {
        '\n'
    } else {
        ' '
    }
}

fn lex(text: &str) -> Lexed {
    let c: Vec<char> = text.chars().collect();
    let n = c.len();
    let at = |i: usize| -> char { c.get(i).copied().unwrap_or('\0') };
    let mut code = String::with_capacity(text.len());
    let mut strings = Vec::new();
    let mut comments = Vec::new();
    let mut i = 0;
    while i < n {
        let ch = c[i];
        if ch == '/' && at(i + 1) == '/' {
            let start = code.len();
            let mut s = String::new();
            while i < n && c[i] != '\n' {
                s.push(c[i]);
                code.push(' ');
                i += 1;
            }
            comments.push((start, s));
            continue;
        }
        if ch == '/' && at(i + 1) == '*' {
            let start = code.len();
            let mut s = String::new();
            let mut depth = 0;
            while i < n {
                if c[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    s.push_str("/*");
                    code.push_str("  ");
                    i += 2;
                } else if c[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    s.push_str("*/");
                    code.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    s.push(c[i]);
                    code.push(blank(c[i]));
                    i += 1;
                }
            }
            comments.push((start, s));
            continue;
        }
        // String literals, with their prefixes: "", b"", c"", r"", r#""#,
        // br"", cr#""#. A prefix only counts at the start of a token.
        let starts_token = i == 0 || !is_ident_char(c[i - 1]);
        if ch == '"' || (starts_token && matches!(ch, 'b' | 'c' | 'r')) {
            let mut j = i;
            if matches!(c[j], 'b' | 'c') {
                j += 1;
            }
            let raw = at(j) == 'r';
            if raw {
                j += 1;
            }
            let mut hashes = 0;
            while raw && at(j + hashes) == '#' {
                hashes += 1;
            }
            j += hashes;
            let is_string = at(j) == '"' && (ch == '"' || j > i);
            if is_string {
                for &p in &c[i..=j] {
                    code.push(p);
                }
                let quote_at = code.len() - 1;
                i = j + 1;
                let mut s = String::new();
                loop {
                    if i >= n {
                        break;
                    }
                    if !raw && c[i] == '\\' {
                        s.push(c[i]);
                        code.push(' ');
                        i += 1;
                        if i < n {
                            s.push(c[i]);
                            code.push(blank(c[i]));
                            i += 1;
                        }
                        continue;
                    }
                    if c[i] == '"' && (0..hashes).all(|k| at(i + 1 + k) == '#') {
                        code.push('"');
                        for _ in 0..hashes {
                            code.push('#');
                        }
                        i += 1 + hashes;
                        break;
                    }
                    s.push(c[i]);
                    code.push(blank(c[i]));
                    i += 1;
                }
                strings.push((quote_at, s));
                continue;
            }
        }
        // Char literals ('x', '\n', '\u{1F600}', b'"') versus lifetimes and
        // labels ('a, 'outer:).
        if ch == '\'' {
            let end = if at(i + 1) == '\\' {
                (i + 3..(i + 12).min(n)).find(|&k| c[k] == '\'')
            } else if at(i + 2) == '\'' {
                Some(i + 2)
            } else {
                None
            };
            if let Some(end) = end {
                code.push('\'');
                for &p in &c[i + 1..end] {
                    code.push(blank(p));
                }
                code.push('\'');
                i = end + 1;
                continue;
            }
        }
        code.push(ch);
        i += 1;
    }
    Lexed {
        code,
        strings,
        comments,
    }
}

/// Index just past the bracket matching the one at `open` (in blanked
/// code, where every bracket is a real one).
fn matching(code: &[u8], open: usize) -> usize {
    let mut depth = 0usize;
    for (k, &b) in code.iter().enumerate().skip(open) {
        match b {
            b'{' | b'(' | b'[' => depth += 1,
            b'}' | b')' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return k + 1;
                }
            }
            _ => {}
        }
    }
    code.len()
}

/// Where the item starting at `from` ends: after a `;` at depth 0, or
/// after the `}` closing a block opened at depth 0.
fn item_end(code: &[u8], from: usize) -> usize {
    let mut k = from;
    // Further attributes on the same item.
    loop {
        while k < code.len() && code[k].is_ascii_whitespace() {
            k += 1;
        }
        if k + 1 < code.len() && code[k] == b'#' && code[k + 1] == b'[' {
            k = matching(code, k + 1);
        } else {
            break;
        }
    }
    let mut depth = 0usize;
    while k < code.len() {
        match code[k] {
            b'{' if depth == 0 => return matching(code, k),
            b'{' | b'(' | b'[' => depth += 1,
            b'}' | b')' | b']' => depth = depth.saturating_sub(1),
            b';' if depth == 0 => return k + 1,
            _ => {}
        }
        k += 1;
    }
    code.len()
}

fn blank_range(code: &mut String, from: usize, to: usize) {
    let blanked: String = code[from..to].chars().map(blank).collect();
    code.replace_range(from..to, &blanked);
}

// ================================================================ use trees

/// One leaf of a `use` tree.
#[derive(Debug, Clone)]
struct UseLeaf {
    segs: Vec<String>,
    /// A leading `::` (an external crate).
    global: bool,
    /// The name the leaf binds (`None` for globs and `as _`).
    alias: Option<String>,
    glob: bool,
    /// Offset of the leaf in the code.
    offset: usize,
}

/// Split `s` at top-level commas; each piece with its offset in `s`.
fn split_top(s: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (k, b) in s.bytes().enumerate() {
        match b {
            b'{' => depth += 1,
            b'}' => depth -= 1,
            b',' if depth == 0 => {
                out.push((start, &s[start..k]));
                start = k + 1;
            }
            _ => {}
        }
    }
    out.push((start, &s[start..]));
    out
}

fn segments(s: &str) -> Vec<String> {
    s.split("::")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(String::from)
        .collect()
}

/// Expand a use tree (the text between `use` and `;`) into its leaves.
fn expand_use(tree: &str, offset: usize, prefix: &[String], global: bool, out: &mut Vec<UseLeaf>) {
    let lead = tree.len() - tree.trim_start().len();
    let t = tree.trim();
    if t.is_empty() {
        return;
    }
    let offset = offset + lead;
    let global = global || (prefix.is_empty() && t.starts_with("::"));
    if let Some(open) = t.find('{') {
        let close = t.rfind('}').unwrap_or(t.len());
        let mut pre = prefix.to_vec();
        pre.extend(segments(&t[..open]));
        let inner = &t[open + 1..close.max(open + 1)];
        for (k, piece) in split_top(inner) {
            expand_use(piece, offset + open + 1 + k, &pre, global, out);
        }
        return;
    }
    let (path, alias) = match t.split_once(" as ") {
        Some((p, a)) => (p.trim(), Some(a.trim().to_string())),
        None => (t, None),
    };
    let mut segs = prefix.to_vec();
    segs.extend(segments(path));
    let glob = segs.last().is_some_and(|s| s == "*");
    if glob {
        segs.pop();
    }
    if segs.last().is_some_and(|s| s == "self") {
        segs.pop();
    }
    let alias = match alias {
        Some(a) if a == "_" => None,
        Some(a) => Some(a),
        None if glob => None,
        None => segs.last().cloned(),
    };
    out.push(UseLeaf {
        segs,
        global,
        alias,
        glob,
        offset,
    });
}

// ================================================================ the model

/// A path seen in a file, made absolute: `path[0]` is `crate` (the
/// library), `bin:NAME` (a binary's own modules) or an external crate
/// (`std`, `tokio`, ...).
#[derive(Debug, Clone)]
struct Occurrence {
    path: Vec<String>,
    offset: usize,
    /// A `use` whose bound name is later used as a path root: what it
    /// brings in is judged where it is used.
    import_used_later: bool,
}

struct File {
    /// Path relative to `src/`.
    rel: String,
    text: String,
    /// `crate` for the library, `bin:NAME` for a binary.
    krate: String,
    /// Module path inside its crate (`["wire", "frame"]`).
    modpath: Vec<String>,
    /// The graph node (`wire::frame`, `bin`; `None` for `lib.rs`).
    node: Option<String>,
    lexed: Lexed,
    /// The code with `#[cfg(test)]` items blanked as well.
    live: String,
    /// Byte ranges of `#[cfg(test)]` items in `code`.
    test_ranges: Vec<(usize, usize)>,
    /// A file that only exists for unit tests (`#[cfg(test)] mod x;`).
    test_only: bool,
    /// Offsets where each line starts.
    line_starts: Vec<usize>,
    occurrences: Vec<Occurrence>,
}

impl File {
    fn is_bin(&self) -> bool {
        self.krate != "crate"
    }

    fn shown(&self) -> String {
        format!("src/{}", self.rel)
    }

    fn line_of(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&s| s <= offset)
    }

    fn line_text(&self, line: usize) -> String {
        self.text
            .lines()
            .nth(line.saturating_sub(1))
            .unwrap_or("")
            .trim()
            .to_string()
    }

    fn in_tests(&self, offset: usize) -> bool {
        self.test_ranges
            .iter()
            .any(|&(a, b)| a <= offset && offset < b)
    }

    fn top(&self) -> Option<&str> {
        if self.is_bin() {
            return None;
        }
        self.modpath.first().map(String::as_str)
    }

    fn finding(&self, rule: &'static str, offset: usize, msg: String) -> Finding {
        let line = self.line_of(offset);
        Finding {
            rule,
            file: self.shown(),
            line,
            text: self.line_text(line),
            msg,
        }
    }
}

/// Where an edge comes from: (index into `Tree::files`, offset in its code).
type Site = (usize, usize);
/// from node → to node → sites.
type Edges = BTreeMap<String, BTreeMap<String, Vec<Site>>>;

/// One source tree, analysed.
pub struct Tree {
    files: Vec<File>,
    /// Library graph nodes (plus `bin` when there is a binary).
    nodes: BTreeSet<String>,
    edges: Edges,
}

fn crate_and_modpath(rel: &str, main_mods: &BTreeSet<String>) -> (String, Vec<String>) {
    let strip = |p: &str| -> Vec<String> {
        let mut parts: Vec<String> = p
            .trim_end_matches(".rs")
            .split('/')
            .map(String::from)
            .collect();
        if parts.last().is_some_and(|l| l == "mod") {
            parts.pop();
        }
        parts
    };
    if let Some(rest) = rel.strip_prefix("bin/") {
        return match rest.split_once('/') {
            Some((name, inner)) => {
                let mp = strip(inner);
                let mp = if mp == ["main"] { Vec::new() } else { mp };
                (format!("bin:{name}"), mp)
            }
            None => (format!("bin:{}", rest.trim_end_matches(".rs")), Vec::new()),
        };
    }
    if rel == "main.rs" {
        return ("bin:main".into(), Vec::new());
    }
    if rel == "lib.rs" {
        return ("crate".into(), Vec::new());
    }
    let mp = strip(rel);
    if main_mods.contains(&mp[0]) {
        return ("bin:main".into(), mp);
    }
    ("crate".into(), mp)
}

fn node_of_modpath(mp: &[String]) -> Option<String> {
    match mp {
        [] => None,
        [x] => Some(x.clone()),
        [x, y, ..] => Some(format!("{x}::{y}")),
    }
}

fn re(s: &str) -> Regex {
    Regex::new(s).unwrap()
}

/// Analyse a source tree given as (path relative to `src/`, text).
pub fn analyze<P: AsRef<str>, T: AsRef<str>>(sources: &[(P, T)]) -> Tree {
    let cfg_test = re(r"#\s*\[\s*cfg\s*\(\s*test\s*\)\s*\]");
    let cfg_test_inner = re(r"#!\s*\[\s*cfg\s*\(\s*test\s*\)\s*\]");
    let mod_decl = re(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+([A-Za-z_][A-Za-z0-9_]*)\s*;");
    let inline_mod = re(r"\bmod\s+([A-Za-z_][A-Za-z0-9_]*)\s*\{");
    let use_stmt = re(r"\buse\s+([^;<>]*);");
    let code_path = re(r"(::)?(\$?[A-Za-z_][A-Za-z0-9_]*)((?:::[A-Za-z_][A-Za-z0-9_]*)+)");

    // Modules the binary at src/main.rs declares live next to it.
    let mut main_mods = BTreeSet::new();
    for (p, t) in sources {
        if p.as_ref() == "main.rs" {
            let l = lex(t.as_ref());
            for line in l.code.lines() {
                if let Some(m) = mod_decl.captures(line) {
                    main_mods.insert(m[1].to_string());
                }
            }
        }
    }

    let mut files = Vec::new();
    let mut test_mods: BTreeSet<(String, Vec<String>)> = BTreeSet::new();
    for (p, t) in sources {
        let rel = p.as_ref().replace('\\', "/");
        let text = t.as_ref().to_string();
        let (krate, modpath) = crate_and_modpath(&rel, &main_mods);
        let node = if krate == "crate" {
            node_of_modpath(&modpath)
        } else {
            Some("bin".to_string())
        };
        let lexed = lex(&text);
        let mut live = lexed.code.clone();
        let mut test_ranges = Vec::new();
        let bytes = lexed.code.as_bytes();
        for m in cfg_test.find_iter(&lexed.code) {
            let end = item_end(bytes, m.end());
            test_ranges.push((m.start(), end));
            if let Some(d) = mod_decl.captures(&lexed.code[m.end()..end]) {
                let mut mp = modpath.clone();
                mp.push(d[1].to_string());
                test_mods.insert((krate.clone(), mp));
            }
        }
        for &(a, b) in &test_ranges {
            blank_range(&mut live, a, b);
        }
        let test_only = cfg_test_inner.is_match(&lexed.code);
        let line_starts = std::iter::once(0)
            .chain(lexed.code.match_indices('\n').map(|(k, _)| k + 1))
            .collect();
        files.push(File {
            rel,
            text,
            krate,
            modpath,
            node,
            lexed,
            live,
            test_ranges,
            test_only,
            line_starts,
            occurrences: Vec::new(),
        });
    }
    for f in &mut files {
        if test_mods
            .iter()
            .any(|(k, mp)| *k == f.krate && f.modpath.starts_with(mp))
        {
            f.test_only = true;
        }
    }

    // Module paths per crate (for 2018-style relative paths), library
    // graph nodes, and the crate root's re-exports (`pub use wire::proto::Proto`).
    let mut modules: BTreeSet<(String, Vec<String>)> = BTreeSet::new();
    let mut nodes = BTreeSet::new();
    for f in &files {
        for k in 0..=f.modpath.len() {
            modules.insert((f.krate.clone(), f.modpath[..k].to_vec()));
        }
        if let Some(n) = &f.node {
            nodes.insert(n.clone());
            if let Some((top, _)) = n.split_once("::") {
                nodes.insert(top.to_string());
            }
        }
    }

    let mut root_reexports: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut all_occurrences = Vec::new();
    // The crate root first, so its re-exports are known to everyone else.
    let mut order: Vec<usize> = (0..files.len()).collect();
    order.sort_by_key(|&k| files[k].rel != "lib.rs");
    for &fi in &order {
        let f = &files[fi];
        // Inline modules (`mod x { ... }`) change what `self` and `super` mean.
        let inline: Vec<(usize, usize, String)> = inline_mod
            .captures_iter(&f.live)
            .map(|m| {
                let open = m.get(0).unwrap().end() - 1;
                (open, matching(f.live.as_bytes(), open), m[1].to_string())
            })
            .collect();
        let modpath_at = |offset: usize| -> Vec<String> {
            let mut mp = f.modpath.clone();
            mp.extend(
                inline
                    .iter()
                    .filter(|(a, b, _)| *a <= offset && offset < *b)
                    .map(|(_, _, n)| n.clone()),
            );
            mp
        };
        let krate = f.krate.clone();
        let resolve = |segs: &[String],
                       global: bool,
                       offset: usize,
                       aliases: &BTreeMap<String, Vec<String>>|
         -> Option<(Vec<String>, Option<String>)> {
            let first = segs.first()?;
            let mut via_alias = None;
            let mut abs: Vec<String> = if global {
                segs.to_vec()
            } else if first == "crate" || first == "$crate" {
                std::iter::once(krate.clone())
                    .chain(segs[1..].iter().cloned())
                    .collect()
            } else if first == "hgframe" {
                std::iter::once("crate".to_string())
                    .chain(segs[1..].iter().cloned())
                    .collect()
            } else if first == "self" || first == "super" {
                let mut mp = modpath_at(offset);
                let mut k = usize::from(first == "self");
                while segs.get(k).is_some_and(|s| s == "super") {
                    mp.pop()?;
                    k += 1;
                }
                std::iter::once(krate.clone())
                    .chain(mp)
                    .chain(segs[k..].iter().cloned())
                    .collect()
            } else if let Some(a) = aliases.get(first) {
                via_alias = Some(first.clone());
                a.iter().chain(segs[1..].iter()).cloned().collect()
            } else {
                let mut mp = modpath_at(offset);
                mp.push(first.clone());
                if modules.contains(&(krate.clone(), mp.clone())) {
                    std::iter::once(krate.clone())
                        .chain(mp)
                        .chain(segs[1..].iter().cloned())
                        .collect()
                } else {
                    segs.to_vec()
                }
            };
            // `crate::Frame` is `crate::wire::frame::Frame`.
            if abs.len() > 1
                && abs[0] == "crate"
                && !modules.contains(&("crate".to_string(), vec![abs[1].clone()]))
            {
                if let Some(r) = root_reexports.get(&abs[1]) {
                    abs = r.iter().chain(abs[2..].iter()).cloned().collect();
                }
            }
            Some((abs, via_alias))
        };

        // `use` declarations: leaves, then the names they bind.
        let mut leaves = Vec::new();
        let mut code = f.live.clone();
        let use_spans: Vec<(usize, usize)> = use_stmt
            .captures_iter(&f.live)
            .map(|m| {
                let body = m.get(1).unwrap();
                expand_use(body.as_str(), body.start(), &[], false, &mut leaves);
                let whole = m.get(0).unwrap();
                (whole.start(), whole.end())
            })
            .collect();
        for (a, b) in use_spans {
            blank_range(&mut code, a, b);
        }
        let mut aliases: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for _ in 0..2 {
            for l in &leaves {
                if let (Some(a), Some((abs, _))) =
                    (&l.alias, resolve(&l.segs, l.global, l.offset, &aliases))
                {
                    aliases.insert(a.clone(), abs);
                }
            }
        }
        // Paths in code.
        let mut occurrences = Vec::new();
        let mut used_aliases = BTreeSet::new();
        for m in code_path.captures_iter(&code) {
            let mut segs = vec![m[2].to_string()];
            segs.extend(segments(&m[3]));
            let offset = m.get(2).unwrap().start();
            if let Some((abs, via)) = resolve(&segs, m.get(1).is_some(), offset, &aliases) {
                if let Some(v) = via {
                    used_aliases.insert(v);
                }
                occurrences.push(Occurrence {
                    path: abs,
                    offset,
                    import_used_later: false,
                });
            }
        }
        for l in &leaves {
            if let Some((abs, _)) = resolve(&l.segs, l.global, l.offset, &aliases) {
                let used = l.alias.as_ref().is_some_and(|a| used_aliases.contains(a));
                occurrences.push(Occurrence {
                    path: abs,
                    offset: l.offset,
                    import_used_later: used && !l.glob,
                });
            }
        }
        occurrences.sort_by_key(|o| o.offset);
        all_occurrences.push((fi, occurrences));
        if f.rel == "lib.rs" {
            root_reexports = aliases;
        }
    }
    for (fi, occ) in all_occurrences {
        files[fi].occurrences = occ;
    }

    // Edges between nodes.
    let mut edges: Edges = BTreeMap::new();
    for (fi, f) in files.iter().enumerate() {
        let Some(from) = &f.node else { continue };
        if f.test_only {
            continue;
        }
        for o in &f.occurrences {
            if o.path.first().map(String::as_str) != Some("crate") {
                continue;
            }
            let Some(to) = lib_node(&o.path[1..], &nodes) else {
                continue;
            };
            if &to == from || parent_child(from, &to) {
                continue;
            }
            edges
                .entry(from.clone())
                .or_default()
                .entry(to)
                .or_default()
                .push((fi, o.offset));
        }
    }
    Tree {
        files,
        nodes,
        edges,
    }
}

/// The deepest node a library path (without `crate`) points into.
fn lib_node(path: &[String], nodes: &BTreeSet<String>) -> Option<String> {
    let top = path.first()?;
    if top == "bin" || !nodes.contains(top) {
        return None;
    }
    if let Some(child) = path.get(1) {
        let n = format!("{top}::{child}");
        if nodes.contains(&n) {
            return Some(n);
        }
    }
    Some(top.clone())
}

fn top_of(node: &str) -> &str {
    node.split("::").next().unwrap_or(node)
}

/// A folder module and one of its own children.
fn parent_child(a: &str, b: &str) -> bool {
    top_of(a) == top_of(b) && (!a.contains("::") || !b.contains("::"))
}

fn has_prefix(path: &[String], prefix: &str) -> bool {
    let p: Vec<&str> = prefix.split("::").collect();
    path.len() >= p.len() && path.iter().zip(&p).all(|(a, b)| a == b)
}

// ================================================================ graph

impl Tree {
    /// The graph with children folded into their top-level module.
    fn collapsed(&self) -> Edges {
        let mut out: Edges = BTreeMap::new();
        for (from, tos) in &self.edges {
            for (to, sites) in tos {
                let (a, b) = (top_of(from), top_of(to));
                if a != b {
                    out.entry(a.to_string())
                        .or_default()
                        .entry(b.to_string())
                        .or_default()
                        .extend(sites);
                }
            }
        }
        out
    }

    /// `module -> what it uses`, one line per node, then the same folded
    /// to top-level modules.
    pub fn graph_text(&self) -> String {
        let mut s = String::from("module graph (node -> nodes it uses):\n");
        let line = |s: &mut String, n: &str, tos: Option<&BTreeMap<String, Vec<Site>>>| {
            let list = tos.map_or_else(
                || "-".to_string(),
                |t| t.keys().cloned().collect::<Vec<_>>().join(", "),
            );
            s.push_str(&format!("  {n} -> {list}\n"));
        };
        for n in &self.nodes {
            line(&mut s, n, self.edges.get(n));
        }
        s.push_str("top-level modules (children folded in):\n");
        let c = self.collapsed();
        let tops: BTreeSet<&str> = self.nodes.iter().map(|n| top_of(n)).collect();
        for n in tops {
            line(&mut s, n, c.get(n));
        }
        s
    }

    fn site(&self, (fi, offset): Site) -> String {
        let f = &self.files[fi];
        let line = f.line_of(offset);
        format!("{}:{}: {}", f.shown(), line, f.line_text(line))
    }
}

/// Strongly connected components with more than one node (Tarjan).
fn cycles(edges: &Edges) -> Vec<Vec<String>> {
    struct St<'a> {
        edges: &'a Edges,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    fn strong<'a>(st: &mut St<'a>, v: &'a str) {
        let i = st.index.len();
        st.index.insert(v, i);
        st.low.insert(v, i);
        st.stack.push(v);
        st.on.insert(v);
        if let Some(ws) = st.edges.get(v) {
            for w in ws.keys() {
                let w = w.as_str();
                if !st.index.contains_key(w) {
                    strong(st, w);
                    let l = st.low[v].min(st.low[w]);
                    st.low.insert(v, l);
                } else if st.on.contains(w) {
                    let l = st.low[v].min(st.index[w]);
                    st.low.insert(v, l);
                }
            }
        }
        if st.low[v] == st.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = st.stack.pop() {
                st.on.remove(w);
                comp.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                st.out.push(comp);
            }
        }
    }
    let mut all: BTreeSet<&str> = edges.keys().map(String::as_str).collect();
    all.extend(edges.values().flat_map(|t| t.keys().map(String::as_str)));
    let mut st = St {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in all {
        if !st.index.contains_key(v) {
            strong(&mut st, v);
        }
    }
    st.out
}

/// One concrete cycle through `start` inside `comp` (breadth first).
fn cycle_path(edges: &Edges, comp: &[String]) -> Vec<String> {
    let start = &comp[0];
    let mut prev: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start.as_str()]);
    while let Some(v) = queue.pop_front() {
        for w in edges.get(v).into_iter().flat_map(|t| t.keys()) {
            if !comp.contains(w) {
                continue;
            }
            if w == start {
                let mut path = vec![start.clone()];
                let mut cur = v;
                while cur != start {
                    path.push(cur.to_string());
                    cur = prev[cur];
                }
                path.push(start.clone());
                path.reverse();
                return path;
            }
            if !prev.contains_key(w.as_str()) {
                prev.insert(w, v);
                queue.push_back(w);
            }
        }
    }
    comp.to_vec()
}

// ================================================================ checks

/// Rule a: import cycles, between nodes and between top-level modules.
pub fn check_cycles(t: &Tree) -> Vec<Finding> {
    let mut out = Vec::new();
    let collapsed = t.collapsed();
    for (level, edges) in [("module", &t.edges), ("top-level module", &collapsed)] {
        for comp in cycles(edges) {
            let path = cycle_path(edges, &comp);
            let mut msg = format!(
                "import cycle between {level}s {}: {}",
                comp.join(", "),
                path.join(" -> ")
            );
            for w in path.windows(2) {
                let sites = &edges[&w[0]][&w[1]];
                msg.push_str(&format!("\n      {} -> {}:", w[0], w[1]));
                for &s in sites.iter().take(3) {
                    msg.push_str(&format!("\n        {}", t.site(s)));
                }
                if sites.len() > 3 {
                    msg.push_str(&format!("\n        (and {} more)", sites.len() - 3));
                }
            }
            let (fi, off) = edges[&path[0]][&path[1]][0];
            out.push(t.files[fi].finding("a: import cycle", off, msg));
        }
    }
    out
}

/// Rule b: arrows between layers, and the command line in the library.
pub fn check_layers(t: &Tree) -> Vec<Finding> {
    let mut out = Vec::new();
    for (from, tos) in &t.edges {
        for (to, sites) in tos {
            let (a, b) = (top_of(from), top_of(to));
            for r in LAYER_RULES {
                if !r.from.contains(&a) || a == b {
                    continue;
                }
                let banned = match r.not {
                    Targets::Only(list) => list.contains(&b),
                    Targets::AllBut(list) => !list.contains(&b),
                };
                if banned {
                    for &(fi, off) in sites {
                        out.push(t.files[fi].finding(
                            "b: forbidden arrow",
                            off,
                            format!("{from} uses {to}: {a} must not use {b} ({})", r.why),
                        ));
                    }
                }
            }
        }
    }
    let ident = re(r"\b([A-Za-z_][A-Za-z0-9_]*)\b");
    let path_attr = re(r#"(?:#\s*\[\s*path\s*=\s*|\binclude(?:_str|_bytes)?\s*!\s*\(\s*)""#);
    let bin_tops: BTreeSet<&str> = t
        .files
        .iter()
        .filter(|f| f.is_bin())
        .filter_map(|f| f.modpath.first().map(String::as_str))
        .collect();
    let lib_tops: BTreeSet<&str> = t.nodes.iter().map(|n| top_of(n)).collect();
    for f in t.files.iter().filter(|f| !f.is_bin() && !f.test_only) {
        for m in ident.find_iter(&f.live) {
            if CLI_CRATES.contains(&m.as_str()) {
                out.push(f.finding(
                    "b: command line in the library",
                    m.start(),
                    format!(
                        "the library mentions `{}`; the command line lives in src/bin/",
                        m.as_str()
                    ),
                ));
            }
        }
        for o in &f.occurrences {
            if f.in_tests(o.offset) {
                continue;
            }
            for p in CLI_PATHS {
                if has_prefix(&o.path, p) {
                    out.push(f.finding(
                        "b: command line in the library",
                        o.offset,
                        format!("the library uses `{p}`; exit codes are the binary's"),
                    ));
                }
            }
            if o.path[0] == "crate"
                && o.path.len() > 1
                && bin_tops.contains(o.path[1].as_str())
                && !lib_tops.contains(o.path[1].as_str())
            {
                out.push(f.finding(
                    "b: library uses the binary",
                    o.offset,
                    format!("`crate::{}` is a module of the binary", o.path[1]),
                ));
            }
        }
        for m in path_attr.find_iter(&f.live) {
            let quote = m.end() - 1;
            let target = f
                .lexed
                .strings
                .iter()
                .find(|(o, _)| *o == quote)
                .map(|(_, s)| s.as_str())
                .unwrap_or("");
            let dir = Path::new(&f.rel).parent().unwrap_or(Path::new(""));
            let mut parts: Vec<String> = Vec::new();
            for c in dir.join(target).components() {
                match c {
                    std::path::Component::ParentDir => {
                        parts.pop();
                    }
                    std::path::Component::Normal(p) => parts.push(p.to_string_lossy().into()),
                    _ => {}
                }
            }
            if parts.first().is_some_and(|p| p == "bin") || parts == ["main.rs"] {
                out.push(f.finding(
                    "b: library uses the binary",
                    m.start(),
                    format!("the library pulls in the binary's `{target}`"),
                ));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Rule c: sockets only in `client` and `server`; the sans-IO layers do
/// no I/O at all (save the allow-list).
pub fn check_io(t: &Tree) -> Vec<Finding> {
    io_findings(t).0
}

/// Rule c's violations, and the spots the allow-list lets through.
fn io_findings(t: &Tree) -> (Vec<Finding>, Vec<Finding>) {
    let mut out = Vec::new();
    let mut allowed_spots = Vec::new();
    let print = re(&format!(r"\b({})\s*!\s*[(\[{{]", PRINT_MACROS.join("|")));
    for f in t.files.iter().filter(|f| !f.is_bin() && !f.test_only) {
        let top = f.top().unwrap_or("");
        let sans_io = SANS_IO_MODULES.contains(&top);
        for o in &f.occurrences {
            if f.in_tests(o.offset) || o.import_used_later {
                continue;
            }
            let shown = o.path.join("::");
            if !SOCKET_MODULES.contains(&top) {
                if let Some(p) = SOCKET_PATHS.iter().find(|p| has_prefix(&o.path, p)) {
                    out.push(f.finding(
                        "c: I/O in the wrong place",
                        o.offset,
                        format!("`{shown}` ({p}) outside client and server"),
                    ));
                }
            }
            if sans_io {
                if let Some(p) = SANS_IO_PATHS.iter().find(|p| has_prefix(&o.path, p)) {
                    let allowed = IO_ALLOWED.iter().find(|a| {
                        (top == a.module || f.node.as_deref() == Some(a.module))
                            && has_prefix(&o.path, a.path)
                    });
                    if let Some(a) = allowed {
                        allowed_spots.push(f.finding(
                            "c: allowed",
                            o.offset,
                            format!("`{shown}` in `{top}`: {}", a.why),
                        ));
                    } else {
                        out.push(f.finding(
                            "c: I/O in the wrong place",
                            o.offset,
                            format!("`{shown}` ({p}) in the sans-IO layer `{top}`"),
                        ));
                    }
                }
            }
        }
        if sans_io {
            for m in print.captures_iter(&f.live) {
                let mac = &m[1];
                out.push(f.finding(
                    "c: I/O in the wrong place",
                    m.get(0).unwrap().start(),
                    format!("`{mac}!` in the sans-IO layer `{top}` (return values; printers are in render)"),
                ));
            }
        }
    }
    out.sort();
    out.dedup();
    (out, allowed_spots)
}

/// Where a file names a revision: (offset, what).
fn revision_mentions(f: &File) -> Vec<(usize, String)> {
    let names = re(r"\b(?:Proto\s*::\s*)?P000[1256]\b|\bReactorKind\s*::\s*V\w*|\bV\d{4}\b");
    let mut out: Vec<(usize, String)> = names
        .find_iter(&f.live)
        .map(|m| (m.start(), m.as_str().to_string()))
        .collect();
    for (off, s) in &f.lexed.strings {
        if f.in_tests(*off) {
            continue;
        }
        if REVISION_STRINGS.contains(&s.as_str())
            || REVISION_SUBSTRINGS.iter().any(|x| s.contains(x))
        {
            out.push((*off, format!("\"{s}\"")));
        }
    }
    out.sort();
    out
}

/// Rule d: revisions are named in `wire` and `reactor`; anywhere else a
/// file doing so says why (`names a revision: ...`), and there are at
/// most two such files.
pub fn check_revisions(t: &Tree) -> Vec<Finding> {
    let mark = re(&format!(r"{}\s*\S", regex::escape(REVISION_MARK)));
    let mut out = Vec::new();
    let mut naming = Vec::new();
    for f in &t.files {
        if f.test_only || f.top().is_some_and(|top| REVISION_MODULES.contains(&top)) {
            continue;
        }
        let mentions = revision_mentions(f);
        if mentions.is_empty() {
            continue;
        }
        naming.push((f, mentions[0].0));
        if f.lexed.comments.iter().any(|(_, c)| mark.is_match(c)) {
            continue;
        }
        for (off, what) in mentions {
            out.push(f.finding(
                "d: revision named outside the tables",
                off,
                format!(
                    "names a revision ({what}) outside wire/ and reactor/ without a \
                     `// {REVISION_MARK} <why>` comment in the file"
                ),
            ));
        }
    }
    naming.sort_by(|a, b| a.0.rel.cmp(&b.0.rel));
    if naming.len() > MAX_REVISION_FILES {
        let list: Vec<String> = naming.iter().map(|(f, _)| f.shown()).collect();
        for (f, off) in &naming {
            out.push(f.finding(
                "d: revision named outside the tables",
                *off,
                format!(
                    "{} files outside wire/ and reactor/ name a revision (at most {MAX_REVISION_FILES}): {}",
                    naming.len(),
                    list.join(", ")
                ),
            ));
        }
    }
    out
}

// ================================================================ the real tree

fn read_src() -> Vec<(String, String)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(root, &p, out);
            } else if p.extension().is_some_and(|e| e == "rs") {
                let rel = p
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((rel, std::fs::read_to_string(&p).unwrap()));
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    walk(&root, &root, &mut out);
    assert!(out.iter().any(|(p, _)| p == "lib.rs"), "no src/lib.rs");
    out
}

fn assert_none(what: &str, findings: Vec<Finding>) {
    assert!(
        findings.is_empty(),
        "{what}: {} violation(s):\n{}",
        findings.len(),
        report(&findings)
    );
}

#[test]
fn src_has_no_import_cycles() {
    let t = analyze(&read_src());
    eprintln!("{}", t.graph_text());
    assert_none("import cycles (rule a)", check_cycles(&t));
}

#[test]
fn src_layers_only_use_lower_layers() {
    let t = analyze(&read_src());
    assert_none("layering (rule b)", check_layers(&t));
}

#[test]
fn src_io_only_where_it_belongs() {
    let t = analyze(&read_src());
    let (findings, allowed) = io_findings(&t);
    for a in &allowed {
        eprintln!("{a}");
    }
    // An allow-list entry nothing needs any more should go.
    for a in IO_ALLOWED {
        assert!(
            allowed.iter().any(|f| f.msg.contains(a.why)),
            "IO_ALLOWED lets `{}` use `{}`, but it no longer does: remove the entry",
            a.module,
            a.path
        );
    }
    assert_none("I/O placement (rule c)", findings);
}

#[test]
fn src_names_revisions_only_in_the_tables() {
    let t = analyze(&read_src());
    assert_none(
        "revisions outside wire/ and reactor/ (rule d)",
        check_revisions(&t),
    );
}

#[test]
fn the_checker_sees_the_whole_tree() {
    // Guards against a checker that passes because it read nothing.
    let t = analyze(&read_src());
    for n in [
        "python",
        "wire",
        "wire::frame",
        "human",
        "reactor",
        "session",
        "client",
        "bin",
    ] {
        assert!(t.nodes.contains(n), "no node {n}:\n{}", t.graph_text());
    }
    assert!(
        t.edges
            .get("reactor")
            .is_some_and(|e| e.contains_key("wire::frame")),
        "reactor -> wire::frame missing:\n{}",
        t.graph_text()
    );
    assert!(
        t.edges.get("bin").is_some_and(|e| e.len() > 3),
        "the binary's hgframe:: paths were not seen:\n{}",
        t.graph_text()
    );
}

// ================================================================ self-tests

fn all_checks(t: &Tree) -> Vec<Finding> {
    let mut v = check_cycles(t);
    v.extend(check_layers(t));
    v.extend(check_io(t));
    v.extend(check_revisions(t));
    v
}

/// A small tree in the crate's shape that breaks no rule, with the traps
/// the lexer must not fall into.
fn clean_tree() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            "lib.rs",
            "//! Talks about clap and println! in docs only.\n\
             pub mod python;\npub mod wire;\npub mod reactor;\npub mod session;\n\
             pub mod client;\npub mod server;\npub mod render;\n\
             pub use wire::proto::Proto;\n",
        ),
        ("python/mod.rs", "pub mod value;\n"),
        ("python/value.rs", "pub struct Value;\n"),
        ("wire/mod.rs", "pub mod frame;\npub mod proto;\npub use self::frame::Frame;\n"),
        (
            "wire/frame.rs",
            "use super::proto::Proto;\nuse crate::python::value::Value;\n\
             pub struct Frame(Value);\npub fn f(_: Proto) {}\n",
        ),
        (
            "wire/proto.rs",
            "pub struct Proto;\nimpl Proto { pub const P0001: Proto = Proto; }\n\
             pub const NAME: &str = \"0001\";\n",
        ),
        (
            "reactor/mod.rs",
            "//! use crate::client::Client; (only a comment)\n\
             pub mod v0001;\n\
             use crate::wire::{frame::Frame, proto::{self, Proto}};\n\
             /* println!(\"no\"); crate::render::x() */\n\
             pub fn g(_: Frame) -> &'static str { let _c = '\"'; let _p = proto::Proto::P0001; \
             \"crate::client::Client println!() std::fs\" }\n\
             #[cfg(test)]\nmod tests {\n    use crate::client::Client;\n    \
             fn t() { println!(\"fine in a test\"); }\n}\n",
        ),
        (
            "reactor/v0001.rs",
            "use super::g;\nuse crate::Proto;\npub fn h(p: Proto) -> &'static str { g(todo!()) }\n",
        ),
        (
            "session.rs",
            "use std::fs;\nuse crate::reactor;\n\
             pub fn load(p: &str) -> u64 { fs::metadata(p).unwrap().len() }\n",
        ),
        (
            "client.rs",
            "use crate::wire::proto::Proto;\npub fn get() { let _ = reqwest::blocking::get(\"x\"); }\n",
        ),
        (
            "server/mod.rs",
            "// names a revision: the 0006 reactor's error response differs.\n\
             use crate::reactor;\nuse crate::wire::proto::Proto;\n\
             use std::time::Instant;\nuse tokio::{net::TcpListener};\n\
             pub fn s() { let _ = Proto::P0001; eprintln!(\"log\"); }\n",
        ),
        (
            "render/mod.rs",
            "use crate::session;\npub fn r() { println!(\"{}\", 1); }\n",
        ),
        (
            "bin/hgframe/main.rs",
            "mod args;\nuse hgframe::render;\nuse clap::Parser;\n\
             fn main() { std::process::exit(hgframe::wire::frame::x()); }\n",
        ),
        ("bin/hgframe/args.rs", "use clap::Parser;\n"),
    ]
}

fn with(
    mut tree: Vec<(&'static str, &'static str)>,
    path: &'static str,
    text: &'static str,
) -> Vec<(&'static str, &'static str)> {
    tree.retain(|(p, _)| *p != path);
    tree.push((path, text));
    tree
}

#[test]
fn a_clean_tree_passes() {
    let t = analyze(&clean_tree());
    let f = all_checks(&t);
    assert!(f.is_empty(), "{}\n{}", report(&f), t.graph_text());
    // ... and the graph is what the sources say.
    let g = t.graph_text();
    for edge in [
        "  wire::frame -> python::value, wire::proto\n",
        "  reactor -> wire::frame, wire::proto\n",
        "  reactor::v0001 -> wire::proto\n",
        "  session -> reactor\n",
        "  bin -> render, wire::frame\n",
    ] {
        assert!(g.contains(edge), "no {edge:?} in\n{g}");
    }
}

#[test]
fn a_cycle_is_reported() {
    let tree = vec![
        ("lib.rs", "pub mod a;\npub mod b;\n"),
        ("a.rs", "use crate::b::B;\npub struct A;\n"),
        (
            "b.rs",
            "pub struct B;\npub fn f() -> crate::a::A { crate::a::A }\n",
        ),
    ];
    let f = check_cycles(&analyze(&tree));
    let r = report(&f);
    // At both levels (here the same two modules).
    assert_eq!(f.len(), 2, "{r}");
    assert!(
        r.contains("import cycle between modules a, b: a -> b -> a"),
        "{r}"
    );
    assert!(r.contains("src/a.rs:1: use crate::b::B;"), "{r}");
    assert!(
        r.contains("src/b.rs:2: pub fn f() -> crate::a::A { crate::a::A }"),
        "{r}"
    );
}

#[test]
fn a_cycle_between_top_level_modules_only_is_reported() {
    // a::x -> b -> a::y: no cycle between nodes, one between a and b.
    let tree = vec![
        ("lib.rs", "pub mod a;\npub mod b;\n"),
        ("a/mod.rs", "pub mod x;\npub mod y;\n"),
        ("a/x.rs", "use crate::b;\n"),
        ("a/y.rs", "pub struct Y;\n"),
        ("b.rs", "use crate::a::y::Y;\n"),
    ];
    let f = check_cycles(&analyze(&tree));
    let r = report(&f);
    assert_eq!(f.len(), 1, "{r}");
    assert!(r.contains("between top-level modules a, b"), "{r}");
}

#[test]
fn parent_child_and_commented_and_test_edges_are_not_cycles() {
    let tree = vec![
        ("lib.rs", "pub mod a;\npub mod b;\n"),
        (
            "a/mod.rs",
            "pub mod x;\npub use x::X;\nfn f() -> X { x::X }\n",
        ),
        (
            "a/x.rs",
            "use super::helper as _;\npub struct X;\n// use crate::b;\n\
             const S: &str = \"crate::b::B\";\n\
             #[cfg(test)]\nmod tests {\n    use crate::b::B;\n}\n",
        ),
        ("b.rs", "use crate::a::X;\npub struct B;\n"),
    ];
    let t = analyze(&tree);
    assert!(check_cycles(&t).is_empty(), "{}", t.graph_text());
    assert!(!t.edges.contains_key("a::x"), "{}", t.graph_text());
}

#[test]
fn a_forbidden_arrow_is_reported() {
    let tree = with(
        clean_tree(),
        "reactor/v0001.rs",
        "use crate::{wire::proto::Proto, client::{self, Client}};\npub fn h() {}\n",
    );
    let f = check_layers(&analyze(&tree));
    let r = report(&f);
    assert_eq!(f.len(), 1, "{r}");
    assert!(
        r.contains("[b: forbidden arrow] src/reactor/v0001.rs:1: reactor::v0001 uses client: reactor must not use client"),
        "{r}"
    );
}

#[test]
fn forbidden_arrows_through_super_and_aliases_are_reported() {
    let tree = with(
        clean_tree(),
        "wire/frame.rs",
        "use crate::python;\nuse crate::reactor as r;\nfn f() { super::super::session::x(); r::g(todo!()); }\n",
    );
    let f = check_layers(&analyze(&tree));
    let r = report(&f);
    assert!(
        r.contains("wire::frame uses session: wire must not use session"),
        "{r}"
    );
    assert!(
        r.contains("wire::frame uses reactor: wire must not use reactor"),
        "{r}"
    );
}

#[test]
fn the_command_line_in_the_library_is_reported() {
    let tree = with(
        clean_tree(),
        "render/mod.rs",
        "use clap::ValueEnum;\nuse std::process;\npub fn r() { process::exit(2) }\n",
    );
    let f = check_layers(&analyze(&tree));
    let r = report(&f);
    assert!(
        r.contains("src/render/mod.rs:1: the library mentions `clap`"),
        "{r}"
    );
    assert!(
        r.contains("src/render/mod.rs:3: the library uses `std::process::exit`"),
        "{r}"
    );
}

#[test]
fn println_in_wire_is_reported() {
    let tree = with(
        clean_tree(),
        "wire/proto.rs",
        "pub struct Proto;\nimpl Proto { pub const P0001: Proto = Proto; }\n\
         pub fn dump() {\n    println!(\"{}\", 1);\n}\n",
    );
    let f = check_io(&analyze(&tree));
    let r = report(&f);
    assert_eq!(f.len(), 1, "{r}");
    assert!(
        r.contains("[c: I/O in the wrong place] src/wire/proto.rs:4: `println!` in the sans-IO layer `wire`"),
        "{r}"
    );
}

#[test]
fn io_paths_in_sans_io_layers_are_reported_past_the_allow_list() {
    let tree = with(
        clean_tree(),
        "session.rs",
        "use std::fs;\nuse std::time::{Duration, Instant};\n\
         pub fn load(p: &str) -> u64 { fs::write(p, b\"\").unwrap(); fs::metadata(p).unwrap().len() }\n\
         pub fn t() { let _ = Instant::now(); std::thread::sleep(Duration::ZERO); }\n",
    );
    let f = check_io(&analyze(&tree));
    let r = report(&f);
    assert!(r.contains("src/session.rs:3: `std::fs::write`"), "{r}");
    assert!(
        r.contains("src/session.rs:4: `std::time::Instant::now`"),
        "{r}"
    );
    assert!(r.contains("src/session.rs:4: `std::thread::sleep`"), "{r}");
    assert!(!r.contains("std::fs::metadata"), "allowed: {r}");
    assert_eq!(f.len(), 3, "{r}");
}

#[test]
fn sockets_outside_client_and_server_are_reported() {
    let tree = with(
        clean_tree(),
        "render/mod.rs",
        "use tokio::{net::TcpStream, sync};\npub fn r() { let _ = hyper::Request::new(()); }\n",
    );
    let f = check_io(&analyze(&tree));
    let r = report(&f);
    assert!(
        r.contains("src/render/mod.rs:1: `tokio::net::TcpStream`"),
        "{r}"
    );
    assert!(
        r.contains("src/render/mod.rs:2: `hyper::Request::new`"),
        "{r}"
    );
    assert_eq!(f.len(), 2, "{r}");
}

#[test]
fn a_third_file_naming_a_revision_is_reported() {
    let mut tree = with(
        clean_tree(),
        "render/mod.rs",
        "// names a revision: 0001 prints no stream ids.\n\
         use crate::wire::proto::Proto;\npub fn r(p: Proto) -> bool { p == Proto::P0001 }\n",
    );
    // Two files are fine.
    assert!(check_revisions(&analyze(&tree)).is_empty());
    tree = with(
        tree,
        "session.rs",
        "// names a revision: canned media types.\npub const M: &str = \"application/mercurial-exp-framing-0006\";\n",
    );
    let f = check_revisions(&analyze(&tree));
    let r = report(&f);
    assert_eq!(f.len(), 3, "{r}");
    assert!(
        r.contains("3 files outside wire/ and reactor/ name a revision (at most 2): src/render/mod.rs, src/server/mod.rs, src/session.rs"),
        "{r}"
    );
    assert!(r.contains("src/session.rs:2:"), "{r}");
}

#[test]
fn naming_a_revision_without_saying_why_is_reported() {
    let tree = with(
        clean_tree(),
        "bin/hgframe/args.rs",
        "// Arguments.\nuse hgframe::wire::proto::Proto;\n\
         fn d() -> (Proto, &'static str) { (Proto::P0006, \"0002\") }\n\
         #[cfg(test)]\nmod tests { fn t() { let _ = \"0001\"; } }\n",
    );
    let f = check_revisions(&analyze(&tree));
    let r = report(&f);
    assert_eq!(f.len(), 2, "{r}");
    assert!(
        r.contains("src/bin/hgframe/args.rs:3: names a revision (Proto::P0006)"),
        "{r}"
    );
    assert!(
        r.contains("src/bin/hgframe/args.rs:3: names a revision (\"0002\")"),
        "{r}"
    );
}

#[test]
fn the_lexer_keeps_lines_and_drops_comments_and_literals() {
    let src = "let a = \"x // y\"; // c1\nlet b = r#\"crate::z \"q\" \"#; /* c2 /* nested */ c3 */ let l: &'a u8 = &b'\"';\n";
    let l = lex(src);
    assert_eq!(l.code.lines().count(), src.lines().count());
    assert!(!l.code.contains("crate::z"), "{}", l.code);
    assert!(
        !l.code.contains("c1") && !l.code.contains("c3"),
        "{}",
        l.code
    );
    assert!(l.code.contains("let l: &'a u8"), "{}", l.code);
    let strings: Vec<&str> = l.strings.iter().map(|(_, s)| s.as_str()).collect();
    assert_eq!(strings, ["x // y", "crate::z \"q\" "]);
    assert_eq!(l.comments.len(), 2);
}

#[test]
fn use_trees_expand() {
    let mut leaves = Vec::new();
    expand_use(
        "crate::{wire::{self, frame::Frame as F}, python::*}",
        0,
        &[],
        false,
        &mut leaves,
    );
    let got: Vec<(String, Option<String>, bool)> = leaves
        .iter()
        .map(|l| (l.segs.join("::"), l.alias.clone(), l.glob))
        .collect();
    assert_eq!(
        got,
        [
            ("crate::wire".into(), Some("wire".into()), false),
            ("crate::wire::frame::Frame".into(), Some("F".into()), false),
            ("crate::python".into(), None, true),
        ]
    );
    leaves.clear();
    expand_use("::std::fs as _", 0, &[], false, &mut leaves);
    assert!(leaves[0].global && leaves[0].alias.is_none(), "{leaves:?}");
    assert_eq!(leaves[0].segs, ["std", "fs"]);
}
