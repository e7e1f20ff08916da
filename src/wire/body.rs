//! What an HTTP body is, from its content type, and bodies that are not
//! frames decoded as what they are.
//!
//! A Mercurial server answers frames (a revision's media type, the
//! revisions' tables say which), CBOR (`application/mercurial-cbor`: the
//! capabilities of a v1 handshake, content redirects), text (`text/plain`:
//! reactor errors, 403 `permission denied`, 404 `API … not enabled`) or
//! hgweb's HTML pages (400 `no such method: api` when the API server is
//! off). [`BodyKind::of`] tells them apart; [`decode_body`] gives CBOR
//! values, text, or an HTML page summed up ([`HtmlSummary`]: title and the
//! line that says what went wrong). Text is returned with control
//! characters escaped ([`escape_text`]) so a body cannot drive a terminal.
//!
//! Bytes in, values out: no I/O, and CBOR under a memory bound.

use crate::python::cbor::{self, DecodeError};
use crate::python::value::Value;
use crate::wire::proto::Proto;

/// The CBOR media type of Mercurial's HTTP API.
pub const MEDIA_CBOR: &str = "application/mercurial-cbor";

/// What a body is, by its content type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyKind {
    /// Frames of this revision.
    Frames(Proto),
    /// `application/mercurial-cbor`: CBOR values back to back.
    Cbor,
    /// `text/plain` (and other `text/*` but HTML).
    Text,
    /// `text/html`, `application/xhtml+xml`.
    Html,
    /// Anything else (the content type, lowercased, parameters dropped).
    Other(String),
}

impl BodyKind {
    /// The kind for a `Content-Type` value (parameters such as `charset`
    /// ignored, case-insensitive).
    pub fn of(content_type: &str) -> BodyKind {
        let mt = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if let Some(p) = Proto::by_media_type(&mt) {
            return BodyKind::Frames(p);
        }
        match mt.as_str() {
            MEDIA_CBOR => BodyKind::Cbor,
            "text/html" | "application/xhtml+xml" => BodyKind::Html,
            t if t.starts_with("text/") => BodyKind::Text,
            _ => BodyKind::Other(mt),
        }
    }
}

/// A body decoded as what its kind says.
#[derive(Debug, Clone, PartialEq)]
pub enum DecodedBody {
    /// Frames: decode them with the frame codec (not done here).
    Frames(Proto),
    /// The CBOR values, or why they do not decode.
    Cbor(Result<Vec<Value>, DecodeError>),
    /// The text, control characters escaped.
    Text(String),
    Html(HtmlSummary),
    /// Bytes of an unknown kind, escaped.
    Other {
        content_type: String,
        text: String,
    },
}

/// Decode a whole body (CBOR under a bound of `limit` bytes).
pub fn decode_body(kind: BodyKind, body: &[u8], limit: u64) -> DecodedBody {
    match kind {
        BodyKind::Frames(p) => DecodedBody::Frames(p),
        BodyKind::Cbor => DecodedBody::Cbor(cbor::decode_all_limited(body, limit)),
        BodyKind::Text => DecodedBody::Text(escape_text(body)),
        BodyKind::Html => DecodedBody::Html(summarize_html(body)),
        BodyKind::Other(content_type) => DecodedBody::Other {
            content_type,
            text: escape_text(body),
        },
    }
}

/// Text with every control character but newline and tab escaped
/// (`\x1b`, `\r`, `\x7f`, C1 controls as `\u{85}`), and bytes that are not
/// UTF-8 as `\xNN`.
pub fn escape_text(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len());
    for chunk in b.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\n' | '\t' => out.push(c),
                '\r' => out.push_str("\\r"),
                c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                    out.push_str(&format!("\\x{:02x}", c as u32))
                }
                c if (0x80..0xa0).contains(&(c as u32)) => {
                    out.push_str(&format!("\\u{{{:x}}}", c as u32))
                }
                c => out.push(c),
            }
        }
        for &x in chunk.invalid() {
            out.push_str(&format!("\\x{x:02x}"));
        }
    }
    out
}

/// An HTML page summed up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HtmlSummary {
    /// `<title>`, whitespace collapsed.
    pub title: Option<String>,
    /// The line that says what happened (hgweb's error description, else
    /// the first block mentioning an error, else the first heading that is
    /// not the title).
    pub line: Option<String>,
    /// The page's length in bytes.
    pub bytes: usize,
}

impl std::fmt::Display for HtmlSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HTML page ({} bytes)", self.bytes)?;
        if let Some(t) = &self.title {
            write!(f, " titled \"{t}\"")?;
        }
        if let Some(l) = &self.line {
            write!(f, ": {l}")?;
        }
        Ok(())
    }
}

/// At most this many bytes of a page are looked at.
const HTML_SCAN: usize = 256 * 1024;
/// Summary lines are cut to this many characters.
const HTML_LINE: usize = 300;

/// Sum an HTML page up (see [`HtmlSummary`]).
pub fn summarize_html(body: &[u8]) -> HtmlSummary {
    let text = String::from_utf8_lossy(&body[..body.len().min(HTML_SCAN)]);
    let blocks = html_blocks(&text);
    let title = blocks
        .iter()
        .find(|b| b.tag == "title")
        .map(|b| b.text.clone());
    let visible: Vec<&Block> = blocks.iter().filter(|b| b.tag != "title").collect();
    let errorish = |s: &str| {
        let l = s.to_lowercase();
        [
            "error",
            "denied",
            "forbidden",
            "not found",
            "unauthorized",
            "invalid",
            "no such",
            "failed",
            "not enabled",
            "not available",
        ]
        .iter()
        .any(|k| l.contains(k))
    };
    let mut line = None;
    // hgweb: "An error occurred while processing your request:" then the
    // message in the next paragraph.
    if let Some(i) = visible
        .iter()
        .position(|b| b.text.to_lowercase().contains("error occurred"))
    {
        let mut l = visible[i].text.clone();
        if let Some(next) = visible.get(i + 1) {
            l.push(' ');
            l.push_str(&next.text);
        }
        line = Some(l);
    }
    if line.is_none() {
        line = visible
            .iter()
            .find(|b| b.text.len() > 3 && errorish(&b.text) && Some(&b.text) != title.as_ref())
            .map(|b| b.text.clone());
    }
    if line.is_none() {
        line = visible
            .iter()
            .find(|b| b.tag.starts_with('h') && Some(&b.text) != title.as_ref())
            .map(|b| b.text.clone());
    }
    let cut = |s: String| -> String {
        let s = escape_text(s.as_bytes());
        if s.chars().count() > HTML_LINE {
            format!("{}…", s.chars().take(HTML_LINE).collect::<String>())
        } else {
            s
        }
    };
    HtmlSummary {
        title: title.map(cut),
        line: line.map(cut),
        bytes: body.len(),
    }
}

struct Block {
    /// The innermost block tag it came from (`title`, `h1`, `p`, …).
    tag: String,
    text: String,
}

/// Visible text of a page in blocks, split at block-level tags; script,
/// style and comments dropped, entities decoded, whitespace collapsed.
fn html_blocks(s: &str) -> Vec<Block> {
    const BLOCK: &[&str] = &[
        "title", "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "br", "tr", "td", "th",
        "pre", "body", "html", "head", "ul", "ol", "table", "form", "center", "hr", "dd", "dt",
    ];
    let mut out = Vec::new();
    let mut tag = String::from("body");
    let mut cur = String::new();
    let flush = |tag: &str, cur: &mut String, out: &mut Vec<Block>| {
        let t = cur.split_whitespace().collect::<Vec<_>>().join(" ");
        if !t.is_empty() {
            out.push(Block {
                tag: tag.to_string(),
                text: decode_entities(&t),
            });
        }
        cur.clear();
    };
    let mut rest = s;
    while let Some(lt) = rest.find('<') {
        cur.push_str(&rest[..lt]);
        rest = &rest[lt..];
        if rest.starts_with("<!--") {
            rest = rest.find("-->").map_or("", |e| &rest[e + 3..]);
            continue;
        }
        let Some(gt) = rest.find('>') else {
            rest = "";
            break;
        };
        let inner = &rest[1..gt];
        rest = &rest[gt + 1..];
        let closing = inner.starts_with('/');
        let name: String = inner
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if !closing && (name == "script" || name == "style") {
            let end = format!("</{name}");
            rest = rest
                .to_ascii_lowercase()
                .find(&end)
                .map_or("", |e| &rest[e..]);
            continue;
        }
        if BLOCK.contains(&name.as_str()) {
            flush(&tag, &mut cur, &mut out);
            tag = if closing { "body".into() } else { name };
        } else {
            cur.push(' ');
        }
    }
    cur.push_str(rest);
    flush(&tag, &mut cur, &mut out);
    out
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::new();
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let window = &rest.as_bytes()[..rest.len().min(12)];
        let Some(semi) = window.iter().position(|&b| b == b';') else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let ent = &rest[1..semi];
        let c = match ent {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some(' '),
            e if e.starts_with("#x") || e.starts_with("#X") => u32::from_str_radix(&e[2..], 16)
                .ok()
                .and_then(char::from_u32),
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match c {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HGWEB_400: &str = r#"<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.1//EN" "http://www.w3.org/TR/xhtml11/DTD/xhtml11.dtd">
<html><head>
<script type="text/javascript" src="/static/mercurial.js"></script>
<title>/tmp/htmlt/r: error</title>
</head><body>
<div class="menu"><ul><li><a href="/shortlog">log</a></li></ul></div>
<h3>error</h3>
<form class="search" action="/log"><p><input name="rev" /></p>
<div id="hint">Find changesets by keywords (author, files, the commit message), revision
number or hash, or <a href="/help/revsets">revset expression</a>.</div></form>
<div class="description">
<p>
An error occurred while processing your request:
</p>
<p>
no such method: api
</p>
</div></body></html>"#;

    #[test]
    fn kinds_from_content_types() {
        assert_eq!(
            BodyKind::of("application/mercurial-exp-framing-0006"),
            BodyKind::Frames(Proto::P0006)
        );
        assert_eq!(BodyKind::of("Application/Mercurial-CBOR"), BodyKind::Cbor);
        assert_eq!(BodyKind::of("text/plain; charset=utf-8"), BodyKind::Text);
        assert_eq!(BodyKind::of("text/html; charset=UTF-8"), BodyKind::Html);
        assert_eq!(
            BodyKind::of("application/mercurial-0.1"),
            BodyKind::Other("application/mercurial-0.1".into())
        );
        assert_eq!(BodyKind::of(""), BodyKind::Other(String::new()));
    }

    #[test]
    fn hgweb_error_page_summed_up() {
        let s = summarize_html(HGWEB_400.as_bytes());
        assert_eq!(s.title.as_deref(), Some("/tmp/htmlt/r: error"));
        assert_eq!(
            s.line.as_deref(),
            Some("An error occurred while processing your request: no such method: api")
        );
        assert_eq!(
            s.to_string(),
            format!("HTML page ({} bytes) titled \"/tmp/htmlt/r: error\": An error occurred while processing your request: no such method: api", HGWEB_400.len())
        );
    }

    #[test]
    fn other_pages_and_hostile_ones() {
        let s = summarize_html(b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>");
        assert_eq!(s.title.as_deref(), Some("502 Bad Gateway"));
        assert_eq!(s.line, None, "the heading repeats the title");
        let s = summarize_html(b"<title>x\x1b[31mred &amp; &#65;</title><p>Access denied\x07</p>");
        assert_eq!(s.title.as_deref(), Some("x\\x1b[31mred & A"));
        assert_eq!(s.line.as_deref(), Some("Access denied\\x07"));
        // unterminated tags and comments do not loop or panic
        for b in [
            &b"<title"[..],
            b"<!-- x",
            b"<p>a<",
            b"&#xffffffff; &",
            b"<script>x",
        ] {
            let _ = summarize_html(b);
        }
        let long = format!("<p>error {}</p>", "x".repeat(1000));
        assert!(summarize_html(long.as_bytes()).line.unwrap().ends_with('…'));
    }

    #[test]
    fn text_escapes_control_characters() {
        assert_eq!(
            escape_text(b"ok\n\ttab\r\x1b[0m\x7f\xc2\x85\xff"),
            "ok\n\ttab\\r\\x1b[0m\\x7f\\u{85}\\xff"
        );
    }

    #[test]
    fn cbor_bodies_decode_under_the_bound() {
        match decode_body(BodyKind::Cbor, &[0xa1, 0x41, b'a', 0x01, 0x02], 1 << 20) {
            DecodedBody::Cbor(Ok(v)) => assert_eq!(v.len(), 2),
            other => panic!("{other:?}"),
        }
        // a string declaring 2**63 bytes fails at once, not after buffering
        let mut b = vec![0x5b];
        b.extend_from_slice(&(1u64 << 63).to_be_bytes());
        match decode_body(BodyKind::Cbor, &b, 1 << 20) {
            DecodedBody::Cbor(Err(e)) => assert!(!e.is_over_limit(), "{e}"),
            other => panic!("{other:?}"),
        }
        // 100k empty lists: fine with a big bound, refused with a small one
        let mut b = vec![0x9a, 0, 1, 0x86, 0xa0];
        b.extend(std::iter::repeat_n(0x80, 100_000));
        assert!(matches!(
            decode_body(BodyKind::Cbor, &b, 1 << 30),
            DecodedBody::Cbor(Ok(_))
        ));
        match decode_body(BodyKind::Cbor, &b, 1 << 20) {
            DecodedBody::Cbor(Err(e)) => assert!(e.is_over_limit(), "{e}"),
            other => panic!("{other:?}"),
        }
    }
}
