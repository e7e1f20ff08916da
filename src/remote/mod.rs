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
use crate::reflect::{parse_reflect_body, RemoteReflect};
use crate::wire::frame::{Frame, LengthMode, Located, SliceDecoder};
use crate::wire::proto::Proto;

/// The server answered with an HTTP error status.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", self.message())]
pub struct HttpError {
    /// What was asked, e.g. `POST http://…/debugreflect`.
    pub what: String,
    pub status: u16,
    pub reason: String,
    /// The answer's `Content-Type` (empty when it has none).
    pub content_type: String,
    pub body: Vec<u8>,
}

/// How much of a body an error message shows.
const SHOWN_BODY: usize = 2000;

/// A body as an error message shows it, decoded as its content type says:
/// text with control characters escaped, an HTML page summed up, CBOR
/// values as Python literals, frames by size.
pub fn describe_body(content_type: &str, body: &[u8]) -> String {
    use crate::wire::body::{decode_body, BodyKind, DecodedBody};
    let cut = |s: String| -> String {
        let s = s.trim_end().to_string();
        if s.chars().count() > SHOWN_BODY {
            format!(
                "{}… ({} bytes)",
                s.chars().take(SHOWN_BODY).collect::<String>(),
                body.len()
            )
        } else {
            s
        }
    };
    match decode_body(BodyKind::of(content_type), body, 16 << 20) {
        DecodedBody::Text(t) | DecodedBody::Other { text: t, .. } => cut(t),
        DecodedBody::Html(h) => h.to_string(),
        DecodedBody::Cbor(Ok(values)) => cut(values
            .iter()
            .map(|v| crate::human::to_literal(v).unwrap_or_else(|| format!("{v:?}")))
            .collect::<Vec<_>>()
            .join("\n")),
        DecodedBody::Cbor(Err(e)) => format!(
            "{} bytes of {content_type} that do not decode ({})",
            body.len(),
            e.python_exception()
        ),
        DecodedBody::Frames(p) => format!("{} bytes of protocol {p} frames", body.len()),
    }
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
        if !self.body.is_empty() {
            let shown = describe_body(&self.content_type, &self.body);
            msg.push_str(&format!("\n  | {}", shown.replace('\n', "\n  | ")));
        }
        if let Some(h) = self.hint() {
            msg.push_str(&format!("\n  = {h}"));
        }
        msg
    }
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
    #[error("the server answered with {} instead of frames: {}", if content_type.is_empty() { "no content type" } else { content_type.as_str() }, describe_body(content_type, body))]
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
/// answer names.
pub fn detect_proto(client: &Client) -> Result<(Proto, String), DetectError> {
    let (listing, text) = api_listing(client)?;
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
            return Ok((p, format!("the server lists API {api}")));
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
                return Ok((p, format!("the server's 406 names {mt}")));
            }
        }
        return Err(DetectError::Ambiguous {
            api: api.to_string(),
            status: r.status,
            body: body.trim().to_string(),
            candidates: candidates.iter().map(|p| p.name()).collect(),
        });
    }
    Err(DetectError::NoApi {
        listing: text.trim().to_string(),
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
    SliceDecoder::new(proto, LengthMode::Mercurial, body)
        .map_while(|r| r.ok())
        .map(|l| Located {
            offset: l.offset,
            header: l.header,
            frame: l.frame.to_owned(),
        })
        .collect()
}
