//! A response before it becomes an HTTP message, with the shapes Python's
//! `http.server` gives them (chunked frames, the 500 page, the 501 page).

use hyper::header::HeaderValue;

use super::http::{header, Body, Response as HttpResponse, StatusCode};

use super::pycompat::{html_escape, py_repr_str};
use crate::wire::proto::Proto;

/// A response before it becomes an HTTP message.
pub(super) struct Reply {
    pub(super) status: StatusCode,
    pub(super) content_type: Option<String>,
    pub(super) headers: Vec<(header::HeaderName, HeaderValue)>,
    pub(super) body: Vec<u8>,
    /// Further blocks after `body`, written one after the other (a large
    /// answer built in blocks is never joined).
    pub(super) more: Vec<Vec<u8>>,
    /// Kept until the answer is sent (the share of the server's memory
    /// budget the answer holds).
    pub(super) held: Option<Box<dyn Send + Sync>>,
    /// Sent with `Transfer-Encoding: chunked`, as `hg serve` sends bodies
    /// it streams (frames, the 500 page).
    pub(super) chunked: bool,
    /// Close the connection afterwards (body not read in full).
    pub(super) close: bool,
    /// For the log line: what happened, when the status alone does not say.
    pub(super) note: Option<String>,
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reply")
            .field("status", &self.status)
            .field("content_type", &self.content_type)
            .field("headers", &self.headers)
            .field("len", &self.len())
            .field("chunked", &self.chunked)
            .field("close", &self.close)
            .field("note", &self.note)
            .finish()
    }
}

impl Reply {
    pub(super) fn new(
        status: StatusCode,
        content_type: Option<&str>,
        body: impl Into<Vec<u8>>,
    ) -> Reply {
        Reply {
            status,
            content_type: content_type.map(str::to_string),
            headers: Vec::new(),
            body: body.into(),
            more: Vec::new(),
            held: None,
            chunked: false,
            close: false,
            note: None,
        }
    }

    /// `res.status = ...; Content-Type: text/plain; setbodybytes(...)`.
    pub(super) fn text(status: StatusCode, body: impl Into<Vec<u8>>) -> Reply {
        Reply::new(status, Some("text/plain"), body)
    }

    /// What `http.server` sends when the WSGI application raised before
    /// the status line went out.
    pub(super) fn internal_error(note: impl Into<String>) -> Reply {
        let mut r = Reply::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            None,
            b"Internal Server Error".to_vec(),
        );
        r.chunked = true;
        r.note = Some(note.into());
        r
    }

    /// Frames (already encoded) with the revision's media type.
    pub(super) fn frames(proto: Proto, body: Vec<u8>) -> Reply {
        let mut r = Reply::new(StatusCode::OK, Some(proto.table().media_type), body);
        r.chunked = true;
        r
    }

    /// `text` with a body in blocks.
    pub(super) fn text_blocks(status: StatusCode, blocks: Vec<Vec<u8>>) -> Reply {
        let mut r = Reply::text(status, Vec::new());
        r.more = blocks;
        r
    }

    /// The body's size.
    pub(super) fn len(&self) -> usize {
        self.body.len() + self.more.iter().map(Vec::len).sum::<usize>()
    }

    /// Keep `held` until the answer is sent.
    pub(super) fn holding(mut self, held: impl Send + Sync + 'static) -> Reply {
        self.held = Some(Box::new(held));
        self
    }

    pub(super) fn with_note(mut self, note: impl Into<String>) -> Reply {
        self.note = Some(note.into());
        self
    }

    pub(super) fn closing(mut self) -> Reply {
        self.close = true;
        self
    }

    /// `chunked` only applies when the connection stays open: http.server
    /// sends a streamed body close-delimited otherwise (we send its length).
    pub(super) fn into_response(self, head: bool, keep_alive: bool) -> HttpResponse {
        self.into_response_then(head, keep_alive, |_| {})
    }

    /// [`Reply::into_response`], calling `done` with the bytes not handed
    /// to the socket once hyper is done with the body.
    pub(super) fn into_response_then(
        self,
        head: bool,
        keep_alive: bool,
        done: impl FnOnce(u64) + Send + Sync + 'static,
    ) -> HttpResponse {
        let mut b = hyper::Response::builder().status(self.status);
        if let Some(h) = b.headers_mut() {
            h.insert(header::SERVER, HeaderValue::from_static(SERVER_HEADER));
            if let Some(ct) = &self.content_type {
                if let Ok(v) = HeaderValue::from_str(ct) {
                    h.insert(header::CONTENT_TYPE, v);
                }
            }
            for (k, v) in self.headers {
                h.append(k, v);
            }
            if self.close {
                h.insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
        }
        let blocks = std::iter::once(self.body)
            .chain(self.more)
            .map(bytes::Bytes::from);
        let mut body = if self.chunked && keep_alive && !head {
            Body::chunked_blocks(blocks)
        } else {
            Body::whole_blocks(blocks)
        };
        let held = self.held;
        body = body.on_done(move |left| {
            drop(held);
            done(left)
        });
        b.body(body).unwrap_or_else(|_| {
            // (the body, and its `done`, went with the builder's error)
            let mut r = HttpResponse::new(Body::whole(&b"Internal Server Error"[..]));
            *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            r
        })
    }
}

/// The note of work given up because the client went away.
pub(super) const GONE: &str = "the client went away; the work stopped";

pub(super) const SERVER_HEADER: &str = concat!("hgframe/", env!("CARGO_PKG_VERSION"));

/// `BaseHTTPRequestHandler.send_error(501, "Unsupported method (%r)")`.
pub(super) fn unsupported_method(method: &str) -> Reply {
    let message = format!("Unsupported method ({})", py_repr_str(method));
    let body = format!(
        "<!DOCTYPE HTML>\n<html lang=\"en\">\n    <head>\n        <meta charset=\"utf-8\">\n        <title>Error response</title>\n    </head>\n    <body>\n        <h1>Error response</h1>\n        <p>Error code: 501</p>\n        <p>Message: {}.</p>\n        <p>Error code explanation: 501 - Server does not support this operation.</p>\n    </body>\n</html>\n",
        html_escape(&message)
    );
    Reply::new(
        StatusCode::NOT_IMPLEMENTED,
        Some("text/html;charset=utf-8"),
        body,
    )
    .closing()
    .with_note(message)
}
