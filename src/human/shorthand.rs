//! The `cmd NAME [ARG=VALUE ...]` shorthand of replay scripts and the REPL:
//! a whole command request in the revision's layout, with the next free
//! request id and `stream-begin` set where the stream starts.

use crate::human::args::parse_arg_value;
use crate::python::value::Value;
use crate::wire::frame::Frame;
use crate::wire::proto::Proto;
use crate::wire::request::{request_frames, ClientStream};

/// Request ids and stream-begin bookkeeping across the lines of one request.
pub struct Shorthand {
    next_id: u16,
    stream: ClientStream,
}

impl Default for Shorthand {
    fn default() -> Self {
        Shorthand::new()
    }
}

impl Shorthand {
    pub fn new() -> Self {
        Shorthand {
            next_id: 1,
            stream: ClientStream::new(1),
        }
    }

    /// Note a full frame line's ids so shorthands continue after it.
    pub fn observe(&mut self, f: &Frame) {
        if f.request_id >= self.next_id {
            self.next_id = f.request_id.saturating_add(2) | 1;
        }
        if f.stream_id == 1 {
            // the stream has begun (or the user manages it)
            self.stream.mark_begun();
        }
    }

    /// `cmd NAME [ARG=VALUE ...]` (the words after `cmd`).
    pub fn expand(&mut self, proto: Proto, words: &[&str]) -> Result<Vec<Frame>, String> {
        let Some((name, args)) = words.split_first() else {
            return Err("cmd needs a command name: cmd NAME [ARG=VALUE ...]".into());
        };
        let mut pairs = Vec::new();
        for a in args {
            let (k, v) = a
                .split_once('=')
                .ok_or_else(|| format!("argument {a:?}: expected NAME=VALUE"))?;
            let val = parse_arg_value(k, v).map_err(|e| e.to_string())?;
            pairs.push((Value::bytes(k), val));
        }
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(2);
        request_frames(proto, &mut self.stream, id, name.as_bytes(), pairs)
    }
}
