//! Operations against a live server, built from the library layers and
//! carried by [`crate::client`]: telling the server's revision
//! ([`detect_proto`]), posting frames to `debugreflect` ([`reflect`]),
//! running real commands ([`send`]) and checking a server's set-up
//! ([`doctor`]).
//!
//! Results are values (replies, parsed bodies, decoded responses,
//! findings); printing them is [`crate::render`]'s job and choosing exit
//! codes the binary's. Must not print or read a terminal.

pub mod doctor;
pub mod send;

use crate::client::{Client, ClientError, Reply};
use crate::python::json::JsonFlavor;
use crate::python::Py;
use crate::reflect::{parse_reflect_body, RemoteReflect};
use crate::wire::frame::{Frame, Located};
use crate::wire::proto::{Flavor, Proto, Release};

/// The server answered with an HTTP error status.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", self.message())]
pub struct HttpError {
    /// What was asked, e.g. `POST http://…/debugreflect`.
    pub what: String,
    pub status: u16,
    pub reason: String,
    pub content_type: String,
    pub body: Vec<u8>,
}

impl HttpError {
    pub fn new(reply: &Reply, what: impl Into<String>) -> HttpError {
        HttpError {
            what: what.into(),
            status: reply.status,
            reason: reply.reason.clone(),
            content_type: reply.header("content-type").unwrap_or("").to_string(),
            body: reply.body.clone(),
        }
    }

    /// What to do about it, from the status and Mercurial's messages.
    pub fn hint(&self) -> Option<&'static str> {
        let body = String::from_utf8_lossy(&self.body);
        match (self.status, body.trim_end()) {
            (500, _) => Some("the server raised an exception; its error log (hg serve -E FILE) has the traceback"),
            (404, b) if b.contains("debugreflect service not available") => {
                Some("enable it with --config experimental.web.api.debugreflect=true")
            }
            (404, b) if b.contains("not enabled") => Some("enable the API with --config experimental.web.api.http-v2=true"),
            (400, b) if b.contains("no such method") => {
                Some("the server runs without --config experimental.web.apiserver=true")
            }
            (403, _) => Some("rw/ URLs need push permission: --config web.allow-push=* (and web.push_ssl=false on plain HTTP)"),
            (406 | 415, _) => Some("the server speaks another protocol revision: try --proto with the revision its message names"),
            _ => None,
        }
    }

    fn message(&self) -> String {
        let mut msg = format!(
            "{}: the server answered HTTP {} {}",
            self.what, self.status, self.reason
        );
        for line in body_summary(&self.content_type, &self.body) {
            msg.push_str(&format!("\n  | {line}"));
        }
        if let Some(h) = self.hint() {
            msg.push_str(&format!("\n  = {h}"));
        }
        msg
    }
}

/// The most lines of a body quoted in an error.
const SUMMARY_LINES: usize = 8;
/// The most characters of one quoted line.
const SUMMARY_WIDTH: usize = 200;

/// What a body says, in a few lines fit for a terminal: for HTML its title
/// and first lines of text (tags dropped), for text its first lines;
/// control characters escaped, long lines and bodies cut (saying so).
/// How much of a body that is not the answer hgframe wanted (an error
/// page, another content type) `send` reads to show it: a body of one byte
/// more was cut there, and [`body_summary`] says so.
pub const SHOWN_BODY: usize = 1 << 20;

pub fn body_summary(content_type: &str, body: &[u8]) -> Vec<String> {
    use crate::wire::body::{decode_body, BodyKind, DecodedBody};
    // CBOR (a v1 capabilities answer, a content redirect) and frames are
    // not text: their values, or their size, say what they are.
    match decode_body(BodyKind::of(content_type), body, 16 << 20) {
        DecodedBody::Cbor(Ok(values)) => {
            let mut out: Vec<String> = values
                .iter()
                .take(SUMMARY_LINES)
                .map(|v| {
                    let lit = crate::human::to_literal(v).unwrap_or_else(|| format!("{v:?}"));
                    terminal_safe(&lit, SUMMARY_WIDTH)
                })
                .collect();
            if values.len() > SUMMARY_LINES {
                out.push(format!(
                    "… ({} CBOR values, {} bytes in all)",
                    values.len(),
                    body.len()
                ));
            }
            return out;
        }
        DecodedBody::Cbor(Err(e)) => {
            return vec![format!(
                "{} bytes of {content_type} that do not decode ({})",
                body.len(),
                e.python_exception()
            )]
        }
        DecodedBody::Frames(p) => {
            return vec![format!("{} bytes of protocol {p} frames", body.len())]
        }
        _ => {}
    }
    let text = String::from_utf8_lossy(body);
    let head: String = text.chars().take(64 * 1024).collect();
    let is_html = content_type.to_ascii_lowercase().contains("html")
        || head
            .trim_start()
            .get(..5)
            .is_some_and(|s| s.eq_ignore_ascii_case("<!doc") || s.eq_ignore_ascii_case("<html"));
    let mut lines: Vec<String> = if is_html {
        html_lines(&head)
    } else {
        head.lines()
            .map(str::trim_end)
            .filter(|l| !l.trim().is_empty())
            .map(str::to_string)
            .collect()
    };
    let total = lines.len();
    lines.truncate(SUMMARY_LINES);
    let mut out: Vec<String> = lines
        .iter()
        .map(|l| terminal_safe(l, SUMMARY_WIDTH))
        .collect();
    if body.len() > SHOWN_BODY {
        out.push(format!(
            "… (more than {SHOWN_BODY} bytes{}: hgframe read no further)",
            if is_html { " of HTML" } else { "" }
        ));
    } else if total > SUMMARY_LINES || text.chars().count() > head.chars().count() {
        out.push(format!(
            "… ({} bytes in all{})",
            body.len(),
            if is_html { ", HTML" } else { "" }
        ));
    }
    out
}

/// The title and the text lines of an HTML page.
fn html_lines(html: &str) -> Vec<String> {
    let lower = html.to_ascii_lowercase();
    let mut out = Vec::new();
    let title = match (lower.find("<title>"), lower.find("</title>")) {
        (Some(a), Some(b)) if b > a + 7 => Some(html[a + 7..b].trim().to_string()),
        _ => None,
    };
    // Drop tags (and script/style contents), keep text lines.
    let mut text = String::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        text.push_str(&rest[..i]);
        let tail = &rest[i..];
        let lt = tail.to_ascii_lowercase();
        let skip_to = if lt.starts_with("<script") {
            lt.find("</script>").map(|j| j + 9)
        } else if lt.starts_with("<style") {
            lt.find("</style>").map(|j| j + 8)
        } else if lt.starts_with("<title") {
            lt.find("</title>").map(|j| j + 8)
        } else {
            tail.find('>').map(|j| j + 1)
        };
        match skip_to {
            Some(j) => {
                if lt.starts_with("<p")
                    || lt.starts_with("<br")
                    || lt.starts_with("<h")
                    || lt.starts_with("<div")
                    || lt.starts_with("<li")
                {
                    text.push('\n');
                }
                rest = &tail[j..];
            }
            None => {
                rest = "";
            }
        }
    }
    text.push_str(rest);
    if let Some(t) = &title {
        out.push(format!("(HTML) {t}"));
    }
    for l in text.lines() {
        let l = l.split_whitespace().collect::<Vec<_>>().join(" ");
        let l = l
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#x27;", "'")
            .replace("&amp;", "&");
        if !l.is_empty() && Some(&l) != title.as_ref() {
            out.push(l);
        }
    }
    // The line that says what went wrong goes first (after the title):
    // hgweb's error page starts with navigation, and its message ("An
    // error occurred while processing your request:" and the next line)
    // would fall past the lines shown.
    let first = usize::from(title.is_some());
    if let Some(i) = out
        .iter()
        .skip(first)
        .position(|l| l.to_ascii_lowercase().contains("error occurred"))
        .map(|i| i + first)
    {
        let end = (i + 2).min(out.len());
        let moved: Vec<String> = out.drain(i..end).collect();
        for (k, l) in moved.into_iter().enumerate() {
            out.insert(first + k, l);
        }
    }
    out
}

/// A line of text from the network, safe to print: control characters
/// (terminal escapes included) as `\xNN`, cut at `max` characters.
pub fn terminal_safe(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max.saturating_mul(4)));
    for (i, c) in s.chars().enumerate() {
        if i == max {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Why the server's revision could not be told.
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("cannot tell the server's protocol revision: GET {url} answered HTTP {status} (no API listing)\n  = the server runs without --config experimental.web.apiserver=true; or pass --proto")]
    NoListing { url: String, status: u16 },
    #[error("the server lists {api} but its 406 answer names no known media type (HTTP {status}): {body}\n  = pass --proto {}", candidates.join(" or "))]
    Ambiguous {
        api: String,
        status: u16,
        body: String,
        candidates: Vec<&'static str>,
    },
    #[error("the server offers no frame-protocol API: {listing}\n  = enable it with --config experimental.web.api.http-v2=true")]
    NoApi { listing: String },
}

/// Why a remote operation failed.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// Transport: connect, timeout, TLS… (or a bad URL/header).
    #[error(transparent)]
    Client(#[from] ClientError),
    /// An HTTP error status.
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error(transparent)]
    Detect(#[from] DetectError),
    /// A 200 answer that is not frames.
    #[error("the server answered with {} instead of frames: {}", if content_type.is_empty() { "no content type" } else { content_type.as_str() }, body_summary(content_type, body).join("\n  | "))]
    NotFrames { content_type: String, body: Vec<u8> },
    /// The response is over hgframe's memory bound.
    #[error(transparent)]
    OverLimit(#[from] crate::reactor::client::OverLimit),
    /// hgframe has no client reactor for the revision.
    #[error(transparent)]
    NoClient(#[from] crate::reactor::client::NoClientReactor),
}

/// The `/api/` listing: the API names it offers, if it is one.
fn api_listing(client: &Client) -> Result<(Reply, Option<String>), ClientError> {
    let listing = client.get("api/")?;
    let text = String::from_utf8_lossy(&listing.body).into_owned();
    let ok = listing.status == 200 && text.starts_with("APIs can be accessed");
    Ok((listing, ok.then_some(text)))
}

/// Find the server's revision from the API it lists under `/api/` and,
/// when several revisions share that API name, from the media type its 406
/// answer names; then its flavour ([`detect`]).
pub fn detect_proto(client: &Client) -> Result<(Proto, String), DetectError> {
    let d = detect(client)?;
    Ok((d.proto, d.why.join("; ")))
}

/// What a live server was found to speak.
#[derive(Debug, Clone)]
pub struct Detected {
    /// The revision, in the flavour of the server's release.
    pub proto: Proto,
    /// How each part was told, in order.
    pub why: Vec<String>,
    /// The releases that speak it so.
    pub release: Option<&'static Release>,
}

/// The revision (from `/api/` and a 406) and the flavour of a live server:
/// its Python from the `Server:` header (or, behind a proxy that hides it,
/// from the message a harmless request gets: a bad sender-protocol-settings
/// frame to `ro/heads` is refused before any command runs, with the
/// exception text of the server's Python); on Python 2, the JSON encoder of
/// 4.8/4.9 and 5.0/5.1 from a debugreflect probe (`<` written literally or
/// as `\u003c`).
pub fn detect(client: &Client) -> Result<Detected, DetectError> {
    let (proto, why, server) = detect_revision(client)?;
    let mut why = vec![why];
    let proto = if proto.table().flavors.len() > 1 {
        let (flavor, fwhy) = detect_flavor(client, proto, server.as_deref())?;
        why.extend(fwhy);
        proto.with_flavor(flavor).unwrap_or(proto)
    } else {
        proto
    };
    Ok(Detected {
        proto,
        why,
        release: Release::of(proto),
    })
}

/// The Python major version a `Server:` header names
/// (`BaseHTTP/0.3 Python/2.7.18`).
pub fn python_of_server_header(h: &str) -> Option<Py> {
    let v = h.split("Python/").nth(1)?;
    match v.chars().next()? {
        '2' => Some(Py::Two),
        '3' => Some(Py::Three),
        _ => None,
    }
}

fn detect_flavor(
    client: &Client,
    proto: Proto,
    server: Option<&str>,
) -> Result<(&'static Flavor, Vec<String>), DetectError> {
    let mut why = Vec::new();
    let mut py = server.and_then(python_of_server_header);
    if let (Some(p), Some(h)) = (py, server) {
        why.push(format!(
            "Python {} (Server: {})",
            if p == Py::Two { 2 } else { 3 },
            terminal_safe(h, 60)
        ));
    } else if let Some(settings) = proto.table().sender_settings {
        // ro/heads with a sender-protocol-settings frame whose CBOR is a
        // text string: the reactor refuses it before any command runs.
        let f = Frame::new(settings, 0x2, b"badvalue".to_vec()).with_ids(0, 1, 1);
        if let Ok(body) = f.encode(proto) {
            let url = client.target.command_url(proto, false, "heads");
            let r = client.post_frames(&url, proto, body)?;
            let text = String::from_utf8_lossy(&r.body);
            if text.contains("frame: b'") {
                py = Some(Py::Three);
            } else if text.contains("frame: string major type") {
                py = Some(Py::Two);
            }
            if let Some(p) = py {
                why.push(format!(
                    "Python {} (the exception text ro/heads answers a bad settings frame with)",
                    if p == Py::Two { 2 } else { 3 }
                ));
            }
        }
    }
    let Some(py) = py else {
        why.push(format!(
            "the server's Python is not shown; assuming {}",
            proto.flavor().describe
        ));
        return Ok((proto.flavor(), why));
    };
    let candidates: Vec<&'static Flavor> = proto
        .table()
        .flavors
        .iter()
        .copied()
        .filter(|f| f.python == py)
        .collect();
    if let [only] = candidates[..] {
        return Ok((only, why));
    }
    // Several flavours on this Python: tell the JSON encoders apart.
    let line = proto.table().sample_request.replace("b'heads'", "b'<'");
    let probe = crate::human::parse_human(proto, &line)
        .ok()
        .and_then(|p| p.frame.encode(proto).ok());
    if let Some(body) = probe {
        let url = client.target.command_url(proto, false, "debugreflect");
        let r = client.post_frames(&url, proto, body)?;
        if r.status == 200 {
            let json = if r.body.windows(6).any(|w| w == br"\u003c") {
                JsonFlavor::Mercurial
            } else {
                JsonFlavor::Python2
            };
            if let Some(f) = candidates.iter().find(|f| f.json == json) {
                why.push(format!(
                    "debugreflect JSON by {}",
                    match json {
                        JsonFlavor::Python2 => "json.dumps (`<` written as is)",
                        JsonFlavor::Mercurial => "templatefilters.json (`<` as \\u003c)",
                    }
                ));
                return Ok((f, why));
            }
        }
    }
    let first = candidates.first().copied().unwrap_or(proto.flavor());
    why.push(format!(
        "debugreflect is off, so the JSON encoder cannot be told; assuming {}",
        first.describe
    ));
    Ok((first, why))
}

/// The revision alone, and the `Server:` header of the listing.
fn detect_revision(client: &Client) -> Result<(Proto, String, Option<String>), DetectError> {
    let (listing, text) = api_listing(client)?;
    let server = listing.header("server").map(str::to_string);
    let Some(text) = text else {
        return Err(DetectError::NoListing {
            url: listing.url,
            status: listing.status,
        });
    };
    for api in Proto::api_names() {
        if !text.contains(api) {
            continue;
        }
        let candidates = Proto::by_api_name(api);
        if let [p] = candidates[..] {
            return Ok((p, format!("the server lists API {api}"), server));
        }
        let url = client.target.join(&format!("api/{api}/ro/heads"));
        let r = client.post_raw(
            &url,
            &[("Accept", "application/x-hgframe-probe")],
            Vec::new(),
        )?;
        let body = String::from_utf8_lossy(&r.body);
        if let Some(pos) = body.find("application/mercurial-exp-framing-") {
            let mt = body[pos..].trim();
            if let Some(p) = Proto::by_media_type(mt) {
                return Ok((p, format!("the server's 406 names {mt}"), server));
            }
        }
        return Err(DetectError::Ambiguous {
            api: api.to_string(),
            status: r.status,
            body: terminal_safe(body.trim(), SUMMARY_WIDTH),
            candidates: candidates.iter().map(|p| p.name()).collect(),
        });
    }
    Err(DetectError::NoApi {
        listing: body_summary("text/plain", text.trim().as_bytes()).join(" / "),
    })
}

/// A server's debugreflect answer, parsed back with the frames sent.
pub struct Reflected {
    pub reply: Reply,
    pub parsed: RemoteReflect,
}

/// POST a request body to `debugreflect` (ro/ or rw/).
pub fn reflect(
    client: &Client,
    proto: Proto,
    rw: bool,
    body: &[u8],
) -> Result<Reflected, RemoteError> {
    let endpoint = client.target.command_url(proto, rw, "debugreflect");
    let reply = client.post_frames(&endpoint, proto, body.to_vec())?;
    if !reply.is_ok() {
        return Err(
            HttpError::new(&reply, format!("POST {}", crate::client::redact(&endpoint))).into(),
        );
    }
    let frames = sent_frames(proto, body);
    let parsed = parse_reflect_body(proto, &frames, &reply.body);
    Ok(Reflected { reply, parsed })
}

/// The frames of a request body as a Mercurial server reads them (with
/// its length arithmetic), up to the first undecodable byte.
pub fn sent_frames(proto: Proto, body: &[u8]) -> Vec<Located<Frame>> {
    crate::reflect::request_frames(proto, body)
}
