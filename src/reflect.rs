//! The `debugreflect` endpoint's body, both ways.
//!
//! [`ReflectBody`] turns [`Step`]s into exactly the body a revision's
//! `debugreflect` endpoint returns (`received: …` lines and one JSON line
//! per action with that revision's JSON rules), or the reason the server
//! answers HTTP 500 instead.

use crate::python::json::{self, JsonError};
use crate::python::value::Value;
use crate::reactor::{Action, Consumed, ReactorOptions, ServerCrash, State};
use crate::session::{Responder, Session, Step};
use crate::wire::frame::{DecodeError, Frame, Located};
use crate::wire::proto::Proto;

/// Why a debugreflect request gets HTTP 500 instead of a body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Http500 {
    #[error("{0}")]
    Crash(ServerCrash),
    #[error("a Mercurial server answers HTTP 500 here: it cannot read the request body: {}", .0)]
    Undecodable(DecodeError),
    #[error("a Mercurial server answers HTTP 500 here: its JSON encoder raises: {0}")]
    Json(JsonError),
}

impl Http500 {
    /// The exception as Mercurial's error log shows it.
    pub fn exception(&self) -> String {
        match self {
            Http500::Crash(c) => c.exception.clone(),
            Http500::Undecodable(DecodeError::TruncatedHeader { got, hex, .. }) => {
                format!("Abort: received incomplete frame: got {got} bytes (then the {} bytes themselves)", hex.len() / 2)
            }
            Http500::Undecodable(DecodeError::TruncatedPayload { want, got, .. }) => {
                format!("Abort: frame length error: expected {want}; got {got}")
            }
            Http500::Json(e) => format!("{e}"),
        }
    }
}

/// Builds the exact debugreflect response body from steps. The body must
/// be held whole (a later crash means no body at all, only the 500), but
/// it is held once: in blocks of about [`BLOCK`] bytes, so growing it
/// never copies it and never reserves twice its size.
pub struct ReflectBody {
    proto: Proto,
    blocks: Vec<Vec<u8>>,
    /// The bytes in every block but the last.
    sealed: usize,
    /// Lines so far (the first has no `\n` before it).
    lines: usize,
    failed: Option<Http500>,
}

/// The size a body block is filled to before the next one starts.
const BLOCK: usize = 1 << 20;

impl ReflectBody {
    pub fn new(proto: Proto) -> Self {
        ReflectBody {
            proto,
            blocks: Vec::new(),
            sealed: 0,
            lines: 0,
            failed: None,
        }
    }

    /// Start a line (in a new block when the last one is full).
    fn line(&mut self) -> &mut Vec<u8> {
        let first = self.lines == 0;
        self.lines += 1;
        if self.blocks.last().is_none_or(|b| b.len() >= BLOCK) {
            self.sealed += self.blocks.last().map_or(0, Vec::len);
            self.blocks.push(Vec::with_capacity(BLOCK + BLOCK / 8));
        }
        let out = self.blocks.last_mut().expect("a block was just pushed");
        if !first {
            out.push(b'\n');
        }
        out
    }

    /// A line of JSON; on an error the answer is a 500 (and the body,
    /// half-written line included, is never used).
    fn json_line(&mut self, v: &Value) {
        let flavor = self.proto.json();
        let depth = self.proto.flavor().json_depth;
        let out = self.line();
        if let Err(e) = json::to_json_within_into(flavor, depth, v, out) {
            self.failed.get_or_insert(Http500::Json(e));
        }
    }

    /// Add one step.
    pub fn push(&mut self, step: &Step) {
        if self.failed.is_some() {
            return;
        }
        match step {
            Step::Frame { frame, outcome, .. } => {
                let f = &frame.frame;
                let streams = self.proto.table().has_streams;
                let out = self.line();
                out.extend_from_slice(b"received: ");
                push_num(out, f.type_id as u64);
                out.push(b' ');
                push_num(out, f.flags as u64);
                out.push(b' ');
                if streams {
                    push_num(out, f.request_id as u64);
                    out.push(b' ');
                }
                out.extend_from_slice(&f.payload);
                match outcome {
                    Ok(a) => self.json_line(&a.as_tuple()),
                    Err(c) => self.failed = Some(Http500::Crash(c.clone())),
                }
            }
            Step::Response { outcome, sent, .. } => {
                // Not part of debugreflect (it never answers commands): shown
                // as the action tuple so a session with --respond stays readable.
                match outcome {
                    Ok(a) => self.json_line(&a.as_tuple()),
                    Err(c) => self.failed = Some(Http500::Crash(c.clone())),
                }
                self.push_sent(sent);
            }
            Step::Undecodable(e) => self.failed = Some(Http500::Undecodable(e.clone())),
            Step::Eof { outcome, sent } => {
                self.line().extend_from_slice(b"received: <no frame>");
                match outcome {
                    Ok(a) => {
                        let mut meta = a.meta();
                        if let Value::Dict(d) = &mut meta {
                            crate::python::value::dict_insert(
                                d,
                                Value::bytes("action"),
                                Value::bytes(a.name()),
                            );
                        }
                        self.json_line(&meta);
                    }
                    Err(c) => self.failed = Some(Http500::Crash(c.clone())),
                }
                self.push_sent(sent);
            }
        }
    }

    fn push_sent(&mut self, sent: &Option<Consumed>) {
        if let Some(c) = sent {
            for f in &c.frames {
                let text = crate::human::to_human(self.proto, f);
                let out = self.line();
                out.extend_from_slice(b"sent: ");
                out.extend_from_slice(text.as_bytes());
            }
            if let Some(crash) = &c.crash {
                self.failed = Some(Http500::Crash(crash.clone()));
            }
        }
    }

    /// Whether the server has raised (the answer is a 500 from here on).
    /// The bytes of the body so far.
    pub fn len(&self) -> usize {
        self.sealed + self.blocks.last().map_or(0, Vec::len)
    }

    /// The full blocks (every block but the one being filled), to move
    /// elsewhere before [`forget_sealed`](ReflectBody::forget_sealed).
    pub fn sealed_blocks(&self) -> &[Vec<u8>] {
        &self.blocks[..self.blocks.len().saturating_sub(1)]
    }

    /// Drop the first `n` sealed blocks (their bytes are held elsewhere):
    /// [`len`](ReflectBody::len) still counts them, and
    /// [`finish_blocks`](ReflectBody::finish_blocks) returns only the
    /// blocks after them.
    pub fn forget_sealed(&mut self, n: usize) {
        let n = n.min(self.blocks.len().saturating_sub(1));
        self.blocks.drain(..n);
    }

    /// Whether nothing was written yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn failed(&self) -> bool {
        self.failed.is_some()
    }

    /// The body (lines joined by `\n`, no trailing newline) or the 500.
    pub fn finish(self) -> Result<Vec<u8>, Http500> {
        self.finish_blocks().map(|b| b.concat())
    }

    /// The body in blocks, to write out without joining them, or the 500.
    pub fn finish_blocks(self) -> Result<Vec<Vec<u8>>, Http500> {
        if let Some(f) = self.failed {
            return Err(f);
        }
        Ok(self.blocks)
    }
}

/// A number in decimal, without `fmt`.
fn push_num(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// The debugreflect body a server of this revision returns for `body`
/// (raw request bytes), or why it answers 500.
pub fn reflect_bytes(proto: Proto, body: &[u8]) -> Result<Vec<u8>, Http500> {
    reflect_blocks_until(proto, body.to_vec(), ReactorOptions::default(), |_| false)
        .map(|b| b.map(|b| b.concat()).unwrap_or_default())
}

/// [`reflect_bytes`] in blocks (see [`ReflectBody::finish_blocks`]),
/// asking `stop` between frames, with the size of the body built so far,
/// whether to give up (`Ok(None)`: the server's client has gone, or the
/// answer would pass the memory the server allows it).
pub fn reflect_blocks_until(
    proto: Proto,
    body: Vec<u8>,
    opts: ReactorOptions,
    mut stop: impl FnMut(usize) -> bool,
) -> Result<Option<Vec<Vec<u8>>>, Http500> {
    let mut out = ReflectBody::new(proto);
    let mut s = Session::new(proto, opts, Responder::default());
    s.push_owned(body);
    s.finish_input();
    // Once the server has raised, nothing after it reaches the client.
    while let Some(st) = s.poll() {
        if stop(out.len()) {
            return Ok(None);
        }
        out.push(&st);
        if out.failed() {
            break;
        }
    }
    if !out.failed() && stop(out.len()) {
        return Ok(None);
    }
    out.finish_blocks().map(Some)
}

/// One frame of a server's debugreflect body, parsed back.
#[derive(Debug)]
pub struct RemoteStep {
    pub frame: Located<Frame>,
    /// The `[action, meta]` JSON line as an action, or why it could not be read.
    pub action: Result<Action, String>,
    /// The JSON line as the server wrote it.
    pub raw: Vec<u8>,
}

/// A server's debugreflect body, parsed with the help of the frames sent.
#[derive(Debug, Default)]
pub struct RemoteReflect {
    pub steps: Vec<RemoteStep>,
    /// The final `{..., "action": ...}` object.
    pub eof: Option<Result<Action, String>>,
    /// The final line as the server wrote it.
    pub eof_raw: Vec<u8>,
    /// Where the body did not have the expected shape.
    pub problems: Vec<String>,
}

/// Parse a debugreflect body. `received:` lines carry raw payloads that may
/// contain newlines, so the body cannot be split on `\n`; instead each
/// `received:` line is matched against the frame the server read (the
/// frames of the request, decoded with Mercurial's length arithmetic).
pub fn parse_reflect_body(proto: Proto, frames: &[Located<Frame>], body: &[u8]) -> RemoteReflect {
    let mut out = RemoteReflect::default();
    let mut pos = 0usize;
    let raw_line = |pos: &mut usize| -> Vec<u8> {
        let rest = &body[*pos..];
        let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
        *pos += end + (end < rest.len()) as usize;
        rest[..end].to_vec()
    };
    let parse = |line: &[u8]| -> Result<Value, String> {
        json::parse_reflect_json(line).map_err(|e| {
            format!(
                "not JSON ({e}): {}",
                crate::python::escape::escape_bytes(line)
            )
        })
    };
    for f in frames {
        let fr = &f.frame;
        let mut want = if proto.table().has_streams {
            format!("received: {} {} {} ", fr.type_id, fr.flags, fr.request_id).into_bytes()
        } else {
            format!("received: {} {} ", fr.type_id, fr.flags).into_bytes()
        };
        want.extend_from_slice(&fr.payload);
        want.push(b'\n');
        if !body[pos..].starts_with(&want) {
            out.problems.push(format!(
                "at body byte {pos}: expected the line for the frame at request offset {} (`{}`), found `{}`",
                f.offset,
                crate::python::escape::escape_bytes(&want[..want.len().min(60)]),
                crate::python::escape::escape_bytes(&body[pos..(pos + 60).min(body.len())])
            ));
            return out;
        }
        pos += want.len();
        let raw = raw_line(&mut pos);
        let action = parse(&raw).and_then(|v| match v {
            Value::List(mut l) if l.len() == 2 => {
                let meta = l.pop().unwrap_or(Value::None);
                let name = l.pop().unwrap_or(Value::None);
                action_from_meta(&name, &meta)
            }
            other => Err(format!("expected [action, meta], got {other:?}")),
        });
        out.steps.push(RemoteStep {
            frame: f.clone(),
            action,
            raw,
        });
    }
    let end = b"received: <no frame>\n";
    if body[pos..].starts_with(end) {
        pos += end.len();
        let raw = raw_line(&mut pos);
        out.eof = Some(parse(&raw).and_then(|meta| {
            let name = match &meta {
                Value::Dict(d) => {
                    crate::python::value::dict_get(d, &Value::bytes("action")).cloned()
                }
                _ => None,
            };
            action_from_meta(&name.unwrap_or(Value::None), &meta)
        }));
        out.eof_raw = raw;
        if pos < body.len() {
            out.problems.push(format!(
                "{} unexpected bytes after the final line",
                body.len() - pos
            ));
        }
    } else {
        out.problems.push(format!(
            "at body byte {pos}: expected `received: <no frame>`, found `{}`",
            crate::python::escape::escape_bytes(&body[pos..(pos + 60).min(body.len())])
        ));
    }
    out
}

/// Rebuild an action from its name and meta as a server rendered them.
pub fn action_from_meta(name: &Value, meta: &Value) -> Result<Action, String> {
    let get = |k: &str| match meta {
        Value::Dict(d) => crate::python::value::dict_get(d, &Value::bytes(k)).cloned(),
        _ => None,
    };
    let name = name.as_bytes().ok_or("action name is not a string")?;
    Ok(match name {
        b"wantframe" => {
            let st = get("state")
                .and_then(|s| s.as_bytes().map(|b| b.to_vec()))
                .unwrap_or_default();
            let state = State::from_name(&st).ok_or_else(|| {
                format!("unknown wantframe state {:?}", String::from_utf8_lossy(&st))
            })?;
            Action::WantFrame { state }
        }
        b"error" => Action::Error {
            message: get("message")
                .and_then(|m| m.as_bytes().map(|b| b.to_vec()))
                .unwrap_or_default(),
        },
        b"noop" => Action::Noop,
        b"runcommand" => Action::RunCommand(crate::reactor::RunCommand {
            request_id: get("requestid").and_then(|v| match v {
                Value::Int(i) => u16::try_from(i).ok(),
                _ => None,
            }),
            command: get("command").unwrap_or(Value::None),
            args: get("args").unwrap_or(Value::None),
            data: get("data").and_then(|d| d.as_bytes().map(|b| b.to_vec())),
            redirect: get("redirect"),
        }),
        other => {
            return Err(format!(
                "unknown action {:?}",
                String::from_utf8_lossy(other)
            ))
        }
    })
}

/// The frames of a request body as a Mercurial server reads them (with
/// its length arithmetic), up to the first undecodable byte.
pub fn request_frames(proto: Proto, body: &[u8]) -> Vec<Located<Frame>> {
    crate::wire::frame::SliceDecoder::new(proto, crate::wire::frame::LengthMode::Mercurial, body)
        .map_while(|r| r.ok())
        .map(|l| Located {
            offset: l.offset,
            header: l.header,
            frame: l.frame.to_owned(),
        })
        .collect()
}

/// Whether a server's whole debugreflect body equals the local one except
/// for the order of CBOR sets' members ([`same_up_to_set_order`] line by
/// line, the lines found with the frames of the request).
pub fn same_but_set_order(proto: Proto, request: &[u8], local: &[u8], server: &[u8]) -> bool {
    let (frame_values, eof) = line_values(proto, request);
    let Some(eof) = eof else {
        return false;
    };
    let frames = request_frames(proto, request);
    let (l, s) = (
        parse_reflect_body(proto, &frames, local),
        parse_reflect_body(proto, &frames, server),
    );
    if !l.problems.is_empty() || !s.problems.is_empty() || l.steps.len() != frame_values.len() {
        return false;
    }
    let pairs = l.steps.iter().zip(&s.steps).map(|(a, b)| (&a.raw, &b.raw));
    frame_values
        .iter()
        .zip(pairs)
        .all(|(shape, (a, b))| same_up_to_set_order(shape, a, b))
        && same_up_to_set_order(&eof, &l.eof_raw, &s.eof_raw)
}

/// The Python values behind the JSON lines a debugreflect endpoint prints
/// for `body` (as the local reactor computes them): one per frame, then
/// the end of input. Compare lines with [`same_up_to_set_order`].
pub fn line_values(proto: Proto, body: &[u8]) -> (Vec<Value>, Option<Value>) {
    let mut s = Session::new(proto, ReactorOptions::default(), Responder::default());
    s.push_bytes(body);
    s.finish_input();
    let mut frames = Vec::new();
    while let Some(step) = s.poll() {
        match step {
            Step::Frame { outcome: Ok(a), .. } => frames.push(a.as_tuple()),
            Step::Eof { outcome: Ok(a), .. } => return (frames, Some(eof_meta(&a))),
            _ => break,
        }
    }
    (frames, None)
}

/// The end-of-input line's value: the action's meta with its name.
pub fn eof_meta(a: &Action) -> Value {
    let mut meta = a.meta();
    if let Value::Dict(d) = &mut meta {
        d.retain(|(k, _)| k.as_bytes() != Some(b"framegen"));
        crate::python::value::dict_insert(d, Value::bytes("action"), Value::bytes(a.name()));
    }
    meta
}

/// Whether two debugreflect JSON lines say the same thing, reading the
/// members of every set in `shape` (what the local reactor returns for the
/// step, sets included) in any order: a Python server renders a set in its
/// iteration order, which depends on the process's hash seed.
pub fn same_up_to_set_order(shape: &Value, a: &[u8], b: &[u8]) -> bool {
    if a == b {
        return true;
    }
    match (json::parse_reflect_json(a), json::parse_reflect_json(b)) {
        (Ok(x), Ok(y)) => equal_with_sets(shape, &x, &y),
        _ => false,
    }
}

/// `x == y`, where a set in `shape` lets the lists at its place differ in
/// order. `shape` is the Python value; `x`, `y` its JSON, parsed back.
fn equal_with_sets(shape: &Value, x: &Value, y: &Value) -> bool {
    match (shape, x, y) {
        (Value::Set(_), Value::List(a), Value::List(b)) => {
            if a.len() != b.len() {
                return false;
            }
            let mut used = vec![false; b.len()];
            a.iter().all(|m| {
                let found = b
                    .iter()
                    .enumerate()
                    .find(|(i, n)| !used[*i] && m.py_eq(n))
                    .map(|(i, _)| i);
                match found {
                    Some(i) => {
                        used[i] = true;
                        true
                    }
                    None => false,
                }
            })
        }
        (Value::List(s) | Value::Tuple(s), Value::List(a), Value::List(b)) => {
            a.len() == b.len()
                && s.len() == a.len()
                && s.iter()
                    .zip(a.iter().zip(b))
                    .all(|(s, (a, b))| equal_with_sets(s, a, b))
        }
        (Value::Dict(s), Value::Dict(a), Value::Dict(b)) => {
            a.len() == b.len()
                && a.iter().all(|(k, av)| {
                    let Some(bv) = crate::python::value::dict_get(b, k) else {
                        return false;
                    };
                    // JSON keys are the dict's keys as text: find the shape's
                    // entry by its text.
                    let sv = s
                        .iter()
                        .find(|(sk, _)| sk.as_bytes() == k.as_bytes())
                        .map(|(_, v)| v);
                    match sv {
                        Some(sv) => equal_with_sets(sv, av, bv),
                        None => av == bv,
                    }
                })
        }
        _ => x == y,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_bodies_compare_sets_unordered() {
        let p = Proto::P0006;
        let f = crate::human::parse_human(
            p,
            "1 1 stream-begin command-request new cbor:{b'name': b'x', b'args': {b'a': {b'p', b'q'}}}",
        )
        .unwrap()
        .frame;
        let body = f.encode(p).unwrap();
        let local = reflect_bytes(p, &body).unwrap();
        let replace = |b: &[u8], from: &[u8], to: &[u8]| -> Vec<u8> {
            let i = b.windows(from.len()).position(|w| w == from).unwrap();
            [&b[..i], to, &b[i + from.len()..]].concat()
        };
        let swapped = replace(&local, b"[\"p\", \"q\"]", b"[\"q\", \"p\"]");
        assert_ne!(swapped, local);
        assert!(same_but_set_order(p, &body, &local, &swapped));
        let other = replace(&swapped, b"[\"q\", \"p\"]", b"[\"r\", \"p\"]");
        assert!(!same_but_set_order(p, &body, &local, &other));
    }

    #[test]
    fn set_members_compare_in_any_order() {
        let shape = Value::Tuple(vec![
            Value::bytes("runcommand"),
            Value::dict([(
                "args",
                Value::dict([
                    (
                        "fields",
                        Value::Set(vec![Value::bytes("a"), Value::bytes("b")]),
                    ),
                    (
                        "list",
                        Value::List(vec![Value::bytes("a"), Value::bytes("b")]),
                    ),
                ]),
            )]),
        ]);
        let a = br#"["runcommand", {"args": {"fields": ["a", "b"], "list": ["a", "b"]}}]"#;
        let b = br#"["runcommand", {"args": {"fields": ["b", "a"], "list": ["a", "b"]}}]"#;
        let c = br#"["runcommand", {"args": {"fields": ["a", "b"], "list": ["b", "a"]}}]"#;
        let d = br#"["runcommand", {"args": {"fields": ["a", "a"], "list": ["a", "b"]}}]"#;
        assert!(same_up_to_set_order(&shape, a, b), "a set's order is free");
        assert!(!same_up_to_set_order(&shape, a, c), "a list's order is not");
        assert!(
            !same_up_to_set_order(&shape, a, d),
            "the members must be the same"
        );
    }
}
