//! Reading request bodies within limits: the size limit (413), the time a
//! client has to send its body (408), draining what is not needed so
//! keep-alive clients stay in sync.

use std::pin::Pin;
use std::time::{Duration, Instant};

use axum::body::{Body, HttpBody};
use axum::http::{header, HeaderMap, StatusCode};

use super::reply::Reply;

// ---------------------------------------------------------------------------
// Request bodies

pub(super) fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

pub(super) fn too_large(max: u64, declared: Option<u64>) -> Reply {
    let msg = match declared {
        Some(n) => format!(
            "request body too large: Content-Length is {n} bytes, this server accepts at most {max} (--max-body)\n"
        ),
        None => format!(
            "request body too large: more than {max} bytes, the most this server accepts (--max-body)\n"
        ),
    };
    Reply::text(StatusCode::PAYLOAD_TOO_LARGE, msg)
        .closing()
        .with_note("request body over --max-body")
}

pub(super) fn timed_out(timeout: Duration, got: usize) -> Reply {
    Reply::text(
        StatusCode::REQUEST_TIMEOUT,
        format!(
            "request timeout: the request body did not arrive within {} s (--timeout); got {got} bytes\n",
            timeout.as_secs_f64()
        ),
    )
    .closing()
    .with_note("client too slow sending the body")
}

pub(super) enum BodyEnd {
    TooLarge,
    TimedOut,
    Failed(String),
}

/// Pull body data until EOF, `max` bytes, or the deadline.
pub(super) async fn pull_body(
    body: &mut Body,
    max: u64,
    deadline: Instant,
    keep: Option<&mut Vec<u8>>,
    count: &mut u64,
) -> Result<(), BodyEnd> {
    let mut keep = keep;
    loop {
        let next = std::future::poll_fn(|cx| Pin::new(&mut *body).poll_frame(cx));
        let frame = match tokio::time::timeout_at(deadline.into(), next).await {
            Err(_) => return Err(BodyEnd::TimedOut),
            Ok(None) => return Ok(()),
            Ok(Some(Err(e))) => return Err(BodyEnd::Failed(e.to_string())),
            Ok(Some(Ok(f))) => f,
        };
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        *count += data.len() as u64;
        if *count > max {
            return Err(BodyEnd::TooLarge);
        }
        if let Some(k) = keep.as_deref_mut() {
            k.extend_from_slice(&data);
        }
    }
}

/// After deciding 413 on a body without Content-Length: read on a little
/// so the client (which usually writes before it reads) sees the answer
/// instead of a connection reset.
pub(super) async fn courtesy_drain(body: &mut Body) {
    let mut n = 0;
    let until = Instant::now() + Duration::from_millis(200);
    let _ = pull_body(body, 256 * 1024, until, None, &mut n).await;
}

/// The whole body (bounded by size and time), or the error reply.
pub(super) async fn read_body(
    mut body: Body,
    headers: &HeaderMap,
    max: u64,
    deadline: Instant,
) -> Result<Vec<u8>, Reply> {
    let declared = declared_length(headers);
    if let Some(n) = declared {
        if n > max {
            return Err(too_large(max, Some(n)));
        }
    }
    let cap = declared.unwrap_or(0).min(max).min(16 * 1024 * 1024) as usize;
    let mut out = Vec::with_capacity(cap);
    let mut count = 0;
    let timeout = deadline.saturating_duration_since(Instant::now());
    match pull_body(&mut body, max, deadline, Some(&mut out), &mut count).await {
        Ok(()) => Ok(out),
        Err(BodyEnd::TooLarge) => {
            courtesy_drain(&mut body).await;
            Err(too_large(max, None))
        }
        Err(BodyEnd::TimedOut) => Err(timed_out(timeout.max(Duration::from_secs(0)), out.len())),
        Err(BodyEnd::Failed(e)) => Err(Reply::text(
            StatusCode::BAD_REQUEST,
            format!("error reading the request body: {e}\n"),
        )
        .closing()
        .with_note(format!("body read failed: {e}"))),
    }
}

/// Mercurial drains the request body before answering; do the same
/// (within the limits) so keep-alive clients stay in sync, and close the
/// connection when the body could not be drained.
pub(super) async fn drain(
    mut body: Body,
    headers: &HeaderMap,
    max: u64,
    deadline: Instant,
    reply: Reply,
) -> Reply {
    if body.is_end_stream() {
        return reply;
    }
    if declared_length(headers).is_some_and(|n| n > max) {
        return reply.closing();
    }
    let mut n = 0;
    match pull_body(&mut body, max, deadline, None, &mut n).await {
        Ok(()) => reply,
        Err(_) => reply.closing(),
    }
}
