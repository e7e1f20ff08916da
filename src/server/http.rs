//! The HTTP types the server speaks, on hyper alone: requests arrive with
//! hyper's streaming body, responses leave with [`Body`] — a whole body
//! (sent with its length), a whole body sent chunked (as Python's
//! `http.server` streams what Mercurial yields), or chunks passed on as
//! they arrive (the proxy).

use std::collections::VecDeque;
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
pub struct Body {
    kind: Kind,
    /// Called when hyper is done with the body (sent, or the connection
    /// failed) with the bytes it did not take: the access log line is
    /// written then, and the memory the answer held is given back.
    done: Option<Box<dyn FnOnce(u64) + Send + Sync>>,
}

impl Drop for Body {
    fn drop(&mut self) {
        if let Some(done) = self.done.take() {
            let left = match &self.kind {
                Kind::Whole(b) | Kind::Chunked(b) => b.iter().map(|b| b.len() as u64).sum(),
                Kind::Channel(_) => 0,
            };
            done(left);
        }
    }
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Body").field(&self.kind).finish()
    }
}

#[derive(Debug)]
enum Kind {
    /// Sent with `Content-Length` (the blocks' total).
    Whole(VecDeque<Bytes>),
    /// Sent with `Transfer-Encoding: chunked` (no length announced).
    Chunked(VecDeque<Bytes>),
    /// Chunks from a channel, chunked; an error ends the body early.
    Channel(tokio::sync::mpsc::Receiver<Result<Vec<u8>, std::io::Error>>),
}

fn blocks(b: impl IntoIterator<Item = Bytes>) -> VecDeque<Bytes> {
    b.into_iter().filter(|b| !b.is_empty()).collect()
}

impl Body {
    fn new(kind: Kind) -> Body {
        Body { kind, done: None }
    }

    /// A whole body, sent with its length.
    pub fn whole(b: impl Into<Bytes>) -> Body {
        Body::whole_blocks([b.into()])
    }

    /// A whole body in blocks (written one after the other, never
    /// joined), sent with its length.
    pub fn whole_blocks(b: impl IntoIterator<Item = Bytes>) -> Body {
        Body::new(Kind::Whole(blocks(b)))
    }

    /// A whole body, sent chunked.
    pub fn chunked(b: impl Into<Bytes>) -> Body {
        Body::chunked_blocks([b.into()])
    }

    /// A whole body in blocks, sent chunked.
    pub fn chunked_blocks(b: impl IntoIterator<Item = Bytes>) -> Body {
        Body::new(Kind::Chunked(blocks(b)))
    }

    /// Chunks as a channel delivers them.
    pub fn channel(rx: tokio::sync::mpsc::Receiver<Result<Vec<u8>, std::io::Error>>) -> Body {
        Body::new(Kind::Channel(rx))
    }

    /// Call `done` with the bytes hyper did not take (0: all were
    /// handed to the socket) when it is done with the body.
    pub fn on_done(mut self, done: impl FnOnce(u64) + Send + Sync + 'static) -> Body {
        self.done = Some(Box::new(done));
        self
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        match &mut self.kind {
            Kind::Whole(b) | Kind::Chunked(b) => {
                Poll::Ready(b.pop_front().map(|b| Ok(Frame::data(b))))
            }
            Kind::Channel(rx) => rx
                .poll_recv(cx)
                .map(|o| o.map(|r| r.map(|v| Frame::data(Bytes::from(v))))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Whole(b) | Kind::Chunked(b) => b.is_empty(),
            Kind::Channel(_) => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Whole(b) => SizeHint::with_exact(b.iter().map(|b| b.len() as u64).sum()),
            // No exact size: hyper sends these chunked on HTTP/1.1.
            Kind::Chunked(_) | Kind::Channel(_) => SizeHint::default(),
        }
    }
}
