//! The routing of `hgweb` → `handlewsgiapirequest` → `handlehttpv2request`:
//! status codes and messages decided from the URL and headers before the
//! body is read, then the body read and handed to the sans-IO work.

use std::time::Instant;

use hyper::header::HeaderValue;

use super::http::{header, HeaderMap, Method, Request, StatusCode};

use super::body::{drain, read_body};
use super::dispatch::process_command;
use super::gone::Gone;
use super::pycompat::{accept_header, content_type, dispatch_parts, path_info};
use super::reply::{unsupported_method, Reply};
use super::Ctx;
use crate::reactor::ReactorOptions;
use crate::reflect::reflect_blocks_until;
use crate::wire::proto::Permission;

/// What the URL asks for, decided before the body is read.
pub(super) enum Route {
    /// Answer at once (after draining the body).
    Now(Reply),
    Reflect,
    Command {
        permission: Permission,
        name: Vec<u8>,
    },
}

/// Answer one request. `gone` turns true when the client has gone (the
/// connection failed before the answer): the protocol work stops then.
pub(super) async fn route(ctx: &Ctx, req: Request, deadline: Instant, gone: Gone) -> Reply {
    let (parts, body) = req.into_parts();
    let r = decide(
        ctx,
        &parts.method,
        parts.uri.path(),
        parts.uri.query(),
        &parts.headers,
    );
    match r {
        Route::Now(reply) => drain(body, &parts.headers, ctx.max_body, deadline, reply).await,
        Route::Reflect => {
            let (bytes, mut held) =
                match read_body(body, &parts.headers, ctx.max_body, deadline, &ctx.budget).await {
                    Ok(b) => b,
                    Err(reply) => return reply,
                };
            let proto = ctx.proto;
            let max_value = ctx.max_value;
            let budget = ctx.budget.clone();
            let size = bytes.len();
            blocking(ctx, size, &gone.clone(), move || {
                let opts = ReactorOptions {
                    max_value,
                    ..ReactorOptions::default()
                };
                // The answer is held in memory whole (a later crash means
                // a 500 instead), so it counts against the budget the
                // bodies share, as it grows.
                let mut answer = 0;
                let r = reflect_blocks_until(proto, bytes, opts, |built| {
                    answer = built;
                    gone.check() || !budget.cover(&mut held, (size + built) as u64)
                });
                match r {
                    Ok(Some(b)) => {
                        held.shrink_to(answer as u64);
                        Reply::text_blocks(StatusCode::OK, b).holding(held)
                    }
                    Ok(None) if gone.seen() => Reply::internal_error(super::reply::GONE),
                    Ok(None) => {
                        drop(held);
                        super::body::answer_over_budget(&budget, size, answer)
                    }
                    Err(e) => Reply::internal_error(format!(
                        "{e}; Mercurial's log shows {}",
                        e.exception()
                    )),
                }
            })
            .await
        }
        Route::Command { permission, name } => {
            let (bytes, held) =
                match read_body(body, &parts.headers, ctx.max_body, deadline, &ctx.budget).await {
                    Ok(b) => b,
                    Err(reply) => return reply,
                };
            let proto = ctx.proto;
            let responder = ctx.responder.clone();
            let max_value = ctx.max_value;
            let size = bytes.len();
            blocking(ctx, size, &gone.clone(), move || {
                let _held = held;
                process_command(
                    proto,
                    &responder,
                    permission,
                    &name,
                    bytes,
                    max_value,
                    &|| gone.check(),
                )
            })
            .await
        }
    }
}

/// Bodies up to this size are worked on where they arrive (tens of
/// microseconds: cheaper than a thread hop); larger ones go to the
/// blocking pool.
const INLINE_BODY: usize = 64 * 1024;

/// Run protocol work of a body of `size` bytes: small ones inline, large
/// ones off the async workers, at most one job per core at a time either
/// way (a burst of requests waits instead of starting hundreds of
/// threads, each holding its body and output). A panic there (a bug)
/// becomes a 500 instead of a dropped connection.
pub(super) async fn blocking(
    ctx: &Ctx,
    size: usize,
    gone: &Gone,
    f: impl FnOnce() -> Reply + Send + 'static,
) -> Reply {
    let Ok(_slot) = ctx.workers.clone().acquire_owned().await else {
        return Reply::internal_error("hgframe bug: the worker pool is closed");
    };
    if size <= INLINE_BODY {
        return match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
            Ok(r) => r,
            Err(_) => Reply::internal_error("hgframe bug: request handler panicked"),
        };
    }
    // Work off the async workers may run long: let it notice a client
    // that resets its connection.
    gone.arm();
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r,
        Err(e) => Reply::internal_error(format!("hgframe bug: request handler failed: {e}")),
    }
}

/// The routing of `hgweb` → `handlewsgiapirequest` → `handlehttpv2request`.
pub(super) fn decide(
    ctx: &Ctx,
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Route {
    let table = ctx.proto.table();
    // Python's http.server only has do_GET/do_POST/do_PUT in hgweb's handler.
    if !matches!(method.as_str(), "GET" | "POST" | "PUT") {
        return Route::Now(unsupported_method(method.as_str()));
    }
    let info = path_info(path);
    let parts = dispatch_parts(&info);
    // The version-1 handshake of every stock client, at the repository root.
    if parts.is_empty() && query_cmd(query) == Some("capabilities") {
        return Route::Now(super::handshake::answer(ctx.proto, headers));
    }
    if parts.first().map(|p| p.as_slice()) != Some(b"api") {
        let mut r = Reply::text(
            StatusCode::NOT_FOUND,
            format!(
                "hgframe serve only serves Mercurial's /api/ URL space (try /api/ or /api/{}/); hgweb pages are not emulated\n",
                table.api_name
            ),
        );
        r.note = Some("not an /api/ URL (hgweb would answer)".into());
        return Route::Now(r);
    }
    if parts.len() == 1 {
        let mut body =
            b"APIs can be accessed at /api/<name>, where <name> can be one of the following:\n\n"
                .to_vec();
        body.extend_from_slice(table.api_name.as_bytes());
        return Route::Now(Reply::text(StatusCode::OK, body));
    }
    if parts[1] != table.api_name.as_bytes() {
        let mut body = b"Unknown API: ".to_vec();
        body.extend_from_slice(&parts[1]);
        body.extend_from_slice(b"\nKnown APIs: ");
        body.extend_from_slice(table.api_name.as_bytes());
        return Route::Now(Reply::text(StatusCode::NOT_FOUND, body));
    }
    let urlparts = &parts[2..];
    if urlparts.is_empty() {
        return Route::Now(Reply::text(StatusCode::OK, "HTTP version 2 API handler"));
    }
    if urlparts.len() == 1 {
        let mut body = b"do not know how to process ".to_vec();
        body.extend_from_slice(&parts.join(&b'/'));
        body.push(b'\n');
        return Route::Now(Reply::text(StatusCode::NOT_FOUND, body));
    }
    let (perm, command) = (&urlparts[0], &urlparts[1]);
    let permission = match perm.as_slice() {
        b"ro" => Permission::Pull,
        b"rw" => Permission::Push,
        _ => {
            let mut body = b"unknown permission: ".to_vec();
            body.extend_from_slice(perm);
            return Route::Now(Reply::text(StatusCode::NOT_FOUND, body));
        }
    };
    if method != Method::POST {
        let mut r = Reply::new(
            StatusCode::METHOD_NOT_ALLOWED,
            None,
            "commands require POST requests",
        );
        r.headers
            .push((header::ALLOW, HeaderValue::from_static("POST")));
        return Route::Now(r);
    }
    // checkperm: pull is allowed; push too (push_ssl=false, allow-push=*).
    if command == b"debugreflect" {
        if !ctx.reflect {
            return Route::Now(Reply::text(
                StatusCode::NOT_FOUND,
                "debugreflect service not available",
            ));
        }
        return Route::Reflect;
    }
    if command != b"multirequest" && ctx.proto.command(command).is_none() {
        let mut body = b"unknown wire protocol command: ".to_vec();
        body.extend_from_slice(command);
        body.push(b'\n');
        return Route::Now(Reply::text(StatusCode::NOT_FOUND, body));
    }
    if accept_header(headers).as_deref() != Some(table.media_type.as_bytes()) {
        return Route::Now(Reply::text(
            StatusCode::NOT_ACCEPTABLE,
            format!(
                "client MUST specify Accept header with value: {}\n",
                table.media_type
            ),
        ));
    }
    if content_type(headers) != table.media_type.as_bytes() {
        return Route::Now(Reply::text(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "client MUST send Content-Type header with value: {}\n",
                table.media_type
            ),
        ));
    }
    Route::Command {
        permission,
        name: command.clone(),
    }
}

/// The `cmd` query parameter (the last one, as `parse_qs` keeps them).
fn query_cmd(query: Option<&str>) -> Option<&str> {
    query?
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .filter(|(k, _)| *k == "cmd")
        .map(|(_, v)| v)
        .next_back()
}
