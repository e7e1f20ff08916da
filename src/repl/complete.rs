//! What the REPL's line editor asks: completion candidates, the fields
//! still to type, whether a `cbor:` literal is still open. Pure functions
//! of the line and the session's revision and commands; the binary wires
//! them into rustyline.

use crate::wire::proto::Proto;

/// Meta-commands with a one-line description.
pub const META: &[(&str, &str)] = &[
    (":help", "this list"),
    (
        ":proto",
        "P: switch protocol revision (0001, 0002, 0006); resets",
    ),
    (":target", "URL|local: where frames go"),
    (":reset", "a fresh reactor (drops the current request)"),
    (
        ":eof",
        "end of input: what a half-duplex reactor releases; starts a new request",
    ),
    (
        ":defer",
        "on|off: buffer responses until :eof (half-duplex)",
    ),
    (
        ":respond",
        "ID|COMMAND TEXT: canned response (text, @FILE, cbor:LITERAL, error:TEXT)",
    ),
    (":show", "the frames of the current request, decoded"),
    (":hex", "the current request body as hex"),
    (
        ":send",
        "server target: post the queued frames to debugreflect",
    ),
    (":reflect", "same as :send"),
    (
        ":run",
        "COMMAND [NAME=VALUE ...]: run a real command on the server (as `send`)",
    ),
    (":save", "FILE: write the session as a replay script"),
    (":load", "FILE: run a script's lines here"),
    (":quit", "leave (also Ctrl-D)"),
];

/// More about a meta-command, for `:help :CMD`.
pub fn meta_help(cmd: &str) -> Option<&'static str> {
    Some(match cmd {
        ":help" => ":help lists the commands; :help :CMD (or :help CMD) explains one.",
        ":proto" => ":proto P switches the revision (hgframe --help lists them) and starts over with a fresh reactor: the current request, canned responses and deferral are dropped.",
        ":target" => ":target URL sends the frames to that server's debugreflect endpoint (the revision is detected from it, its commands complete after cmd and :run); :target local goes back to the local reactor.",
        ":reset" => ":reset drops the frames of the current request and starts a fresh reactor.",
        ":eof" => ":eof ends the request: a half-duplex reactor (:defer on) releases its buffered responses; the next frame starts a new request. On a server target it sends the request (as :send).",
        ":defer" => ":defer on|off buffers responses until :eof, as Mercurial's HTTP server does; takes effect with a fresh reactor.",
        ":respond" => ":respond ID|COMMAND RESPONSE gives a canned response for a request id or a command name: escaped text, @FILE, cbor:LITERAL (a list literal gives several objects) or error:TEXT. Takes effect for requests not yet dispatched.\n  e.g. :respond heads cbor:[[b'\\x11' * 20]]",
        ":show" => ":show prints the frames of the current request, decoded.",
        ":hex" => ":hex prints the current request body as hex (hgframe decode --hex-input reads it back).",
        ":send" | ":reflect" => ":send posts the queued frames to the server target's debugreflect endpoint as one request and shows what it did with each.",
        ":run" => ":run COMMAND [NAME=VALUE ...] runs a real command on the server target and decodes its response (as hgframe send). Values: cbor:LITERAL, hex:HEX, hexlist:HEX,HEX or text.\n  e.g. :run known nodes=hexlist:0000000000000000000000000000000000000000",
        ":save" => ":save FILE writes the session as a replay script, its expected output produced by running it (hgframe replay FILE checks it). :run calls are kept as comments: replays run debugreflect requests only.",
        ":load" => ":load FILE runs the frame lines and directives of a replay script here.",
        ":quit" => ":quit (or quit, exit, Ctrl-D) leaves.",
        _ => return None,
    })
}

/// The arguments still to give after `cmd NAME ...`, from the command's
/// declared arguments.
fn command_args_hint(proto: Proto, rest: &str) -> Option<String> {
    let mut words = rest.split(' ');
    let name = words.next()?;
    if !rest.contains(' ') {
        return None;
    }
    let def = proto.command(name.as_bytes())?;
    let given: Vec<&str> = words
        .filter_map(|w| w.split_once('=').map(|(k, _)| k))
        .collect();
    let left: Vec<String> = def
        .args
        .iter()
        .filter(|a| !given.contains(a))
        .map(|a| format!("{a}=…"))
        .collect();
    if left.is_empty() {
        return None;
    }
    let sep = if rest.ends_with(' ') { "" } else { " " };
    Some(format!("{sep}{}", left.join(" ")))
}

/// What completion needs to know about the session.
#[derive(Debug, Clone)]
pub struct Shared {
    pub proto: Proto,
    pub commands: Vec<String>,
    pub color: bool,
}

/// Where the word under the cursor starts and which field it is.
pub fn word_at(line: &str, pos: usize) -> (usize, usize) {
    let before = &line[..pos];
    let start = before.rfind(' ').map_or(0, |i| i + 1);
    let field = before[..start].matches(' ').count();
    (start, field)
}

fn pairs<'a>(items: impl IntoIterator<Item = &'a str>, prefix: &str) -> Vec<String> {
    items
        .into_iter()
        .filter(|c| c.starts_with(prefix))
        .map(str::to_string)
        .collect()
}

/// Completion candidates for a line (pure: tested directly).
pub fn complete_line(shared: &Shared, line: &str, pos: usize) -> (usize, Vec<String>) {
    let (start, field) = word_at(line, pos);
    let word = &line[start..pos];
    let proto = shared.proto;
    let t = proto.table();
    let words: Vec<&str> = line[..start].split(' ').filter(|w| !w.is_empty()).collect();
    let out = |v: Vec<String>| v;
    if field == 0 {
        if word.starts_with(':') || word.is_empty() {
            let mut v = out(pairs(META.iter().map(|(m, _)| *m), word));
            if word.is_empty() || "cmd".starts_with(word) {
                v.push("cmd".into());
            }
            if !t.has_streams {
                v.extend(out(pairs(t.types.iter().map(|d| d.name), word)));
            }
            return (start, v);
        }
        if !t.has_streams {
            let mut v = out(pairs(t.types.iter().map(|d| d.name), word));
            if "cmd".starts_with(word) {
                v.push("cmd".into());
            }
            return (start, v);
        }
        return (start, out(pairs(["cmd"], word)));
    }
    match words.first().copied() {
        Some(":proto") => return (start, out(pairs(Proto::all().map(|p| p.name()), word))),
        Some(":defer") => return (start, out(pairs(["on", "off"], word))),
        Some(":target") => return (start, out(pairs(["local", "http://127.0.0.1:8000/"], word))),
        Some(":run") if field == 1 => {
            return (
                start,
                out(pairs(shared.commands.iter().map(|s| s.as_str()), word)),
            )
        }
        Some("cmd") if field == 1 => {
            return (
                start,
                out(pairs(shared.commands.iter().map(|s| s.as_str()), word)),
            )
        }
        _ => {}
    }
    // Flag lists: complete the item after the last `|`.
    let (item_start, item) = match word.rfind('|') {
        Some(i) => (start + i + 1, &word[i + 1..]),
        None => (start, word),
    };
    let (tf, ff) = if t.has_streams { (3, 4) } else { (0, 1) };
    if t.has_streams && field == 2 {
        return (
            item_start,
            out(pairs(t.stream_flags.iter().map(|f| f.name), item)),
        );
    }
    if field == tf {
        return (start, out(pairs(t.types.iter().map(|d| d.name), word)));
    }
    if field == ff {
        let ty = words.get(tf).copied().unwrap_or("");
        let names: Vec<&str> = proto
            .type_by_name(ty)
            .or_else(|| ty.parse::<u8>().ok().and_then(|n| proto.type_def(n)))
            .map(|d| d.flags.iter().map(|f| f.name).collect())
            .unwrap_or_default();
        return (item_start, out(pairs(names, item)));
    }
    (start, Vec::new())
}

/// The fields still to type, as a hint.
pub fn hint_for(proto: Proto, line: &str) -> Option<String> {
    if line.is_empty() || line.starts_with(':') {
        if let Some(m) = META
            .iter()
            .find(|(m, _)| m.starts_with(line) && *m != line && !line.is_empty())
        {
            return Some(m.0[line.len()..].to_string());
        }
        if let Some((_, d)) = META.iter().find(|(m, _)| line.trim_end() == *m) {
            return Some(format!("  {d}"));
        }
        return None;
    }
    if line == "cmd" || line == "cmd " {
        return Some(
            if line.ends_with(' ') {
                "NAME [ARG=VALUE ...]"
            } else {
                " NAME [ARG=VALUE ...]"
            }
            .into(),
        );
    }
    if let Some(rest) = line.strip_prefix("cmd ") {
        return command_args_hint(proto, rest);
    }
    let names: &[&str] = if proto.table().has_streams {
        &[
            "<request-id>",
            "<stream-id>",
            "<stream-flags>",
            "<type>",
            "<flags>",
            "<payload>",
        ]
    } else {
        &["<type>", "<flags>", "<payload>"]
    };
    // Fields already begun; when the line ends with a space the next field
    // is still to type.
    let mut typed = line.split(' ').count();
    if line.ends_with(' ') {
        typed -= 1;
    }
    if typed >= names.len() {
        return None;
    }
    let rest = &names[typed..];
    let sep = if line.ends_with(' ') { "" } else { " " };
    Some(format!("{sep}{}", rest.join(" ")))
}

/// Whether a `cbor:` literal's brackets are still open (outside quotes).
pub fn brackets_open(line: &str) -> bool {
    let mut b = Brackets::default();
    b.feed(line);
    b.open()
}

/// [`brackets_open`] fed one continuation line at a time, so joining
/// `n` lines costs `O(n)` in all, not `O(n²)`.
#[derive(Debug, Default, Clone)]
pub struct Brackets {
    /// `cbor:` seen (brackets count from there on).
    started: bool,
    depth: i64,
    quote: Option<char>,
    escaped: bool,
}

impl Brackets {
    /// Scan more of the line (a continuation line, with its `\n`).
    pub fn feed(&mut self, text: &str) {
        let text = if self.started {
            text
        } else {
            match text.find("cbor:") {
                Some(i) => {
                    self.started = true;
                    &text[i + 5..]
                }
                None => return,
            }
        };
        for c in text.chars() {
            if let Some(q) = self.quote {
                if self.escaped {
                    self.escaped = false;
                } else if c == '\\' {
                    self.escaped = true;
                } else if c == q {
                    self.quote = None;
                }
                continue;
            }
            match c {
                '\'' | '"' => self.quote = Some(c),
                '[' | '{' | '(' => self.depth += 1,
                ']' | '}' | ')' => self.depth -= 1,
                _ => {}
            }
        }
    }

    /// Whether a bracket is still open.
    pub fn open(&self) -> bool {
        self.depth > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared(p: Proto) -> Shared {
        Shared {
            proto: p,
            commands: vec!["heads".into(), "known".into()],
            color: false,
        }
    }

    #[test]
    fn completes_by_field() {
        let s = shared(Proto::P0006);
        assert_eq!(
            complete_line(&s, "1 1 stream-begin command-re", 27).1,
            vec!["command-request", "command-response"]
        );
        assert_eq!(
            complete_line(&s, "1 1 0 command-request ne", 24).1,
            vec!["new"]
        );
        assert_eq!(
            complete_line(&s, "1 1 0 command-request new|m", 27),
            (26, vec!["more".to_string()])
        );
        assert_eq!(
            complete_line(&s, "1 1 stream-b", 12).1,
            vec!["stream-begin"]
        );
        assert_eq!(complete_line(&s, ":ta", 3).1, vec![":target"]);
        assert_eq!(complete_line(&s, "cmd he", 6).1, vec!["heads"]);
        let s1 = shared(Proto::P0001);
        assert_eq!(
            complete_line(&s1, "command-name have-a", 19).1,
            vec!["have-args"]
        );
    }

    #[test]
    fn hints_and_brackets() {
        assert_eq!(
            hint_for(Proto::P0006, "1 1 ").as_deref(),
            Some("<stream-flags> <type> <flags> <payload>")
        );
        assert_eq!(hint_for(Proto::P0006, ":sa").as_deref(), Some("ve"));
        assert_eq!(
            hint_for(Proto::P0006, "cmd known ").as_deref(),
            Some("nodes=…")
        );
        assert_eq!(
            hint_for(Proto::P0006, "cmd pushkey namespace=x").as_deref(),
            Some(" key=… old=… new=…")
        );
        assert_eq!(hint_for(Proto::P0006, "cmd known nodes=x "), None);
        assert!(
            META.iter().all(|(m, _)| meta_help(m).is_some()),
            "every command has help"
        );
        assert!(brackets_open("1 1 0 command-request new cbor:{b'name': ["));
        assert!(!brackets_open(
            "1 1 0 command-request new cbor:{b'n[ame': 1}"
        ));
    }
}
