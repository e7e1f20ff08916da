//! Reading request bodies within limits: the size limit (413), the memory
//! all requests' bodies may hold together (503), the time a client has to
//! send its body (408), draining what is not needed so keep-alive clients
//! stay in sync.

use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use http_body::Body as _;

use super::http::{header, HeaderMap, Incoming as Body, StatusCode};

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

/// The memory every request body held at once may take together, in KiB
/// permits: a body's permits are taken as its bytes arrive and given back
/// when the request is answered.
#[derive(Debug, Clone)]
pub(crate) struct Budget {
    sem: Arc<Semaphore>,
    total: u64,
}

/// The part of a [`Budget`] one request holds.
#[derive(Debug, Default)]
pub(crate) struct Held(Option<OwnedSemaphorePermit>);

impl Budget {
    pub(crate) fn new(total_bytes: u64) -> Budget {
        let kib = total_bytes
            .div_ceil(1024)
            .min(Semaphore::MAX_PERMITS as u64) as usize;
        Budget {
            sem: Arc::new(Semaphore::new(kib)),
            total: total_bytes,
        }
    }

    /// Grow `held` to cover `bytes`; false when the budget is spent.
    pub(super) fn cover(&self, held: &mut Held, bytes: u64) -> bool {
        let need = bytes.div_ceil(1024);
        let have = held.0.as_ref().map_or(0, |p| p.num_permits() as u64);
        if need <= have {
            return true;
        }
        let Ok(more) = u32::try_from(need - have) else {
            return false;
        };
        match self.sem.clone().try_acquire_many_owned(more) {
            Ok(p) => {
                match &mut held.0 {
                    Some(h) => h.merge(p),
                    None => held.0 = Some(p),
                }
                true
            }
            Err(_) => false,
        }
    }
}

impl Held {
    /// Give back all but what `bytes` need.
    pub(super) fn shrink_to(&mut self, bytes: u64) {
        let need = bytes.div_ceil(1024) as usize;
        if let Some(p) = &mut self.0 {
            if p.num_permits() > need {
                let extra = p.num_permits() - need;
                drop(p.split(extra));
            }
        }
    }
}

/// A debugreflect answer stopped while being built: the budget the bodies
/// share ran out. Busy (503, try again) when the request would fit the
/// budget alone; otherwise a 500 that says what Mercurial would do.
pub(super) fn answer_over_budget(budget: &Budget, body: usize, answer: usize) -> Reply {
    let total = budget.total;
    if (body as u64).saturating_add(answer as u64) <= total {
        let mut r = Reply::text(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "server busy: this request's answer (past {answer} bytes so far) and the other requests' bodies and answers would pass {total} bytes held at once (--max-total-body); try again in a moment, or raise --max-total-body\n"
            ),
        )
        .closing()
        .with_note(format!(
            "answer stopped at {answer} bytes: requests over --max-total-body across connections"
        ));
        r.headers.push((
            header::RETRY_AFTER,
            hyper::header::HeaderValue::from_static("1"),
        ));
        return r;
    }
    Reply::text(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!(
            "hgframe serve stops at its memory bound here: the debugreflect answer passed {answer} bytes while being built, and with the {body}-byte request body that is more than the {total} bytes --max-total-body lets requests hold at once. Mercurial has no bound and would build the whole answer in memory and send it with 200; start hgframe serve with a larger --max-total-body to get it\n"
        ),
    )
    .with_note(format!(
        "the answer passed {answer} bytes: over --max-total-body ({total}) with its {body}-byte body"
    ))
}

pub(super) fn over_budget(total: u64) -> Reply {
    let mut r = Reply::text(
        StatusCode::SERVICE_UNAVAILABLE,
        format!(
            "server busy: the request bodies held across all connections would pass {total} bytes (--max-total-body); try again in a moment, or raise --max-total-body\n"
        ),
    )
    .closing()
    .with_note("request bodies over --max-total-body across connections");
    r.headers.push((
        header::RETRY_AFTER,
        hyper::header::HeaderValue::from_static("1"),
    ));
    r
}

pub(super) enum BodyEnd {
    TooLarge,
    OverBudget,
    TimedOut,
    Failed(String),
}

/// Pull body data until EOF, `max` bytes, the budget spent, or the
/// deadline.
pub(super) async fn pull_body(
    body: &mut Body,
    max: u64,
    deadline: Instant,
    keep: Option<(&mut Vec<u8>, &Budget, &mut Held)>,
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
        if let Some((k, budget, held)) = keep.as_mut() {
            if !budget.cover(held, *count) {
                return Err(BodyEnd::OverBudget);
            }
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

/// The whole body (bounded by size, time and the shared budget, whose
/// share it holds until dropped), or the error reply.
pub(super) async fn read_body(
    mut body: Body,
    headers: &HeaderMap,
    max: u64,
    deadline: Instant,
    budget: &Budget,
) -> Result<(Vec<u8>, Held), Reply> {
    let declared = declared_length(headers);
    let mut held = Held::default();
    if let Some(n) = declared {
        if n > max {
            return Err(too_large(max, Some(n)));
        }
        // Take the whole share at once when the length is announced.
        if !budget.cover(&mut held, n) {
            return Err(over_budget(budget.total));
        }
    }
    // The announced length is reserved at once (its share of the budget
    // is already taken; pages a lying client never sends are never
    // touched): growing by doubling would hold the old and the new buffer
    // at once.
    let cap = declared.unwrap_or(0).min(max) as usize;
    let mut out = Vec::with_capacity(cap);
    let mut count = 0;
    let timeout = deadline.saturating_duration_since(Instant::now());
    match pull_body(
        &mut body,
        max,
        deadline,
        Some((&mut out, budget, &mut held)),
        &mut count,
    )
    .await
    {
        Ok(()) => Ok((out, held)),
        Err(BodyEnd::TooLarge) => {
            courtesy_drain(&mut body).await;
            Err(too_large(max, None))
        }
        Err(BodyEnd::OverBudget) => {
            drop(out);
            drop(held);
            courtesy_drain(&mut body).await;
            Err(over_budget(budget.total))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A share grows as bytes are covered, is refused past the budget, and
    /// gives back what it no longer needs when shrunk (an answer's share
    /// once its request body is gone) or dropped.
    #[test]
    fn shares_grow_shrink_and_return() {
        let budget = Budget::new(10 * 1024);
        let mut a = Held::default();
        assert!(budget.cover(&mut a, 8 * 1024));
        let mut b = Held::default();
        assert!(!budget.cover(&mut b, 4 * 1024), "8 + 4 KiB of 10");
        a.shrink_to(2 * 1024);
        assert!(budget.cover(&mut b, 8 * 1024), "2 + 8 KiB of 10");
        assert!(!budget.cover(&mut a, 3 * 1024), "3 + 8 KiB of 10");
        drop(b);
        assert!(budget.cover(&mut a, 10 * 1024));
        assert!(!budget.cover(&mut a, 10 * 1024 + 1));
    }
}
