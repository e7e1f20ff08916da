//! Replay scripts (`.hgframe` files): parsing and writing.
//!
//! A line-oriented transcript that reads like the session it came from:
//!
//! ```text
//! # comments and blank lines are kept by `replay --update`
//! proto 0006                  revision (default: inferred from the frames, else 0006)
//! target local                where it was recorded: `local` or a URL (never connected to
//!                             without --url; the command line overrides it)
//! defer on                    local reactor: buffer responses until eof (half-duplex)
//! respond 1 hello             canned response, as `reflect --respond 1=hello` (local only)
//! > 1 1 stream-begin command-request new cbor:{b'name': b'heads'}
//! < ["runcommand", {"args": {}, "command": "heads", "data": null, "redirect": null, "requestid": 1}]
//! > cmd known nodes=hexlist:00ff     shorthand: next request id, stream flags as needed
//! bin 0c00000100                raw frame bytes (hex), e.g. a truncated frame
//! eof                           end of the request body: one HTTP request, one reactor
//! < {"action": "noop"}
//! expect status 200             assertions on the step above
//! expect action noop
//! expect error "already active"
//! expect frame type=command-response flags=eos
//! ```
//!
//! `<` lines are the expected output of the step above them: for a frame,
//! the JSON line the revision's debugreflect endpoint prints for it; for
//! `eof`, the final JSON object; frames a local reactor sends (canned
//! responses) as `sent: <human string>`; a request the server answers with
//! an HTTP error as `status N` at its `eof`. A line ending in ` (glob)`
//! matches with `*` and `?`; one ending in ` (re)` is a regular expression
//! (whole line), as in Mercurial's `.t` tests.

use std::io::BufRead;

use crate::human::lines;

/// One parsed line of a script.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// Comment or blank line (kept verbatim).
    Comment(String),
    Proto(String),
    /// `hg VERSION [VERSION ...]`: the releases whose answers the
    /// expectations are (revision and flavour, as `--hg`; the first is used
    /// locally).
    Hg(String),
    Target(String),
    Defer(bool),
    /// `respond KEY RESPONSE`
    Respond(String, String),
    /// `> FRAME` (human string or shorthand).
    Frame(String),
    /// `bin HEX`
    Bin(String),
    Eof,
    /// `< LINE`
    Expect(String),
    /// `expect …`
    Assert(Assertion),
}

/// Inline assertions.
#[derive(Debug, Clone, PartialEq)]
pub enum Assertion {
    Action(String),
    Error(String),
    Status(u16),
    Frame(Vec<(String, String)>),
}

/// A located line.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub number: usize,
    pub text: String,
    pub item: Item,
}

/// A script line that cannot be parsed (or read).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}{}{help}", quoted(text, caret))]
pub struct ScriptError {
    pub file: String,
    pub line: usize,
    pub text: String,
    pub caret: String,
    pub message: String,
    pub help: String,
}

/// The quoted line and its caret, when there is a line to quote (a window
/// around the caret when the line is long).
fn quoted(text: &str, caret: &str) -> String {
    if text.is_empty() && caret.is_empty() {
        return String::new();
    }
    let col = caret.chars().take_while(|c| *c == ' ').count();
    let width = caret.chars().skip(col).take_while(|c| *c == '^').count();
    format!("\n{}", crate::human::quote(text, col, width))
}

#[allow(clippy::too_many_arguments)]
fn err(
    file: &str,
    number: usize,
    text: &str,
    col: usize,
    width: usize,
    message: String,
    help: &str,
) -> ScriptError {
    ScriptError {
        file: file.to_string(),
        line: number,
        text: text.to_string(),
        caret: format!("{}{}", " ".repeat(col), "^".repeat(width.max(1))),
        message,
        help: if help.is_empty() {
            String::new()
        } else {
            format!("\n  = {help}")
        },
    }
}

const KEYWORDS: &str = "`> FRAME`, `< EXPECTED`, `bin HEX`, `eof`, `proto P`, `hg VERSION...`, `target URL|local`, `defer on|off`, `respond KEY RESPONSE`, `expect action|error|status|frame ...`, `# comment`";

/// Parse one line.
#[allow(clippy::result_large_err)] // errors are rare and carry the whole context
pub fn parse_line(file: &str, number: usize, text: &str) -> Result<Line, ScriptError> {
    let t = text.trim_end_matches(['\r', '\n']);
    let trimmed = t.trim_start();
    let item = if trimmed.is_empty() || trimmed.starts_with('#') {
        Item::Comment(t.to_string())
    } else if let Some(rest) = t.strip_prefix("> ") {
        Item::Frame(rest.to_string())
    } else if t == ">" {
        return Err(err(
            file,
            number,
            t,
            1,
            1,
            "a frame line needs a frame after `> `".into(),
            "e.g. > 1 1 stream-begin command-request new cbor:{b'name': b'heads'}",
        ));
    } else if let Some(rest) = t.strip_prefix("< ") {
        Item::Expect(rest.to_string())
    } else if t == "<" {
        Item::Expect(String::new())
    } else {
        let (word, rest) = match trimmed.split_once(' ') {
            Some((w, r)) => (w, r.trim()),
            None => (trimmed, ""),
        };
        let col = t.len() - trimmed.len();
        let rest_col = t.len() - rest.len();
        match word {
            "eof" if rest.is_empty() => Item::Eof,
            "proto" => {
                if let Err(e) = rest.parse::<crate::wire::proto::Proto>() {
                    return Err(err(file, number, t, rest_col, rest.len(), format!("unknown protocol revision {rest:?}"), &e));
                }
                Item::Proto(rest.to_string())
            }
            "hg" => {
                if rest.is_empty() {
                    return Err(err(file, number, t, rest_col, 1, "hg needs a release".into(), "e.g. hg 4.7.2, hg 4.8 5.0-py2, hg 6.0"));
                }
                let mut first: Option<crate::wire::proto::Proto> = None;
                let mut col = rest_col;
                for v in rest.split(' ') {
                    match crate::wire::proto::release(v) {
                        Ok(sel) => {
                            if first.is_some_and(|f| !f.same_revision(sel.proto)) {
                                return Err(err(file, number, t, col, v.len().max(1), format!("Mercurial {v} speaks another revision than the first release named"), "name releases of one revision"));
                            }
                            first.get_or_insert(sel.proto);
                        }
                        Err(e) => return Err(err(file, number, t, col, v.len().max(1), e.to_string(), "e.g. hg 4.7.2, hg 4.8 5.0-py2, hg 6.0")),
                    }
                    col += v.len() + 1;
                }
                Item::Hg(rest.to_string())
            }
            "target" if !rest.is_empty() => Item::Target(rest.to_string()),
            "defer" => match rest {
                "on" => Item::Defer(true),
                "off" => Item::Defer(false),
                _ => return Err(err(file, number, t, rest_col, rest.len(), format!("defer takes on or off, not {rest:?}"), "")),
            },
            "respond" => match rest.split_once(' ') {
                Some((k, v)) => Item::Respond(k.to_string(), v.to_string()),
                None => return Err(err(file, number, t, rest_col, rest.len(), "respond needs KEY RESPONSE".into(), "e.g. respond 1 hello, respond heads cbor:[[b'\\x00' * 20]] is not a literal; use respond 1 cbor:[b'x']")),
            },
            "bin" => {
                if let Err(e) = crate::python::escape::unhex(rest) {
                    return Err(err(file, number, t, rest_col, rest.len(), format!("bad hex: {e}"), ""));
                }
                Item::Bin(rest.to_string())
            }
            "expect" => Item::Assert(parse_assertion(file, number, t, rest, rest_col)?),
            _ => {
                let help = match word {
                    w if w.chars().next().is_some_and(|c| c.is_ascii_digit()) || w.starts_with("command-") => {
                        "frame lines start with `> ` (e.g. `> 1 1 stream-begin command-request new ...`)".to_string()
                    }
                    _ => format!("a line is one of: {KEYWORDS}"),
                };
                return Err(err(file, number, t, col, word.len(), format!("unknown script line `{word}`"), &help));
            }
        }
    };
    Ok(Line {
        number,
        text: t.to_string(),
        item,
    })
}

#[allow(clippy::result_large_err)]
fn parse_assertion(
    file: &str,
    number: usize,
    t: &str,
    rest: &str,
    col: usize,
) -> Result<Assertion, ScriptError> {
    let (kind, arg) = match rest.split_once(' ') {
        Some((k, a)) => (k, a.trim()),
        None => (rest, ""),
    };
    let arg_col = col + rest.len() - arg.len();
    Ok(match kind {
        "action" if !arg.is_empty() => Assertion::Action(arg.to_string()),
        "error" => match arg.strip_prefix('"').and_then(|a| a.strip_suffix('"')) {
            // quoted: \" and \\ are escapes
            Some(q) => Assertion::Error(unescape_quoted(q)),
            None => Assertion::Error(arg.to_string()),
        },
        "status" => match arg.parse() {
            Ok(n) => Assertion::Status(n),
            Err(_) => return Err(err(file, number, t, arg_col, arg.len(), format!("expect status takes an HTTP status code, not {arg:?}"), "")),
        },
        "frame" => {
            let mut kv = Vec::new();
            for part in arg.split_whitespace() {
                match part.split_once('=') {
                    Some((k, v)) if matches!(k, "type" | "flags" | "stream-flags" | "request" | "stream" | "payload") => {
                        kv.push((k.to_string(), v.to_string()))
                    }
                    _ => return Err(err(file, number, t, arg_col, arg.len(), format!("bad frame condition {part:?}"), "expected KEY=VALUE with KEY one of type, flags, stream-flags, request, stream, payload")),
                }
            }
            Assertion::Frame(kv)
        }
        _ => return Err(err(file, number, t, col, kind.len(), format!("unknown assertion `expect {kind}`"), "expect action NAME | expect error \"TEXT\" | expect status CODE | expect frame KEY=VALUE ...")),
    })
}

/// Stream the lines of a script.
#[allow(clippy::result_large_err)]
pub fn read_lines<R: BufRead>(
    file: String,
    r: R,
) -> impl Iterator<Item = Result<Line, ScriptError>> {
    let mut number = 0;
    let mut r = r;
    let mut buf = Vec::new();
    std::iter::from_fn(move || {
        number += 1;
        let read = lines::read_line(&mut r, &mut buf, lines::MAX_LINE)
            .and_then(|more| Ok(more.then_some(lines::text_of(&buf)?)));
        match read {
            Ok(None) => None,
            Ok(Some(text)) => Some(parse_line(&file, number, text)),
            Err(e) => Some(Err(ScriptError {
                file: file.clone(),
                line: number,
                text: String::new(),
                caret: String::new(),
                message: e.to_string(),
                help: String::new(),
            })),
        }
    })
}

/// Does an actual output line match an expected one (exact, glob, re)?
pub fn line_matches(expected: &str, actual: &str) -> bool {
    if expected == actual {
        return true;
    }
    if let Some(g) = expected.strip_suffix(" (glob)") {
        return glob_match(g.as_bytes(), actual.as_bytes());
    }
    if let Some(r) = expected.strip_suffix(" (re)") {
        return regex::Regex::new(&format!("^(?:{r})$")).is_ok_and(|re| re.is_match(actual));
    }
    false
}

/// `*` any run, `?` any one character, `\*` `\?` literal.
fn glob_match(p: &[u8], s: &[u8]) -> bool {
    let (mut pi, mut si) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while si < s.len() {
        if pi < p.len() && p[pi] == b'\\' && pi + 1 < p.len() && p[pi + 1] == s[si] {
            pi += 2;
            si += 1;
        } else if pi < p.len()
            && (p[pi] == b'?' || (p[pi] == s[si] && p[pi] != b'*' && p[pi] != b'\\'))
        {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = si;
            pi += 1;
        } else if let Some(sp) = star {
            pi = sp + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

/// The text of a quoted `expect error "…"`: `\"` is `"`, `\\` is `\`, any
/// other backslash stays as it is.
fn unescape_quoted(q: &str) -> String {
    let mut out = String::with_capacity(q.len());
    let mut chars = q.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(&n) = chars.peek() {
                if n == '"' || n == '\\' {
                    out.push(n);
                    chars.next();
                    continue;
                }
            }
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `transcript` fuzz target: `replay --update` wrote an
    /// `expect error` text back quoted but unescaped, so `a\"b` came back
    /// as `a"b`. Every text now survives being written and read back.
    #[test]
    fn error_assertions_survive_update() {
        for text in [
            r#"a\"b"#,
            r#"a"b"#,
            r"back\slash",
            r"end\",
            r#"\\""#,
            "plain",
            "",
        ] {
            for line in [
                format!("expect error {text}"),
                format!("expect error \"{text}\""),
            ] {
                let Ok(Line {
                    item: Item::Assert(a),
                    ..
                }) = parse_line("f", 1, &line)
                else {
                    continue;
                };
                let written = crate::replay::check::assert_text(&a);
                let back = parse_line("f", 1, &written).unwrap().item;
                assert_eq!(back, Item::Assert(a.clone()), "{line} -> {written}");
            }
        }
    }

    #[test]
    fn parses_lines() {
        assert_eq!(parse_line("f", 1, "eof").unwrap().item, Item::Eof);
        assert_eq!(
            parse_line("f", 1, "> x y").unwrap().item,
            Item::Frame("x y".into())
        );
        assert_eq!(
            parse_line("f", 1, "< ").unwrap().item,
            Item::Expect("".into())
        );
        assert_eq!(
            parse_line("f", 1, "expect error \"already active\"")
                .unwrap()
                .item,
            Item::Assert(Assertion::Error("already active".into()))
        );
        let e = parse_line("t.hgframe", 3, "1 1 0 command-request new x").unwrap_err();
        assert!(
            e.to_string()
                .contains("t.hgframe:3: unknown script line `1`"),
            "{e}"
        );
        assert!(e.to_string().contains("start with `> `"), "{e}");
        assert!(parse_line("f", 1, "proto 0003").is_err());
        assert!(parse_line("f", 1, "expect status abc").is_err());
    }

    #[test]
    fn globs_and_res() {
        assert!(line_matches("a * c (glob)", "a bbb c"));
        assert!(line_matches("a?c (glob)", "abc"));
        assert!(!line_matches("a?c (glob)", "abbc"));
        assert!(line_matches("[0-9]+ (re)", "123"));
        assert!(!line_matches("[0-9]+ (re)", "12a"));
        assert!(line_matches("x", "x"));
    }
}
