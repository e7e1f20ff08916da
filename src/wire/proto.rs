//! Protocol revisions as data.
//!
//! Each revision of the frame-based protocol hgframe speaks is one static
//! [`ProtoTable`]: header layout, frame type ids and names, the flag names
//! valid for each type, the stream flag names, the media type and the HTTP
//! API name. Everything else (codec, parser, renderers, CLI) asks the table;
//! adding a revision means adding a table here (and, if its server rules
//! differ, a reactor), never an `if` in a renderer.

use std::fmt;
use std::str::FromStr;

use crate::python::json::JsonFlavor;
use crate::wire::ids::{STREAM_BEGIN, STREAM_ENCODED, STREAM_END};

/// One named bit (or value) in a flag set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlagName {
    pub name: &'static str,
    pub value: u8,
}

/// One frame type of a revision, with the flag names valid for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypeDef {
    pub id: u8,
    pub name: &'static str,
    /// Which side of an exchange sends frames of this type.
    pub sender: Sender,
    pub flags: &'static [FlagName],
}

/// The side of an exchange that sends a frame type: the client (in a
/// request body) or the server (in a response body).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    Client,
    Server,
}

/// How the text after `cbor:` is treated by a revision's human-string helper.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadSyntax {
    /// Python `string_escape` / `escape_decode` only (the 2018 snapshots).
    Escaped,
    /// Escaped, or `cbor:<python literal>` (Mercurial 4.6+).
    EscapedOrCbor,
}

/// Which server reactor implements the revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReactorKind {
    /// The seed `000`: 4-byte header, one command at a time.
    V0001,
    /// The streams snapshot: request ids, streams, argument frames.
    V0002,
    /// Mercurial 4.8 .. 6.0: CBOR command requests, sender settings.
    V0006,
}

/// How a client lays a command request out in frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestLayout {
    /// A `command-name` frame, then one `command-argument` frame per
    /// argument (`<u16 name len><u16 value len><name><value>`), then data.
    NameAndArguments,
    /// One CBOR map `{name, args?, redirect?}` split over `command-request`
    /// frames, then `command-data` frames (`createcommandframes`).
    CborMap,
}

/// Everything hgframe knows about one protocol revision.
#[derive(Debug, PartialEq, Eq)]
pub struct ProtoTable {
    /// Short name used on the command line: `0001`, `0002`, `0006`.
    pub name: &'static str,
    /// Where it comes from, for help and verbose output.
    pub origin: &'static str,
    /// The Mercurial releases that speak it (`None`: never released).
    pub releases: Option<&'static str>,
    /// Frame header size in bytes (4 or 8).
    pub header_size: usize,
    /// Whether the header carries request id, stream id and stream flags.
    pub has_streams: bool,
    pub types: &'static [TypeDef],
    pub stream_flags: &'static [FlagName],
    pub media_type: &'static str,
    pub api_name: &'static str,
    pub payload_syntax: PayloadSyntax,
    pub json: JsonFlavor,
    pub reactor: ReactorKind,
    /// Python 3's `int()` accepts `1_000`; Python 2's does not.
    pub int_underscores: bool,
    /// A complete single-frame `heads` request in human-string syntax
    /// (what `doctor` reflects to check an endpoint).
    pub sample_request: &'static str,
    /// How its clients frame a command request.
    pub requests: RequestLayout,
    /// The commands its server dispatches (besides the URL-only
    /// `debugreflect` and `multirequest`).
    pub commands: &'static [CommandDef],
}

/// What a Mercurial command needs from the URL's permission (`ro`/`rw`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    Pull,
    Push,
}

/// A wire protocol command a revision's server dispatches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandDef {
    pub name: &'static str,
    pub permission: Permission,
    /// The argument names it declares.
    pub args: &'static [&'static str],
}

const fn pull(name: &'static str, args: &'static [&'static str]) -> CommandDef {
    CommandDef {
        name,
        permission: Permission::Pull,
        args,
    }
}

const fn push(name: &'static str, args: &'static [&'static str]) -> CommandDef {
    CommandDef {
        name,
        permission: Permission::Push,
        args,
    }
}

/// Mercurial 6.0's `wireprotov2server` `@wireprotocommand` registrations
/// (with the argument names each declares).
const V2_COMMANDS: &[CommandDef] = &[
    pull("branchmap", &[]),
    pull("capabilities", &[]),
    pull("changesetdata", &["revisions", "fields"]),
    pull("filedata", &["haveparents", "nodes", "fields", "path"]),
    pull(
        "filesdata",
        &["haveparents", "fields", "pathfilter", "revisions"],
    ),
    pull("heads", &["publiconly"]),
    pull("known", &["nodes"]),
    pull("listkeys", &["namespace"]),
    pull("lookup", &["key"]),
    pull("manifestdata", &["nodes", "haveparents", "fields", "tree"]),
    push("pushkey", &["namespace", "key", "old", "new"]),
    pull("rawstorefiledata", &["files", "pathfilter"]),
];

/// The 2018 snapshots dispatch through version 1's command table
/// (`wireproto.commands`; names and permissions as in Mercurial 4.6).
const V1_COMMANDS: &[CommandDef] = &[
    pull("batch", &["cmds"]),
    pull("between", &["pairs"]),
    pull("branchmap", &[]),
    pull("branches", &["nodes"]),
    pull("capabilities", &[]),
    pull("changegroup", &["roots"]),
    pull("changegroupsubset", &["bases", "heads"]),
    pull("clonebundles", &[]),
    pull("debugwireargs", &["one", "two"]),
    pull("getbundle", &[]),
    pull("heads", &[]),
    pull("hello", &[]),
    pull("known", &["nodes"]),
    pull("listkeys", &["namespace"]),
    pull("lookup", &["key"]),
    pull("protocaps", &["caps"]),
    push("pushkey", &["namespace", "key", "old", "new"]),
    pull("stream_out", &[]),
    push("unbundle", &["heads"]),
];

const fn f(name: &'static str, value: u8) -> FlagName {
    FlagName { name, value }
}

const NO_FLAGS: &[FlagName] = &[];

mod v1 {
    use super::{f, Sender, TypeDef, NO_FLAGS};
    use crate::wire::ids::v0002::*;

    pub const TYPES: &[TypeDef] = &[
        TypeDef {
            id: COMMAND_NAME,
            name: "command-name",
            sender: Sender::Client,
            flags: &[
                f("eos", FLAG_COMMAND_NAME_EOS),
                f("have-args", FLAG_COMMAND_NAME_HAVE_ARGS),
                f("have-data", FLAG_COMMAND_NAME_HAVE_DATA),
            ],
        },
        TypeDef {
            id: COMMAND_ARGUMENT,
            name: "command-argument",
            sender: Sender::Client,
            flags: &[
                f("continuation", FLAG_COMMAND_ARGUMENT_CONTINUATION),
                f("eoa", FLAG_COMMAND_ARGUMENT_EOA),
            ],
        },
        TypeDef {
            id: COMMAND_DATA,
            name: "command-data",
            sender: Sender::Client,
            flags: &[
                f("continuation", FLAG_COMMAND_DATA_CONTINUATION),
                f("eos", FLAG_COMMAND_DATA_EOS),
            ],
        },
        TypeDef {
            id: BYTES_RESPONSE,
            name: "bytes-response",
            sender: Sender::Server,
            flags: &[
                f("continuation", FLAG_BYTES_RESPONSE_CONTINUATION),
                f("eos", FLAG_BYTES_RESPONSE_EOS),
            ],
        },
        TypeDef {
            id: ERROR_RESPONSE,
            name: "error-response",
            sender: Sender::Server,
            flags: &[
                f("protocol", FLAG_ERROR_RESPONSE_PROTOCOL),
                f("application", FLAG_ERROR_RESPONSE_APPLICATION),
            ],
        },
    ];

    /// 0002: 0001's types, text output and stream settings.
    pub const TYPES_0002: &[TypeDef] = &[
        TYPES[0],
        TYPES[1],
        TYPES[2],
        TYPES[3],
        TYPES[4],
        TypeDef {
            id: TEXT_OUTPUT,
            name: "text-output",
            sender: Sender::Server,
            flags: NO_FLAGS,
        },
        TypeDef {
            id: STREAM_SETTINGS,
            name: "stream-settings",
            sender: Sender::Server,
            flags: NO_FLAGS,
        },
    ];
}

mod v6 {
    use super::{f, Sender, TypeDef, NO_FLAGS};
    use crate::wire::ids::v0006::*;

    pub const TYPES: &[TypeDef] = &[
        TypeDef {
            id: COMMAND_REQUEST,
            name: "command-request",
            sender: Sender::Client,
            flags: &[
                f("new", FLAG_COMMAND_REQUEST_NEW),
                f("continuation", FLAG_COMMAND_REQUEST_CONTINUATION),
                f("more", FLAG_COMMAND_REQUEST_MORE_FRAMES),
                f("have-data", FLAG_COMMAND_REQUEST_EXPECT_DATA),
            ],
        },
        TypeDef {
            id: COMMAND_DATA,
            name: "command-data",
            sender: Sender::Client,
            flags: &[
                f("continuation", FLAG_COMMAND_DATA_CONTINUATION),
                f("eos", FLAG_COMMAND_DATA_EOS),
            ],
        },
        TypeDef {
            id: COMMAND_RESPONSE,
            name: "command-response",
            sender: Sender::Server,
            flags: &[
                f("continuation", FLAG_COMMAND_RESPONSE_CONTINUATION),
                f("eos", FLAG_COMMAND_RESPONSE_EOS),
            ],
        },
        TypeDef {
            id: ERROR_RESPONSE,
            name: "error-response",
            sender: Sender::Server,
            flags: NO_FLAGS,
        },
        TypeDef {
            id: TEXT_OUTPUT,
            name: "text-output",
            sender: Sender::Server,
            flags: NO_FLAGS,
        },
        TypeDef {
            id: PROGRESS,
            name: "progress",
            sender: Sender::Server,
            flags: NO_FLAGS,
        },
        TypeDef {
            id: SENDER_PROTOCOL_SETTINGS,
            name: "sender-protocol-settings",
            sender: Sender::Client,
            flags: &[
                f("continuation", FLAG_SENDER_PROTOCOL_SETTINGS_CONTINUATION),
                f("eos", FLAG_SENDER_PROTOCOL_SETTINGS_EOS),
            ],
        },
        TypeDef {
            id: STREAM_SETTINGS,
            name: "stream-settings",
            sender: Sender::Server,
            flags: &[
                f("continuation", FLAG_STREAM_SETTINGS_CONTINUATION),
                f("eos", FLAG_STREAM_SETTINGS_EOS),
            ],
        },
    ];
}

const STREAM_FLAGS: &[FlagName] = &[
    f("stream-begin", STREAM_BEGIN),
    f("stream-end", STREAM_END),
    f("encoded", STREAM_ENCODED),
];

pub static P0001: ProtoTable = ProtoTable {
    name: "0001",
    origin: "Mercurial rev 51f7ac100 (March 2018, 4-byte header, never released)",
    releases: None,
    header_size: 4,
    has_streams: false,
    types: v1::TYPES,
    stream_flags: NO_FLAGS,
    media_type: "application/mercurial-exp-framing-0001",
    api_name: "exp-http-v2-0001",
    payload_syntax: PayloadSyntax::Escaped,
    json: JsonFlavor::Python2,
    reactor: ReactorKind::V0001,
    int_underscores: false,
    sample_request: "command-name eos heads",
    requests: RequestLayout::NameAndArguments,
    commands: V1_COMMANDS,
};

pub static P0002: ProtoTable = ProtoTable {
    name: "0002",
    origin: "Mercurial rev 8862a50a8 (March 2018, streams, never released)",
    releases: None,
    header_size: 8,
    has_streams: true,
    types: v1::TYPES_0002,
    stream_flags: STREAM_FLAGS,
    media_type: "application/mercurial-exp-framing-0002",
    api_name: "exp-http-v2-0001",
    payload_syntax: PayloadSyntax::Escaped,
    json: JsonFlavor::Python2,
    reactor: ReactorKind::V0002,
    int_underscores: false,
    sample_request: "1 1 stream-begin command-name eos heads",
    requests: RequestLayout::NameAndArguments,
    commands: V1_COMMANDS,
};

pub static P0006: ProtoTable = ProtoTable {
    name: "0006",
    origin: "Mercurial 4.8 .. 6.0 (released; removed in 6.1)",
    releases: Some("Mercurial 4.8 to 6.0"),
    header_size: 8,
    has_streams: true,
    types: v6::TYPES,
    stream_flags: STREAM_FLAGS,
    media_type: "application/mercurial-exp-framing-0006",
    api_name: "exp-http-v2-0003",
    payload_syntax: PayloadSyntax::EscapedOrCbor,
    json: JsonFlavor::Mercurial,
    reactor: ReactorKind::V0006,
    int_underscores: true,
    sample_request: "1 1 stream-begin command-request new cbor:{b'name': b'heads'}",
    requests: RequestLayout::CborMap,
    commands: V2_COMMANDS,
};

/// All revisions, oldest first.
pub static ALL: [&ProtoTable; 3] = [&P0001, &P0002, &P0006];

/// A protocol revision: a cheap handle on its static table.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Proto(&'static ProtoTable);

impl Proto {
    pub const P0001: Proto = Proto(&P0001);
    pub const P0002: Proto = Proto(&P0002);
    pub const P0006: Proto = Proto(&P0006);

    pub fn table(self) -> &'static ProtoTable {
        self.0
    }

    pub fn all() -> impl Iterator<Item = Proto> {
        ALL.iter().map(|t| Proto(t))
    }

    pub fn name(self) -> &'static str {
        self.0.name
    }

    /// The revision assumed when nothing decides: the newest released one.
    pub const DEFAULT: Proto = Proto::P0006;

    /// The revisions a server listing this API name under `/api/` may speak
    /// (several revisions shared `exp-http-v2-0001`).
    pub fn by_api_name(api: &str) -> Vec<Proto> {
        Proto::all().filter(|p| p.table().api_name == api).collect()
    }

    /// The revision whose framing media type this is.
    pub fn by_media_type(media_type: &str) -> Option<Proto> {
        Proto::all().find(|p| p.table().media_type == media_type.trim())
    }

    /// Every API name, newest revision first, without repeats.
    pub fn api_names() -> Vec<&'static str> {
        let mut names: Vec<&'static str> = Vec::new();
        for p in ALL.iter().rev() {
            if !names.contains(&p.api_name) {
                names.push(p.api_name);
            }
        }
        names
    }

    /// The type definition for a type id, if the revision defines one.
    pub fn type_def(self, id: u8) -> Option<&'static TypeDef> {
        self.0.types.iter().find(|t| t.id == id)
    }

    /// The type definition with this name.
    pub fn type_by_name(self, name: &str) -> Option<&'static TypeDef> {
        self.0.types.iter().find(|t| t.name == name)
    }

    /// `command-request`, or `type 0xf` for an id the revision lacks.
    pub fn type_name(self, id: u8) -> String {
        match self.type_def(id) {
            Some(t) => t.name.to_string(),
            None => format!("type {id:#x}"),
        }
    }

    /// The command the revision's server knows by this name.
    pub fn command(self, name: &[u8]) -> Option<&'static CommandDef> {
        self.0.commands.iter().find(|c| c.name.as_bytes() == name)
    }

    /// Flag names valid for a type (empty for unknown types).
    pub fn flag_names(self, type_id: u8) -> &'static [FlagName] {
        self.type_def(type_id).map(|t| t.flags).unwrap_or(NO_FLAGS)
    }

    /// `new|more`, `0`, or `eos|0x8` for bits without a name.
    pub fn flags_to_string(self, type_id: u8, flags: u8) -> String {
        names_to_string(self.flag_names(type_id), flags)
    }

    /// Which side sent a frame, and why we think so: its type when only
    /// one side sends that type, else (revisions with streams) its stream
    /// id — clients number their streams odd, servers even — else `None`.
    pub fn sender_of(self, type_id: u8, stream_id: u8) -> Option<(Sender, String)> {
        if let Some(t) = self.type_def(type_id) {
            let who = match t.sender {
                Sender::Client => "clients",
                Sender::Server => "servers",
            };
            return Some((
                t.sender,
                format!("the first frame is {}, which only {who} send", t.name),
            ));
        }
        if !self.0.has_streams {
            return None;
        }
        Some(if stream_id % 2 == 1 {
            (
                Sender::Client,
                format!("the first frame is on stream {stream_id}; clients send on odd streams"),
            )
        } else {
            (
                Sender::Server,
                format!("the first frame is on stream {stream_id}; servers send on even streams"),
            )
        })
    }

    pub fn stream_flags_to_string(self, flags: u8) -> String {
        names_to_string(self.0.stream_flags, flags)
    }
}

/// Render a flag value as names joined with `|`; unnamed bits as hex.
pub fn names_to_string(names: &[FlagName], value: u8) -> String {
    if value == 0 {
        return "0".to_string();
    }
    let mut parts = Vec::new();
    let mut rest = value;
    for bit in 0..8 {
        let v = 1u8 << bit;
        if value & v == 0 {
            continue;
        }
        if let Some(n) = names.iter().find(|n| n.value == v) {
            parts.push(n.name.to_string());
            rest &= !v;
        }
    }
    if rest != 0 {
        parts.push(format!("{rest:#x}"));
    }
    parts.join("|")
}

impl fmt::Debug for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Proto({})", self.0.name)
    }
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name)
    }
}

impl FromStr for Proto {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let want = s
            .strip_prefix("application/mercurial-exp-framing-")
            .unwrap_or(s);
        for p in Proto::all() {
            if p.name() == want || p.name().trim_start_matches('0') == want {
                return Ok(p);
            }
        }
        Err(format!(
            "unknown protocol revision {s:?}: expected one of 0001, 0002, 0006"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_roundtrip() {
        let p = Proto::P0006;
        assert_eq!(p.flags_to_string(1, 0x5), "new|more");
        assert_eq!(p.flags_to_string(5, 0x3), "0x3");
        assert_eq!(p.flags_to_string(2, 0xa), "eos|0x8");
        assert_eq!(p.stream_flags_to_string(0x0), "0");
        assert_eq!(p.stream_flags_to_string(0x85), "stream-begin|encoded|0x80");
        assert_eq!(p.type_name(4), "type 0x4");
        assert_eq!("6".parse::<Proto>().unwrap(), Proto::P0006);
        assert_eq!(
            "application/mercurial-exp-framing-0002"
                .parse::<Proto>()
                .unwrap(),
            Proto::P0002
        );
        assert!("0003".parse::<Proto>().is_err());
    }

    #[test]
    fn sample_requests_parse_to_one_request() {
        for p in Proto::all() {
            let f = crate::human::parse_human(p, p.table().sample_request)
                .unwrap()
                .frame;
            assert_eq!(f.type_id, 1, "{p}");
        }
    }
}
