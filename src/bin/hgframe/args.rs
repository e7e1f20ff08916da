//! Command-line argument types (clap derive). Only declarations live here;
//! [`crate::cmd`] runs them.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::builder::{PossibleValue, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};

use hgframe::remote::send::KNOWN_ENCODINGS;
use hgframe::wire::body::MEDIA_CBOR;
use hgframe::wire::proto::{release, release_names, Selected};
use hgframe::Proto;

/// The exit codes, as every `--help` ends with them (a macro so that the
/// examples can be put before them with `concat!`).
macro_rules! exit_codes {
    () => {
        "\
Exit codes:
  0  success
  1  an expectation did not hold (replays)
  2  usage or parse error (bad flag, bad frame line, bad hex)
  3  transport error (connect, timeout)
  4  the server answered an HTTP error (for `reflect --local`: a real
     Mercurial server would answer HTTP 500 here; the reason is on stderr)
  5  undecodable bytes (truncated frame header or payload)
Responses (`decode --side response`, `send`): 4 also when a real Mercurial
client refuses a frame or fails a request; 5 also when a response passes
the memory bound (--max-value)."
    };
}

pub const EXIT_CODES_HELP: &str = exit_codes!();

/// `Examples:` then the exit codes, for a subcommand's `after_help`.
macro_rules! examples {
    ($($line:expr),+ $(,)?) => {
        concat!("Examples:\n", $("  ", $line, "\n",)+ "\n", exit_codes!())
    };
}

/// `hgframe doctor --help`: what it checks and how to set a server up.
pub const DOCTOR_LONG_ABOUT: &str =
    "Check that a server's frame protocol endpoints work, step by step, and
say how to fix what does not: the server answers and is Mercurial, /api/
lists the HTTP version 2 API, its protocol revision and release (4.6/4.7,
4.8/4.9 on Python 2, 5.0 to 6.0), debugreflect on ro/ and rw/, and a test
frame reflected as the local reactor predicts. With --hg or --proto, that
the server is what was said.

The settings a Mercurial server (4.6 to 6.0) needs for hgframe:

  hg serve -R REPO -a 127.0.0.1 -p 8000 \\
    --config experimental.web.apiserver=true \\
    --config experimental.web.api.http-v2=true \\
    --config experimental.web.api.debugreflect=true

or the same settings in the repository's .hg/hgrc, one per line:

  [experimental]
  web.apiserver = true
  web.api.http-v2 = true
  web.api.debugreflect = true

rw/ URLs also need push permission: --config web.allow-push=* (and
--config web.push_ssl=false on plain HTTP).

--json prints one JSON object per line instead, as each step is checked:
  {\"event\": \"check\", \"result\": \"ok\", \"message\"}
  {\"event\": \"check\", \"result\": \"failed\", \"message\", \"fixes\": [\"...\"]}
  {\"event\": \"check\", \"result\": \"skipped\", \"message\"}   (and why)
  {\"event\": \"diff\", \"local\", \"server\"}   the test frame's debugreflect
      body as predicted and as answered (Python-escaped bytes)
and last
  {\"event\": \"summary\", \"verdict\": \"healthy\"|\"mismatch\"|\"unreachable\"|\"broken\",
   \"exit\"}

Exit status: 0 when everything works and is predicted exactly, 1 when the
test frame is reflected differently, 3 when the server cannot be
reached, 4 when a step fails.";

/// `hgframe replay --help`: the script format.
pub const REPLAY_LONG_ABOUT: &str = "Run replay scripts (.hgframe transcripts) and check their expected output.

A script reads like the session it came from:

  # comments and blank lines (kept by --update)
  proto 0006                     revision (default: inferred, else 0006)
  hg 4.8 5.0-py2                 or: the releases whose answers these are
  target local                   default target: local or a URL
  defer on                       local reactor: buffer responses until eof
  respond 1 cbor:[b'x']          canned response (local only)
  > 1 1 stream-begin command-request new cbor:{b'name': b'heads'}
  < [\"runcommand\", {\"args\": {}, \"command\": \"heads\", \"data\": null, \"redirect\": null, \"requestid\": 1}]
  > cmd known nodes=hexlist:00ff shorthand: next request id, stream flags
  bin 0c00000100                 raw frame bytes (hex)
  eof                            end of one request (one HTTP request)
  < status 500                   expected output of the step above
  expect status 500              assertions: action NAME, error \"TEXT\",
  expect action runcommand         status CODE, frame KEY=VALUE ...

`<` lines are the step's output: for a frame, the JSON line its
revision's debugreflect prints; for eof the final object; `sent: ...`
for frames a local reactor sends; `status N` at eof when the server
answers an HTTP error. A line ending in ` (glob)` (* and ?) or
` (re)` matches loosely. A directory means every .hgframe file under
it, and - a transcript read from stdin (named <stdin>; its `respond
@FILE` files are looked up in the current directory). Against a server,
a script of another revision (told by the media type the server names)
or naming other releases (`hg ...`) is skipped with the reason.

Each script is reported as soon as it finishes (with -j N, in the order
they finish; on a terminal a progress bar on stderr shows how many are
done). The last line printed is `N passed, N failed` (`, N skipped` when
any were).

--json prints one JSON object per line instead, each with an \"event\":
  {\"event\": \"script\", \"file\", \"result\": \"passed\", \"requests\", \"frames\", \"seconds\"}
  {\"event\": \"script\", \"file\", \"result\": \"updated\", \"requests\", \"frames\", \"seconds\"}
      (--update rewrote its expected output)
  {\"event\": \"script\", \"file\", \"result\": \"skipped\", \"reason\", \"seconds\"}
  {\"event\": \"script\", \"file\", \"result\": \"failed\", \"seconds\",
   \"failures\": [{\"line\", \"message\", \"step\", \"expected\": [..], \"actual\": [..]}]}
  {\"event\": \"script\", \"file\", \"result\": \"error\", \"kind\": \"parse\"|\"transport\"|\"http\",
   \"exit\", \"message\", \"seconds\"}   (the script could not run)
and last
  {\"event\": \"summary\", \"passed\", \"failed\", \"skipped\", \"updated\", \"not_run\",
   \"exit\", \"seconds\"}
(`updated` scripts count as passed; `not_run`: left out once the server
could not be reached). --junit FILE writes a JUnit report: one testcase
per script (classname: its directory, dotted), a mismatch as <failure>,
a script that could not run as <error type=\"parse|transport|http\">,
each with its time and timestamp.";

/// Debugger for Mercurial's frame-based wire protocol (exp-http-v2).
///
/// Type frames as short human strings, turn them into exact wire bytes,
/// decode captured bytes, and run frames through a local port of
/// Mercurial's server reactor that predicts a real server's debugreflect
/// answer byte for byte. Revisions: 0001 (4-byte header), 0002 (streams),
/// 0005 (Mercurial 4.6/4.7), 0006 (Mercurial 4.8 to 6.0).
#[derive(Debug, Parser)]
#[command(
    name = "hgframe",
    version,
    long_version = crate::version::long_version(),
    after_help = EXIT_CODES_HELP,
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOpts,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Args)]
pub struct GlobalOpts {
    /// Protocol revision. Without it (and without --hg), inferred from
    /// frame type names where they are unambiguous, or detected from the
    /// server for remote commands, else 0006.
    #[arg(long, global = true, value_parser = ProtoParser, value_name = "P")]
    pub proto: Option<Proto>,

    /// Speak as Mercurial VERSION's server does (4.6 to 6.0): its revision
    /// and its Python's flavour (4.6/4.7: 0005; 4.8/4.9: 0006 on Python 2;
    /// 5.0 to 6.0: 0006 on Python 3; 5.0-py2/5.1-py2: 0006 on Python 2 with
    /// 5.0's JSON).
    #[arg(long, global = true, value_parser = HgParser, value_name = "VERSION")]
    pub hg: Option<Selected>,

    /// When to colour output (auto honours NO_COLOR and whether stdout is a terminal).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// More detail (the chosen revision and why, full payloads).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

fn parse_proto(s: &str) -> Result<Proto, String> {
    s.parse()
}

fn parse_hg(s: &str) -> Result<Selected, String> {
    release(s).map_err(|e| e.to_string())
}

/// `--proto`: parsed as [`Proto`]'s `FromStr` does (`6`, a media type ...
/// too), the four names offered to completions and listed in `--help`.
#[derive(Clone)]
struct ProtoParser;

impl TypedValueParser for ProtoParser {
    type Value = Proto;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Proto, clap::Error> {
        parse_proto.parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(Proto::all().map(|p| {
            PossibleValue::new(p.name()).help(p.table().origin)
        })))
    }
}

/// `--hg`: any release number [`release`] takes (`4.7.2`, `5.0-py3` ...),
/// the feature releases offered to completions and listed in `--help`.
#[derive(Clone)]
struct HgParser;

impl TypedValueParser for HgParser {
    type Value = Selected;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Selected, clap::Error> {
        parse_hg.parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            release_names().into_iter().map(PossibleValue::new),
        ))
    }
}

/// A text option that takes any value (this is a debugging tool: an
/// unknown encoding or media type may be sent on purpose) but offers the
/// usual ones to completions and lists them in `--help`.
#[derive(Clone)]
struct Offered(fn() -> Vec<PossibleValue>);

impl TypedValueParser for Offered {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        clap::builder::StringValueParser::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new((self.0)().into_iter()))
    }
}

/// `send --encodings`: the content encodings Mercurial knows.
fn encodings() -> Vec<PossibleValue> {
    KNOWN_ENCODINGS.iter().map(PossibleValue::new).collect()
}

/// `decode --content-type`: each revision's media type, then the other
/// kinds of body a server answers with.
fn content_types() -> Vec<PossibleValue> {
    let mut v: Vec<PossibleValue> = Proto::all()
        .map(|p| PossibleValue::new(p.table().media_type).help(format!("frames, {}", p.name())))
        .collect();
    v.push(PossibleValue::new(MEDIA_CBOR).help("CBOR values"));
    v.push(PossibleValue::new("text/plain").help("text"));
    v.push(PossibleValue::new("text/html").help("a page, summed up"));
    v
}

/// `man SUBCOMMAND`: the subcommands (a test keeps the list whole).
const MAN_PAGES: &[&str] = &[
    "encode",
    "decode",
    "reflect",
    "send",
    "doctor",
    "replay",
    "repl",
    "serve",
    "proxy",
    "completions",
    "man",
];

fn man_pages() -> Vec<PossibleValue> {
    MAN_PAGES.iter().map(PossibleValue::new).collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Turn human frame strings into wire bytes.
    ///
    /// Frames come from the arguments, or one per line from stdin (blank
    /// lines and lines starting with # are skipped). Syntax:
    ///   0001:        <type> <flags> <payload>
    ///   0002, 0006:  <request-id> <stream-id> <stream-flags> <type> <flags> <payload>
    /// Names or decimal numbers; `|` joins flags; the payload is the rest of
    /// the line, Python-escaped (\xNN, \n, \\ ...), or for 0005 and 0006
    /// `cbor:<python literal>`, e.g. cbor:{b'name': b'heads'} (with --hg 4.x
    /// a Python 2 literal: 'x' is bytes, u'x' text).
    #[command(
        after_help = examples!(
        "hgframe encode \"1 1 stream-begin command-request new cbor:{b'name': b'heads'}\"",
        "hgframe encode -f raw < frames.txt > request.bin",
        "hgframe --hg 4.7 encode \"1 1 stream-begin command-request new cbor:{b'name': b'heads'}\"",
    ), verbatim_doc_comment)]
    Encode(EncodeArgs),

    /// Decode wire bytes into frames.
    ///
    /// A request body's frames are listed. A response body's go through
    /// hgframe's port of Mercurial's client reactor: streams decoded
    /// (identity, zlib, zstd-8mb), objects reassembled per request, and
    /// every frame a real client would refuse shown with the reason. A body
    /// that is not frames is decoded as --content-type says.
    #[command(
        after_help = examples!(
        "hgframe decode request.bin",
        "hgframe encode \"1 1 stream-begin command-request new cbor:{b'name': b'heads'}\" | hgframe decode --hex-input",
        "hgframe decode --side response --request request.bin response.bin",
        "hgframe decode -f json response.bin | jq .",
    ))]
    Decode(DecodeArgs),

    /// Run frames through a server reactor and show what it does.
    ///
    /// With --local (the default), frames go through hgframe's port of the
    /// revision's server reactor, exactly as a server's debugreflect endpoint
    /// runs them. --raw prints the very body that endpoint returns, once the
    /// input has ended: like the server's, it is all or nothing (a frame
    /// that makes the server raise means no body), so it is held until then,
    /// past 1 MiB in an unlinked temporary file in $TMPDIR.
    #[command(
        after_help = examples!(
        "hgframe reflect \"1 1 stream-begin command-request new cbor:{b'name': b'heads'}\"",
        "hgframe reflect --raw --file frames.txt",
        "hgframe reflect --url http://127.0.0.1:8000/ --compare --file frames.txt",
    ))]
    Reflect(ReflectArgs),

    /// Run real commands on a server (0005, 0006) and decode the response stream.
    ///
    /// Writes the request as Mercurial's HTTP peer does (its client reactor:
    /// for 0006 a sender-protocol-settings frame, then the command-request
    /// frames; several commands, joined with `+`, go to multirequest), reads
    /// the answer through the same reactor (0006: streams decoded, identity,
    /// zlib, zstd-8mb; 0005: each request's data read at its end as cbor2
    /// values), and prints the frames, the decoded values (node ids as hex)
    /// and every frame a real client would refuse.
    ///
    /// Argument values: cbor:<python literal>, hex:<hex bytes>,
    /// hexlist:<hex>,<hex>,... (a list of bytes, e.g. nodes), or plain text
    /// (bytes).
    ///
    /// -v also shows the HTTP request line and headers sent (`> ` lines)
    /// and the status line and headers received (`< ` lines), as soon as
    /// the answer's head arrives.
    ///
    /// --json prints one JSON object per line, each with an "event":
    ///   {"event": "http_request", "method", "target", "version",
    ///    "headers": [[name, value], ...], "body_bytes"}      (with -v)
    ///   {"event": "http_response", "version", "status", "reason",
    ///    "headers": [[name, value], ...]}                    (with -v)
    ///   {"event": "frame", ...}   each response frame, as `decode --json`
    ///      writes it, with "client": the client reactor's verdict
    ///   {"event": "request", "request_id", "command", "status",
    ///    "status_map", "objects": [...], "errors": [...], "text": [...],
    ///    "complete", "problems": [...]}                   one per request
    /// and last
    ///   {"event": "summary", "encodings": [{"stream_id", "encoding"}],
    ///    "frames", "refused", "problems": [...], "failed"}
    /// Values as in `decode --json` (bytes as text when UTF-8, else
    /// {"hex": ...}), node ids (20 bytes) as hex text.
    #[command(
        after_help = examples!(
        "hgframe send http://127.0.0.1:8000/ heads",
        "hgframe send http://127.0.0.1:8000/ lookup key=tip + heads",
        "hgframe send --encodings zstd-8mb,zlib --json http://127.0.0.1:8000/ capabilities",
    ), verbatim_doc_comment)]
    Send(SendArgs),

    /// Check that a server's frame protocol endpoints work, step by step,
    /// and say how to fix what does not.
    #[command(
        after_help = examples!(
        "hgframe doctor http://127.0.0.1:8000/",
        "hgframe --hg 6.0 doctor https://127.0.0.1:8443/repo --cacert server.pem",
    ), long_about = DOCTOR_LONG_ABOUT)]
    Doctor(DoctorArgs),

    /// Run replay scripts (.hgframe transcripts) and check their expected output.
    #[command(
        after_help = examples!(
        "hgframe replay session.hgframe transcripts/",
        "hgframe replay --url http://127.0.0.1:8000/ -j 4 -q transcripts/",
        "hgframe replay --against local,http://127.0.0.1:8000/ session.hgframe",
        "hgframe replay --json transcripts/ | jq -c .",
        "hgframe replay --update session.hgframe",
    ), long_about = REPLAY_LONG_ABOUT)]
    Replay(ReplayArgs),

    /// Interactive session: frames answered as they are typed.
    ///
    /// The local reactor by default (no server needed), or a server with
    /// --url / `:target URL`. Tab completes type and flag names, `cmd NAME`
    /// builds requests, `:save FILE` writes a replay script. When stdin is
    /// not a terminal the lines run as a script.
    #[command(
        after_help = examples!(
        "hgframe repl",
        "hgframe repl --url http://127.0.0.1:8000/",
        "hgframe --hg 4.7 repl < session.txt",
    ))]
    Repl(ReplArgs),

    /// Serve Mercurial's HTTP API (debugreflect, canned responses) from hgframe's own reactor.
    ///
    /// Speaks the chosen revision's `/api/` URL space like `hg serve` with
    /// the experimental API enabled: debugreflect bodies identical to
    /// Mercurial's, Mercurial's status codes and messages, and commands
    /// answered with the responses given by --respond, through the
    /// reactor's response path.
    ///
    /// The access log goes to stderr, one line per request: Common Log
    /// Format, the time taken and, when the status alone does not say,
    /// what happened. With --json, stdout carries one JSON object per line
    /// instead:
    ///   {"event": "listening", "url", "proto"}   once, when it accepts requests
    ///   {"event": "access", "time" (RFC 3339, UTC), "remote", "method",
    ///    "target", "version", "status", "bytes", "ms", "note" (or null)}
    ///   {"event": "shutdown", "reason"}
    #[command(
        after_help = examples!(
        "hgframe serve --listen 127.0.0.1:8000",
        "hgframe --hg 4.7 serve --respond 'heads=cbor:[]' --respond 'known=error:not today'",
    ), verbatim_doc_comment)]
    Serve(ServeArgs),

    /// Stand between a Mercurial client and server and show the exchange.
    ///
    /// Every request and response is forwarded untouched (responses
    /// streamed as they arrive); each exchange is printed as it passes:
    /// method, path, status, sizes, time; the request's frames with what
    /// the local server reactor says the server will do; the response's
    /// frames; and where the server and the local reactor disagree.
    /// `--record FILE` writes the frame-protocol requests as a replay
    /// transcript (`hgframe replay --url UPSTREAM FILE` checks it).
    ///
    ///   hgframe proxy --upstream http://127.0.0.1:8000/ --listen 127.0.0.1:8001
    ///   hg --config experimental.httppeer.advertise-v2=true clone http://127.0.0.1:8001/ copy
    #[command(
        after_help = examples!(
        "hgframe proxy --upstream http://127.0.0.1:8000/ --record clone.hgframe",
        "hg --config experimental.httppeer.advertise-v2=true clone http://127.0.0.1:8001/ copy",
        "hgframe replay --url http://127.0.0.1:8000/ clone.hgframe",
    ), verbatim_doc_comment)]
    Proxy(ProxyArgs),

    /// Print a shell completion script.
    #[command(after_help = concat!(
        "Examples:\n",
        "  hgframe completions bash > ~/.local/share/bash-completion/completions/hgframe\n",
        "  hgframe completions zsh > ~/.zfunc/_hgframe\n",
        "  hgframe completions fish > ~/.config/fish/completions/hgframe.fish",
    ))]
    Completions {
        /// bash, zsh, fish, elvish or powershell
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },

    /// Print a man page (roff): hgframe(1), or one subcommand's.
    ///
    /// `hgframe man | man -l -` shows it; `scripts/gen-completions.sh`
    /// writes all of them to man/.
    #[command(after_help = concat!(
        "Examples:\n",
        "  hgframe man | man -l -\n",
        "  hgframe man replay > hgframe-replay.1",
    ))]
    Man {
        /// The subcommand (e.g. replay); none for hgframe(1).
        #[arg(value_name = "SUBCOMMAND", value_parser = Offered(man_pages))]
        subcommand: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EncodeFormat {
    /// Binary frames back to back (refused on a terminal).
    Raw,
    /// One frame per line, lowercase hex.
    Hex,
    /// One frame per line, Python-escaped bytes.
    Escaped,
}

#[derive(Debug, Args)]
pub struct EncodeArgs {
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = EncodeFormat::Hex)]
    pub format: EncodeFormat,

    /// Frames as human strings (default: one per line from stdin).
    #[arg(value_name = "FRAME")]
    pub frames: Vec<OsString>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DecodeFormat {
    /// One readable block per frame.
    Blocks,
    /// One human string per frame (`encode` turns it back into the same bytes).
    Human,
    /// One JSON object per frame (schema in the README).
    Json,
}

#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// The input is hex text (whitespace ignored), not binary.
    #[arg(long)]
    pub hex_input: bool,

    /// Same as --format json.
    #[arg(long, conflicts_with = "format")]
    pub json: bool,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = DecodeFormat::Blocks)]
    pub format: DecodeFormat,

    /// Read lengths as Mercurial servers do (b0 + 256*b1 + 16384*b2).
    #[arg(long)]
    pub mercurial_lengths: bool,

    /// Which side of an exchange the bytes are: a request (frames listed)
    /// or a response (streams decoded, objects reassembled and grouped by
    /// request, every frame judged by Mercurial's client reactor). Default:
    /// decided from the first frame (-v says how).
    #[arg(long, value_enum, value_name = "SIDE")]
    pub side: Option<Side>,

    /// The body's HTTP Content-Type: a frames media type names the
    /// revision; other types are decoded as what they say (any text/*
    /// as text).
    #[arg(long, value_name = "TYPE", value_parser = Offered(content_types))]
    pub content_type: Option<String>,

    /// The request body a response answers: its commands set the client
    /// reactor up as the client that sent them. Without it, requests 1, 3,
    /// 5, ... are assumed sent as the frames name them.
    #[arg(long, value_name = "FILE")]
    pub request: Option<PathBuf>,

    /// Memory bound for responses: the most one frame may decode to, and
    /// one request's incomplete value may hold (bytes; K, M, G suffixes).
    /// Over it decoding stops (exit 5).
    #[arg(long, value_name = "SIZE", default_value = "64M", value_parser = parse_positive_size)]
    pub max_value: u64,

    /// Input file, or - for stdin.
    #[arg(value_name = "FILE", default_value = "-")]
    pub input: PathBuf,
}

/// Which side of an exchange a body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Side {
    /// Client to server: command requests.
    Request,
    /// Server to client: command responses.
    Response,
}

/// A size of at least one byte (see [`parse_size`]): a memory bound of
/// zero would refuse every response.
pub fn parse_positive_size(s: &str) -> Result<u64, String> {
    match parse_size(s)? {
        0 => Err(format!(
            "{s:?}: expected a size of at least 1 byte, e.g. 64M"
        )),
        n => Ok(n),
    }
}

/// Options for talking to a server.
#[derive(Debug, Clone, Args)]
pub struct RemoteOpts {
    /// Total time allowed for a request, in seconds.
    #[arg(long, default_value_t = 30.0, value_name = "SECS")]
    pub timeout: f64,

    /// Time allowed to connect, in seconds.
    #[arg(long, default_value_t = 10.0, value_name = "SECS")]
    pub connect_timeout: f64,

    /// Extra request header (repeatable); sent to the URL's own origin
    /// only, never after a redirect to another one.
    #[arg(long = "header", short = 'H', value_name = "NAME:VALUE")]
    pub headers: Vec<String>,

    /// The largest response body read (past it: an error naming this
    /// option), in bytes or with a unit: 512K, 64M, 1G.
    #[arg(long, default_value = "256M", value_name = "SIZE", value_parser = parse_size)]
    pub max_response: u64,

    #[command(flatten)]
    pub tls: TlsOpts,
}

/// Trust for https servers.
#[derive(Debug, Clone, Args)]
pub struct TlsOpts {
    /// Also trust the certificates of this PEM file (repeatable), e.g. a
    /// test server's self-signed certificate.
    #[arg(long, value_name = "FILE")]
    pub cacert: Vec<PathBuf>,

    /// Accept any server certificate (for a throwaway test server only:
    /// anyone on the path can read and change the traffic).
    #[arg(long, short = 'k')]
    pub insecure: bool,
}

/// For commands that send one request the user wrote: show it instead.
#[derive(Debug, Clone, Args)]
pub struct ShowOpts {
    /// Print the request (method, URL, headers, frames) instead of sending it.
    #[arg(long, short = 'n')]
    pub dry_run: bool,

    /// Print an equivalent curl command instead of sending.
    #[arg(long, conflicts_with = "dry_run")]
    pub curl: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReflectFormat {
    /// Each frame with the action it causes, readable.
    Pretty,
    /// One JSON event per line (schema in the README).
    Json,
    /// Exactly the body the revision's debugreflect endpoint returns.
    Raw,
}

#[derive(Debug, Args)]
pub struct ReflectArgs {
    /// Use hgframe's local reactor (the default; no server needed).
    #[arg(long, conflicts_with = "url")]
    pub local: bool,

    /// Post the frames to a server's debugreflect endpoint instead
    /// (URL of the repository, e.g. http://127.0.0.1:8000/).
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,

    /// Use the rw/ endpoint (needs push permission) instead of ro/.
    #[arg(long, requires = "url")]
    pub rw: bool,

    /// With --url: also run the frames through the local reactor and show
    /// any difference (exit 1 when they differ).
    #[arg(long, requires = "url")]
    pub compare: bool,

    #[command(flatten)]
    pub remote: RemoteOpts,

    #[command(flatten)]
    pub show: ShowOpts,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = ReflectFormat::Pretty)]
    pub format: ReflectFormat,

    /// Same as --format raw.
    #[arg(long, conflicts_with_all = ["json", "format"])]
    pub raw: bool,

    /// Same as --format json.
    #[arg(long, conflicts_with = "format")]
    pub json: bool,

    /// Buffer responses until end of input (half-duplex, as the HTTP server).
    #[arg(long)]
    pub defer_output: bool,

    /// The most memory one decoded request value may take (a command
    /// request, the protocol settings), in bytes or with K, M, G. Mercurial
    /// has no bound; past it hgframe says what Mercurial would build
    /// instead of building it (exit 4).
    #[arg(long, value_name = "SIZE", default_value = "64M", value_parser = parse_positive_size)]
    pub max_value: u64,

    /// Canned response for a dispatched command: REQUESTID=RESPONSE or
    /// COMMAND=RESPONSE, where RESPONSE is escaped text, @FILE, cbor:<literal>
    /// (0006: the objects of a list literal), or error:TEXT. Repeatable.
    #[arg(long, value_name = "KEY=RESPONSE")]
    pub respond: Vec<String>,

    /// Read frame lines from a file (- for stdin).
    #[arg(long = "file", value_name = "FILE", conflicts_with_all = ["bin", "frames"])]
    pub file: Option<PathBuf>,

    /// Read raw frame bytes (a request body) from a file (- for stdin).
    #[arg(long, value_name = "FILE", conflicts_with = "frames")]
    pub bin: Option<PathBuf>,

    /// Frames as human strings.
    #[arg(value_name = "FRAME")]
    pub frames: Vec<OsString>,
}

impl ReflectArgs {
    /// The output format, the old flags included.
    pub fn output(&self) -> ReflectFormat {
        if self.raw {
            ReflectFormat::Raw
        } else if self.json {
            ReflectFormat::Json
        } else {
            self.format
        }
    }
}

impl DecodeArgs {
    /// The output format, `--json` included.
    pub fn output(&self) -> DecodeFormat {
        if self.json {
            DecodeFormat::Json
        } else {
            self.format
        }
    }
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(
        long,
        alias = "addr",
        default_value = "127.0.0.1:8000",
        value_name = "ADDR:PORT"
    )]
    pub listen: String,

    /// Allow listening on a non-loopback address.
    #[arg(long)]
    pub public: bool,

    /// Canned response for a command: NAME=TEXT, NAME=@FILE, NAME=cbor:<literal>
    /// (0006: a list literal gives several objects) or NAME=error:TEXT. Repeatable.
    #[arg(long, value_name = "NAME=RESPONSE")]
    pub respond: Vec<String>,

    /// Largest request body accepted (larger: 413), in bytes or with a
    /// unit: 512K, 64M, 1G.
    #[arg(long, default_value = "64M", value_name = "SIZE", value_parser = parse_size)]
    pub max_body: u64,

    /// The most memory all requests may hold at once: their bodies and
    /// the debugreflect answers built from them, until sent (past it: 503
    /// with Retry-After; an answer that alone would pass it: 500 saying
    /// so).
    #[arg(long, default_value = "256M", value_name = "SIZE", value_parser = parse_size)]
    pub max_total_body: u64,

    /// The most memory one decoded request value may take (past it: 500,
    /// with the reason in the log).
    #[arg(long, value_name = "SIZE", default_value = "64M", value_parser = parse_positive_size)]
    pub max_value: u64,

    /// Seconds a client may take to send its request (else 408).
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    pub timeout: u64,

    /// Disable the debugreflect endpoint (404, as a server without
    /// experimental.web.api.debugreflect).
    #[arg(long)]
    pub no_reflect: bool,

    /// JSON events on stdout, one per line, instead of the text log on
    /// stderr (schema below).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SendArgs {
    /// Repository URL, e.g. http://127.0.0.1:8000/
    #[arg(value_name = "URL")]
    pub url: String,

    /// COMMAND [NAME=VALUE ...] [+ COMMAND [NAME=VALUE ...] ...]
    #[arg(value_name = "COMMAND", required = true, num_args = 1..)]
    pub command: Vec<String>,

    /// Command data from a file (- for stdin), for the first command.
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,

    /// Use the rw/ endpoint (needs push permission).
    #[arg(long)]
    pub rw: bool,

    /// Content encodings to announce, in order (others are sent with a
    /// warning).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "identity",
        value_name = "LIST",
        value_parser = Offered(encodings)
    )]
    pub encodings: Vec<String>,

    /// One JSON event per line (schema below).
    #[arg(long)]
    pub json: bool,

    /// Memory bound for the response: the most one frame may decode to,
    /// one request's incomplete value may hold, and (for the summary) the
    /// objects and frames kept (bytes; K, M, G suffixes). Over it: exit 5.
    #[arg(long, value_name = "SIZE", default_value = "64M", value_parser = parse_positive_size)]
    pub max_value: u64,

    #[command(flatten)]
    pub remote: RemoteOpts,

    #[command(flatten)]
    pub show: ShowOpts,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Repository URL, e.g. http://127.0.0.1:8000/
    #[arg(value_name = "URL")]
    pub url: String,

    /// One JSON event per line: a `check` per step, then a `summary`
    /// (schema below).
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub remote: RemoteOpts,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Run against the local reactor (the default).
    #[arg(long, conflicts_with_all = ["url", "against"])]
    pub local: bool,

    /// Run against a server's debugreflect endpoint.
    #[arg(long, value_name = "URL", conflicts_with = "against")]
    pub url: Option<String>,

    /// Run every script on two targets and report where they disagree,
    /// e.g. --against local,http://127.0.0.1:8000/
    #[arg(long, value_name = "A,B", value_delimiter = ',', num_args = 1)]
    pub against: Vec<String>,

    /// Rewrite the expected output in place from the actual output.
    #[arg(long)]
    pub update: bool,

    /// Write a JUnit XML report.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,

    /// One JSON event per line: a `script` event per script, then a
    /// `summary` event (schema below).
    #[arg(long)]
    pub json: bool,

    /// Scripts run in parallel (their results come in the order they
    /// finish).
    #[arg(long, short = 'j', default_value_t = 1, value_name = "N")]
    pub jobs: usize,

    /// No progress bar, no PASS or SKIP lines (nor passed or skipped
    /// events with --json): failures, errors, updates and the summary only.
    #[arg(long, short = 'q')]
    pub quiet: bool,

    /// Let `respond KEY @FILE` lines read any file, not only files beside
    /// the script (for scripts you trust).
    #[arg(long)]
    pub allow_file_access: bool,

    #[command(flatten)]
    pub remote: RemoteOpts,

    /// Scripts or directories; - reads one transcript from stdin.
    #[arg(value_name = "FILES", required = true)]
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ProxyArgs {
    /// The server to forward to (e.g. http://127.0.0.1:8000/; https works).
    #[arg(long, value_name = "URL")]
    pub upstream: String,

    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8001", value_name = "ADDR:PORT")]
    pub listen: String,

    /// Allow listening on a non-loopback address.
    #[arg(long)]
    pub public: bool,

    /// Write the frame-protocol requests seen as a replay transcript when
    /// the proxy stops.
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,

    #[command(flatten)]
    pub tls: TlsOpts,

    /// One JSON event per line (schema in the README).
    #[arg(long)]
    pub json: bool,

    /// Show only exchanges of these commands (repeatable; `debugreflect`
    /// for reflect requests, `capabilities` includes the handshake).
    #[arg(long = "command", value_name = "NAME")]
    pub commands: Vec<String>,

    /// Show each frame's bytes as hex too.
    #[arg(long)]
    pub hex: bool,

    /// Largest request body accepted (larger: 413), in bytes or with a
    /// unit: 512K, 64M, 1G.
    #[arg(long, default_value = "64M", value_name = "SIZE", value_parser = parse_size)]
    pub max_body: u64,

    /// The most all request bodies held at once may take together (past
    /// it: 503 with Retry-After).
    #[arg(long, default_value = "256M", value_name = "SIZE", value_parser = parse_size)]
    pub max_total_body: u64,

    /// Time allowed for one exchange with the upstream, in seconds.
    #[arg(long, default_value_t = 3600.0, value_name = "SECS")]
    pub timeout: f64,

    /// Time allowed to connect to the upstream, in seconds.
    #[arg(long, default_value_t = 10.0, value_name = "SECS")]
    pub connect_timeout: f64,
}

#[derive(Debug, Args)]
pub struct ReplArgs {
    /// Start with a server target.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,

    #[command(flatten)]
    pub remote: RemoteOpts,

    #[command(flatten)]
    pub show: ShowOpts,
}

/// A size: bytes, or a number with K, M or G (powers of 1024; KiB, MiB and
/// GiB, and lower case, too).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num.parse().map_err(|_| {
        format!("{s:?} is not a size: expected bytes or a number with K, M or G, e.g. 64M")
    })?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        other => {
            return Err(format!(
                "unknown size unit {other:?} in {s:?}: expected K, M or G (e.g. 64M)"
            ))
        }
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("{s:?} is too large a size"))
}

#[cfg(test)]
mod size_tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("100"), Ok(100));
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("2g"), Ok(2 << 30));
        assert_eq!(parse_size("512KiB"), Ok(512 << 10));
        assert!(parse_size("12Q").unwrap_err().contains("unknown size unit"));
        assert!(parse_size("M").unwrap_err().contains("not a size"));
        assert!(parse_size("99999999999999G")
            .unwrap_err()
            .contains("too large"));
    }
}

#[cfg(test)]
mod flag_tests {
    use std::collections::BTreeMap;

    use clap::{CommandFactory, Parser};

    use super::Cli;

    /// Each short flag means one long option in every subcommand (`-f` is
    /// `--format` wherever it exists), and every subcommand that runs
    /// something shows examples in `--help`.
    #[test]
    fn one_meaning_per_short_flag_and_examples_everywhere() {
        let cli = Cli::command();
        let mut seen: BTreeMap<char, (String, String)> = BTreeMap::new();
        let mut commands = vec![&cli];
        commands.extend(cli.get_subcommands());
        for cmd in commands {
            for arg in cmd.get_arguments() {
                let (Some(short), Some(long)) = (arg.get_short(), arg.get_long()) else {
                    continue;
                };
                let here = (long.to_string(), cmd.get_name().to_string());
                let first = seen.entry(short).or_insert_with(|| here.clone());
                assert_eq!(
                    first.0, here.0,
                    "-{short} is --{} in {} but --{} in {}",
                    first.0, first.1, here.0, here.1
                );
            }
            if cmd.get_name() != "hgframe" {
                let after = cmd
                    .get_after_help()
                    .map(|h| h.to_string())
                    .unwrap_or_default();
                assert!(after.starts_with("Examples:\n"), "{}", cmd.get_name());
            }
        }
        let shorts: Vec<String> = seen
            .iter()
            .map(|(s, (l, _))| format!("-{s} --{l}"))
            .collect();
        assert_eq!(
            shorts,
            [
                "-H --header",
                "-f --format",
                "-j --jobs",
                "-k --insecure",
                "-n --dry-run",
                "-q --quiet",
                "-v --verbose"
            ]
        );
    }

    /// Shell words of one command line, up to the first `|`, `<` or `>`
    /// (enough for the examples: '...' and "..." with \" inside).
    fn words(line: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut cur: Option<String> = None;
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            match c {
                ' ' => out.extend(cur.take()),
                '|' | '<' | '>' if cur.is_none() => break,
                '\'' => {
                    let w = cur.get_or_insert_with(String::new);
                    w.extend(chars.by_ref().take_while(|&c| c != '\''));
                }
                '"' => {
                    let w = cur.get_or_insert_with(String::new);
                    while let Some(c) = chars.next() {
                        match c {
                            '"' => break,
                            '\\' => w.extend(chars.next()),
                            c => w.push(c),
                        }
                    }
                }
                c => cur.get_or_insert_with(String::new).push(c),
            }
        }
        out.extend(cur);
        out
    }

    /// Every `hgframe ...` example in `--help` parses (and a frame string
    /// in one stays one argument).
    #[test]
    fn examples_parse() {
        let cli = Cli::command();
        let mut n = 0;
        for cmd in cli.get_subcommands() {
            let after = cmd
                .get_after_help()
                .map(|h| h.to_string())
                .unwrap_or_default();
            let examples = after.split("\n\n").next().unwrap_or_default();
            for line in examples.lines().skip(1) {
                let words = words(line.trim());
                if words.first().map(String::as_str) != Some("hgframe") {
                    continue;
                }
                n += 1;
                if let Err(e) = Cli::try_parse_from(&words) {
                    panic!("{line}: {e}");
                }
            }
        }
        assert!(n >= 25, "{n} examples");
        assert_eq!(
            words(r#"hgframe encode "1 1 0 x \"y\" z" 'a b' | jq"#),
            ["hgframe", "encode", "1 1 0 x \"y\" z", "a b"]
        );
    }

    /// `man`'s offered names are the subcommands, all of them.
    #[test]
    fn man_pages_are_the_subcommands() {
        let cli = Cli::command();
        let names: Vec<&str> = cli.get_subcommands().map(|c| c.get_name()).collect();
        assert_eq!(names, super::MAN_PAGES);
    }
}
