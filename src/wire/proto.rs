//! Protocol revisions and server flavours as data.
//!
//! Each revision of the frame-based protocol hgframe speaks is one static
//! [`ProtoTable`]: header layout, frame type ids and names, the flag names
//! valid for each type, the stream flag names, the media type and the HTTP
//! API name, the CBOR codec its Mercurial uses. Beside the revision, a
//! [`Flavor`] says how the server's Python shows through it (literal rules,
//! the debugreflect JSON encoder, exception text): Mercurial 4.8/4.9 speak
//! 0006 like 6.0 but on Python 2. [`RELEASES`] maps Mercurial releases to
//! the two. Everything else (codec, parser, renderers, CLI) asks these
//! tables; adding a revision means adding a table here (and, if its server
//! rules differ, a reactor), never an `if` in a renderer.

use std::fmt;
use std::str::FromStr;

use crate::python::json::JsonFlavor;
use crate::python::value::Value;
use crate::python::Py;
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
    /// Mercurial 4.6/4.7: CBOR command requests (bundled cbor2), no
    /// sender settings, responses as pre-encoded bytes.
    V0005,
    /// Mercurial 4.8 .. 6.0: CBOR command requests, sender settings.
    V0006,
}

/// The CBOR library a revision's Mercurial encodes and decodes with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CborCodec {
    /// No CBOR (the 2018 snapshots).
    None,
    /// The bundled `cbor2`, `canonical=True` (4.6/4.7).
    Cbor2Canonical,
    /// Mercurial's own `cborutil` (4.8+).
    Cborutil,
}

/// How a server release's Python shows through a revision: which rules
/// `cbor:` literals follow, which JSON encoder debugreflect uses, how an
/// exception reads in a message. Beside the revision, not part of it:
/// Mercurial 4.8/4.9 and 6.0 speak the same 0006 on different Pythons.
#[derive(Debug, PartialEq, Eq)]
pub struct Flavor {
    /// Short name: `py2`, `py2-templatefilters`, `py3`.
    pub name: &'static str,
    /// What it is, for messages.
    pub describe: &'static str,
    pub python: Py,
    /// The debugreflect endpoint's JSON encoder.
    pub json: JsonFlavor,
    /// Where the server's Python hits its recursion limit rendering JSON
    /// (measured per release).
    pub json_depth: crate::python::json::Depth,
    /// The zstd window (log2) the release's bundled python-zstandard picks
    /// at level 3 for a stream, when it is not the one hgframe's libzstd
    /// picks (4.8.2: 2^20, from its golden reactor data; 6.0: the default,
    /// 2^21).
    pub zstd_window_log: Option<u32>,
}

/// Python 2 with `json.dumps`: Mercurial 4.6 to 4.9 (and the 2018 snapshots).
pub static PY2: Flavor = Flavor {
    name: "py2",
    describe: "Python 2, debugreflect JSON by json.dumps",
    python: Py::Two,
    json: JsonFlavor::Python2,
    json_depth: crate::python::json::Depth::PY2_DUMPS,
    zstd_window_log: Some(20),
};

/// Python 2 with `templatefilters.json`: Mercurial 5.0/5.1 run on Python 2.
pub static PY2_TEMPLATEFILTERS: Flavor = Flavor {
    name: "py2-templatefilters",
    describe: "Python 2, debugreflect JSON by templatefilters.json",
    python: Py::Two,
    json: JsonFlavor::Mercurial,
    json_depth: crate::python::json::Depth::PY2_TEMPLATEFILTERS,
    // Not measured for 5.0/5.1 (no golden zstd data): the default.
    zstd_window_log: None,
};

/// Python 3 with `templatefilters.json`: Mercurial 5.0 to 6.0 on Python 3.
pub static PY3: Flavor = Flavor {
    name: "py3",
    describe: "Python 3, debugreflect JSON by templatefilters.json",
    python: Py::Three,
    json: JsonFlavor::Mercurial,
    json_depth: crate::python::json::Depth::PY3_TEMPLATEFILTERS,
    zstd_window_log: None,
};

/// How a revision's clients turn a request's response data into objects
/// (`wireprotov2peer.commandresponse`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseObjects {
    /// No client reads frame responses (the 2018 snapshots).
    None,
    /// Mercurial 4.6/4.7: a request's `command-response` payloads are
    /// buffered until its `eos` frame, then read as a sequence of values by
    /// one `cbor2.CBORDecoder` (shareable values live from one value to
    /// the next).
    Cbor2AtEos,
    /// Mercurial 4.8+: each frame's data goes through the request's
    /// `cborutil.bufferingdecoder`; values come out as they complete.
    CborutilStreaming,
}

/// The `stream-settings` frame a revision's client reactor decodes
/// streams by: handled whatever its request id, it names the stream's
/// content encoding once its `eos` frame arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamSettings {
    pub type_id: u8,
    pub eos: u8,
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
    /// The CBOR library behind `cbor:` payloads, requests and responses.
    pub cbor: CborCodec,
    /// The flavour assumed when nothing says otherwise, and all it has.
    pub flavor: &'static Flavor,
    pub flavors: &'static [&'static Flavor],
    pub reactor: ReactorKind,
    /// The `sender-protocol-settings` type its clients open with, if any.
    pub sender_settings: Option<u8>,
    /// The stream settings its client reactor handles; `None` when its
    /// clients decode no stream (4.6/4.7 raise on the frame type and on
    /// the `encoded` flag).
    pub client_stream_settings: Option<StreamSettings>,
    /// How its clients make objects of response data.
    pub response_objects: ResponseObjects,
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

/// Mercurial 4.6/4.7's `wireprotov2server` registrations.
const V2_COMMANDS_0005: &[CommandDef] = &[
    pull("branchmap", &[]),
    pull("capabilities", &[]),
    pull("heads", &["publiconly"]),
    pull("known", &["nodes"]),
    pull("listkeys", &["namespace"]),
    pull("lookup", &["key"]),
    push("pushkey", &["namespace", "key", "old", "new"]),
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

mod v5 {
    use super::{f, Sender, TypeDef, NO_FLAGS};
    use crate::wire::ids::v0005::*;

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
    cbor: CborCodec::None,
    flavor: &PY2,
    flavors: &[&PY2],
    reactor: ReactorKind::V0001,
    sender_settings: None,
    client_stream_settings: None,
    response_objects: ResponseObjects::None,
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
    cbor: CborCodec::None,
    flavor: &PY2,
    flavors: &[&PY2],
    reactor: ReactorKind::V0002,
    sender_settings: None,
    client_stream_settings: None,
    response_objects: ResponseObjects::None,
    sample_request: "1 1 stream-begin command-name eos heads",
    requests: RequestLayout::NameAndArguments,
    commands: V1_COMMANDS,
};

pub static P0005: ProtoTable = ProtoTable {
    name: "0005",
    origin: "Mercurial 4.6 and 4.7 (released)",
    releases: Some("Mercurial 4.6 and 4.7"),
    header_size: 8,
    has_streams: true,
    types: v5::TYPES,
    stream_flags: STREAM_FLAGS,
    media_type: "application/mercurial-exp-framing-0005",
    api_name: "exp-http-v2-0001",
    payload_syntax: PayloadSyntax::EscapedOrCbor,
    cbor: CborCodec::Cbor2Canonical,
    flavor: &PY2,
    flavors: &[&PY2],
    reactor: ReactorKind::V0005,
    sender_settings: None,
    client_stream_settings: None,
    response_objects: ResponseObjects::Cbor2AtEos,
    sample_request: "1 1 stream-begin command-request new cbor:{b'name': b'heads'}",
    requests: RequestLayout::CborMap,
    commands: V2_COMMANDS_0005,
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
    cbor: CborCodec::Cborutil,
    flavor: &PY3,
    flavors: &[&PY3, &PY2, &PY2_TEMPLATEFILTERS],
    reactor: ReactorKind::V0006,
    sender_settings: Some(crate::wire::ids::v0006::SENDER_PROTOCOL_SETTINGS),
    client_stream_settings: Some(StreamSettings {
        type_id: crate::wire::ids::v0006::STREAM_SETTINGS,
        eos: crate::wire::ids::v0006::FLAG_STREAM_SETTINGS_EOS,
    }),
    response_objects: ResponseObjects::CborutilStreaming,
    sample_request: "1 1 stream-begin command-request new cbor:{b'name': b'heads'}",
    requests: RequestLayout::CborMap,
    commands: V2_COMMANDS,
};

/// All revisions, oldest first.
pub static ALL: [&ProtoTable; 4] = [&P0001, &P0002, &P0005, &P0006];

/// A protocol revision and the flavour of the server speaking it: a cheap
/// handle on two static tables.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Proto {
    table: &'static ProtoTable,
    flavor: &'static Flavor,
}

impl Proto {
    pub const P0001: Proto = Proto::of(&P0001);
    pub const P0002: Proto = Proto::of(&P0002);
    pub const P0005: Proto = Proto::of(&P0005);
    pub const P0006: Proto = Proto::of(&P0006);

    /// A revision with its default flavour.
    pub const fn of(table: &'static ProtoTable) -> Proto {
        Proto {
            table,
            flavor: table.flavor,
        }
    }

    pub fn table(self) -> &'static ProtoTable {
        self.table
    }

    pub fn flavor(self) -> &'static Flavor {
        self.flavor
    }

    /// The same revision spoken by a server of another flavour (`None`
    /// when no release speaks the revision that way).
    pub fn with_flavor(self, flavor: &'static Flavor) -> Option<Proto> {
        self.table
            .flavors
            .iter()
            .any(|f| std::ptr::eq(*f, flavor))
            .then_some(Proto {
                table: self.table,
                flavor,
            })
    }

    /// Whether two handles name the same revision (flavours aside).
    pub fn same_revision(self, other: Proto) -> bool {
        std::ptr::eq(self.table, other.table)
    }

    /// The server's Python.
    pub fn py(self) -> Py {
        self.flavor.python
    }

    /// The debugreflect endpoint's JSON encoder.
    pub fn json(self) -> JsonFlavor {
        self.flavor.json
    }

    /// Every revision, with its default flavour.
    pub fn all() -> impl DoubleEndedIterator<Item = Proto> {
        ALL.iter().map(|t| Proto::of(t))
    }

    pub fn name(self) -> &'static str {
        self.table.name
    }

    /// `0006 (Python 2, debugreflect JSON by json.dumps)` when the
    /// flavour is not the revision's default, else the name.
    pub fn describe(self) -> String {
        if std::ptr::eq(self.flavor, self.table.flavor) {
            self.name().to_string()
        } else {
            format!("{} ({})", self.name(), self.flavor.describe)
        }
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

    /// A `cbor:` literal's value as the revision's Mercurial encodes it.
    pub fn encode_cbor(self, v: &Value) -> Result<Vec<u8>, String> {
        match self.table.cbor {
            CborCodec::Cbor2Canonical => {
                crate::python::cbor2::encode_canonical(v).map_err(|e| e.to_string())
            }
            CborCodec::Cborutil | CborCodec::None => {
                crate::python::cbor::encode_in(self.py(), v).map_err(|e| e.to_string())
            }
        }
    }

    /// A payload that is exactly one CBOR value the revision's codec reads
    /// back (for display); `None` otherwise, and `None` when the value
    /// would take far more memory than its bytes (an integer chunk `n` of
    /// an indefinite byte string is `n` zero bytes: shown as escaped bytes
    /// instead).
    pub fn decode_cbor_one(self, payload: &[u8]) -> Option<Value> {
        match self.table.cbor {
            CborCodec::Cbor2Canonical => {
                let v = crate::python::cbor2::load(payload).ok()?;
                (crate::python::cbor2::encode_canonical(&v).ok()?.len() == payload.len())
                    .then_some(v)
            }
            _ => {
                let bound = (payload.len() as u64)
                    .saturating_mul(crate::python::cbor::ITEM_COST)
                    .max(1 << 20);
                let mut vals = crate::python::cbor::decode_all_limited(payload, bound).ok()?;
                (vals.len() == 1).then(|| vals.pop()).flatten()
            }
        }
    }

    /// The type definition for a type id, if the revision defines one.
    pub fn type_def(self, id: u8) -> Option<&'static TypeDef> {
        self.table.types.iter().find(|t| t.id == id)
    }

    /// The type definition with this name.
    pub fn type_by_name(self, name: &str) -> Option<&'static TypeDef> {
        self.table.types.iter().find(|t| t.name == name)
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
        self.table
            .commands
            .iter()
            .find(|c| c.name.as_bytes() == name)
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
        if !self.table.has_streams {
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
        names_to_string(self.table.stream_flags, flags)
    }
}

/// A range of Mercurial releases and how they speak the frame protocol.
#[derive(Debug, PartialEq, Eq)]
pub struct Release {
    /// How `doctor` names them: `Mercurial 4.6/4.7 (revision 0005)`.
    pub label: &'static str,
    /// The release numbers alone: `4.6/4.7`.
    pub versions: &'static str,
    /// First and last release (major, minor), inclusive.
    pub first: (u32, u32),
    pub last: (u32, u32),
    /// A `-py2`/`-py3` suffix that selects this row (releases that ran on
    /// both Pythons).
    pub suffix: Option<&'static str>,
    pub table: &'static ProtoTable,
    pub flavor: &'static Flavor,
}

/// Every release with the HTTP version 2 API: 4.6 (added) to 6.0 (6.1
/// removed the server).
pub static RELEASES: [Release; 4] = [
    Release {
        label: "Mercurial 4.6/4.7 (revision 0005)",
        versions: "4.6/4.7",
        first: (4, 6),
        last: (4, 7),
        suffix: None,
        table: &P0005,
        flavor: &PY2,
    },
    Release {
        label: "Mercurial 4.8/4.9 (Python 2)",
        versions: "4.8/4.9",
        first: (4, 8),
        last: (4, 9),
        suffix: None,
        table: &P0006,
        flavor: &PY2,
    },
    Release {
        label: "Mercurial 5.0/5.1 on Python 2",
        versions: "5.0/5.1",
        first: (5, 0),
        last: (5, 1),
        suffix: Some("py2"),
        table: &P0006,
        flavor: &PY2_TEMPLATEFILTERS,
    },
    Release {
        label: "Mercurial 5.0–6.0",
        versions: "5.0–6.0",
        first: (5, 0),
        last: (6, 0),
        suffix: None,
        table: &P0006,
        flavor: &PY3,
    },
];

impl Release {
    /// The revision and flavour these releases speak.
    pub fn proto(&'static self) -> Proto {
        Proto {
            table: self.table,
            flavor: self.flavor,
        }
    }

    /// The releases that speak a revision in a flavour.
    pub fn of(proto: Proto) -> Option<&'static Release> {
        RELEASES
            .iter()
            .find(|r| std::ptr::eq(r.table, proto.table) && std::ptr::eq(r.flavor, proto.flavor))
    }
}

/// Every Mercurial feature release with the HTTP version 2 API server, as
/// (major, minor): 4.6 to 4.9, 5.0 to 5.9, 6.0.
pub const SERVER_RELEASES: &[(u32, u32)] = &[
    (4, 6),
    (4, 7),
    (4, 8),
    (4, 9),
    (5, 0),
    (5, 1),
    (5, 2),
    (5, 3),
    (5, 4),
    (5, 5),
    (5, 6),
    (5, 7),
    (5, 8),
    (5, 9),
    (6, 0),
];

/// The names [`release`] knows for each release of [`SERVER_RELEASES`]:
/// `4.6` ... `6.0`, and `5.0-py2`, `5.1-py2` for the releases that also
/// ran on another Python than their default (what `--hg` completes).
pub fn release_names() -> Vec<String> {
    let mut out = Vec::new();
    for &(major, minor) in SERVER_RELEASES {
        let v = format!("{major}.{minor}");
        out.push(v.clone());
        for r in RELEASES.iter() {
            if let Some(sfx) = r.suffix {
                if r.first <= (major, minor) && (major, minor) <= r.last {
                    out.push(format!("{v}-{sfx}"));
                }
            }
        }
    }
    out
}

/// A release picked by `--hg VERSION`.
#[derive(Debug, Clone, Copy)]
pub struct Selected {
    pub proto: Proto,
    pub release: &'static Release,
}

/// Why `--hg VERSION` names no release that speaks the protocol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReleaseError {
    #[error("`{0}` is not a Mercurial release number (expected e.g. 4.7.2, 4.8, 5.0.2, 6.0; 5.0/5.1 may add -py2 or -py3)")]
    Syntax(String),
    #[error("Mercurial {0} has no frame protocol: the HTTP version 2 API (exp-http-v2) came with 4.6; releases 4.6 to 6.0 speak it")]
    TooOld(String),
    #[error("Mercurial {0} has no frame protocol server: 6.1 removed the HTTP version 2 API (wireprotov2server); releases 4.6 to 6.0 speak it")]
    TooNew(String),
    #[error("Mercurial {version} ran on Python {only} only; drop -{suffix}")]
    Python {
        version: String,
        only: &'static str,
        suffix: String,
    },
}

/// The revision and flavour a Mercurial release speaks: `4.7.2`, `4.8`,
/// `5.0.2`, `5.0.2-py2`, `6.0`.
pub fn release(spec: &str) -> Result<Selected, ReleaseError> {
    let s = spec.trim();
    let (version, suffix) = match s.rsplit_once('-') {
        Some((v, sfx)) if sfx == "py2" || sfx == "py3" => (v, Some(sfx)),
        _ => (s, None),
    };
    let syntax = || ReleaseError::Syntax(spec.chars().take(40).collect());
    let nums: Vec<u32> = version
        .split('.')
        .map(|p| p.parse::<u32>().map_err(|_| syntax()))
        .collect::<Result<_, _>>()?;
    if !(2..=3).contains(&nums.len()) {
        return Err(syntax());
    }
    let v = (nums[0], nums[1]);
    if v < (4, 6) {
        return Err(ReleaseError::TooOld(version.into()));
    }
    if v > (6, 0) {
        return Err(ReleaseError::TooNew(version.into()));
    }
    let in_range = |r: &&Release| r.first <= v && v <= r.last;
    let row = RELEASES
        .iter()
        .filter(in_range)
        .find(|r| r.suffix.is_some() && r.suffix == suffix)
        .or_else(|| {
            RELEASES
                .iter()
                .filter(in_range)
                .find(|r| r.suffix.is_none())
        });
    let Some(row) = row else {
        return Err(syntax());
    };
    if let Some(sfx) = suffix {
        let wanted = if sfx == "py2" { Py::Two } else { Py::Three };
        if row.flavor.python != wanted {
            return Err(ReleaseError::Python {
                version: version.into(),
                only: if row.flavor.python == Py::Two {
                    "2"
                } else {
                    "3"
                },
                suffix: sfx.into(),
            });
        }
    }
    Ok(Selected {
        proto: row.proto(),
        release: row,
    })
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
        write!(f, "Proto({}, {})", self.table.name, self.flavor.name)
    }
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.table.name)
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
            "unknown protocol revision {s:?}: expected one of {}",
            Proto::all()
                .map(|p| p.name())
                .collect::<Vec<_>>()
                .join(", ")
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
    fn release_names_all_parse() {
        let names = release_names();
        assert_eq!(names.first().map(String::as_str), Some("4.6"));
        assert_eq!(names.last().map(String::as_str), Some("6.0"));
        assert!(names.iter().any(|n| n == "5.1-py2"));
        assert!(!names.iter().any(|n| n == "4.8-py2" || n == "5.2-py2"));
        for n in &names {
            assert!(release(n).is_ok(), "{n}");
        }
        // Every row of RELEASES is reachable by some name.
        for r in RELEASES.iter() {
            assert!(
                names
                    .iter()
                    .any(|n| std::ptr::eq(release(n).unwrap().release, r)),
                "{}",
                r.label
            );
        }
    }

    #[test]
    fn releases() {
        let p = |s: &str| release(s).map(|r| r.proto);
        assert_eq!(p("4.7.2"), Ok(Proto::P0005));
        assert_eq!(p("4.6"), Ok(Proto::P0005));
        assert_eq!(p("4.8").unwrap().py(), Py::Two);
        assert_eq!(p("4.9.1").unwrap().json(), JsonFlavor::Python2);
        assert_eq!(p("5.0.2"), Ok(Proto::P0006));
        assert_eq!(p("6.0"), Ok(Proto::P0006));
        let py2 = p("5.0.2-py2").unwrap();
        assert_eq!((py2.py(), py2.json()), (Py::Two, JsonFlavor::Mercurial));
        assert!(matches!(release("4.5.3"), Err(ReleaseError::TooOld(_))));
        assert!(matches!(release("6.1"), Err(ReleaseError::TooNew(_))));
        assert!(matches!(
            release("4.7-py3"),
            Err(ReleaseError::Python { .. })
        ));
        assert!(matches!(
            release("6.0-py2"),
            Err(ReleaseError::Python { .. })
        ));
        assert!(matches!(release("seven"), Err(ReleaseError::Syntax(_))));
        assert!(matches!(release("4"), Err(ReleaseError::Syntax(_))));
        let e = release("6.2").unwrap_err().to_string();
        assert!(e.contains("6.1 removed"), "{e}");
        assert_eq!(
            Release::of(p("4.8.2").unwrap()).map(|r| r.label),
            Some("Mercurial 4.8/4.9 (Python 2)")
        );
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
