//! The HTTP types the server speaks, on hyper alone: requests arrive with
//! hyper's streaming body, responses leave with [`Body`] — a whole body
//! (sent with its length), a whole body sent chunked (as Python's
//! `http.server` streams what Mercurial yields), or chunks passed on as
//! they arrive (the proxy).

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};

pub use hyper::body::Incoming;
pub use hyper::{header, HeaderMap, Method, StatusCode, Version};

/// A request as the server receives it.
pub type Request = hyper::Request<Incoming>;

/// A response as the server sends it.
pub type Response = hyper::Response<Body>;

/// A response body.
#[derive(Debug)]
pub struct Body(Kind);

#[derive(Debug)]
enum Kind {
    /// Sent with `Content-Length`.
    Whole(Option<Bytes>),
    /// Sent with `Transfer-Encoding: chunked` (no length announced).
    Chunked(Option<Bytes>),
    /// Chunks from a channel, chunked; an error ends the body early.
    Channel(tokio::sync::mpsc::Receiver<Result<Vec<u8>, std::io::Error>>),
}

impl Body {
    /// A whole body, sent with its length.
    pub fn whole(b: impl Into<Bytes>) -> Body {
        let b = b.into();
        Body(Kind::Whole((!b.is_empty()).then_some(b)))
    }

    /// A whole body, sent chunked.
    pub fn chunked(b: impl Into<Bytes>) -> Body {
        let b = b.into();
        Body(Kind::Chunked((!b.is_empty()).then_some(b)))
    }

    /// Chunks as a channel delivers them.
    pub fn channel(rx: tokio::sync::mpsc::Receiver<Result<Vec<u8>, std::io::Error>>) -> Body {
        Body(Kind::Channel(rx))
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        match &mut self.0 {
            Kind::Whole(b) | Kind::Chunked(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            Kind::Channel(rx) => rx
                .poll_recv(cx)
                .map(|o| o.map(|r| r.map(|v| Frame::data(Bytes::from(v))))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.0 {
            Kind::Whole(b) | Kind::Chunked(b) => b.is_none(),
            Kind::Channel(_) => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.0 {
            Kind::Whole(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            // No exact size: hyper sends these chunked on HTTP/1.1.
            Kind::Chunked(_) | Kind::Channel(_) => SizeHint::default(),
        }
    }
}
