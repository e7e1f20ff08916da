//! `doctor`: check a server's frame-protocol set-up step by step, each
//! step a [`Finding`] handed out as soon as it is known, with what to do
//! about a failure. Stops at the first step that makes the next ones
//! meaningless.

use super::body_summary;
use crate::client::{Client, ClientError};
use crate::reflect::reflect_bytes;
use crate::wire::proto::Proto;

/// One step's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// The step passed.
    Ok(String),
    /// The step failed; how to fix it.
    Bad { message: String, fixes: Vec<String> },
    /// The step was not run, and why.
    Skipped(String),
    /// The test frame's body: local prediction and the server's.
    Diff { local: Vec<u8>, server: Vec<u8> },
}

/// How the check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Everything works and the local reactor predicts the server.
    Healthy,
    /// The endpoint works but answers differently from the prediction.
    Mismatch,
    /// The server cannot be reached at all.
    Unreachable,
    /// The server is reached but misses part of the set-up.
    Broken,
}

/// A revision and flavour as a release label when one speaks it.
fn describe(p: Proto) -> String {
    match crate::wire::proto::Release::of(p) {
        Some(r) => r.label.to_string(),
        None => format!("protocol {}", p.describe()),
    }
}

fn bad(message: String, fixes: &[&str]) -> Finding {
    Finding::Bad {
        message,
        fixes: fixes.iter().map(|f| f.to_string()).collect(),
    }
}

/// The command line that serves a repository with the frame protocol
/// and debugreflect enabled.
pub const SERVE_COMMAND: &str = "hg serve -R REPO -a 127.0.0.1 -p 8000 --config experimental.web.apiserver=true --config experimental.web.api.http-v2=true --config experimental.web.api.debugreflect=true";

/// The same settings as an hgrc block (one setting per line: Mercurial
/// ignores settings written on the section's line).
pub const HGRC_BLOCK: &str = "or in the repository's .hg/hgrc:\n[experimental]\nweb.apiserver = true\nweb.api.http-v2 = true\nweb.api.debugreflect = true";

/// What to do when the server cannot be reached, by how it failed.
fn unreachable_fixes(e: &ClientError) -> Vec<String> {
    match e {
        ClientError::Refused { .. } => vec![
            format!("start the server: {SERVE_COMMAND}"),
            "or check the port in the URL: nothing listens there".into(),
        ],
        ClientError::Dns { .. } => {
            vec!["check the host name in the URL: it does not resolve".into()]
        }
        ClientError::Timeout { .. } => vec![
            "check the address and any firewall between here and the server".into(),
            "or allow more time: --connect-timeout SECS / --timeout SECS".into(),
        ],
        ClientError::Tls { .. } => vec![
            "check the URL's scheme (http:// for `hg serve` without --certificate)".into(),
            "or trust the server's certificate: --cacert FILE.pem (a self-signed test server), or --insecure for a throwaway one".into(),
        ],
        _ => vec!["check that the URL is the one `hg serve` prints".into()],
    }
}

/// Run the checks against `client`'s server, handing each finding to `emit`.
/// `expect` is the revision (and flavour) the user said the server speaks
/// (`--hg`, `--proto`), checked against what is detected.
pub fn run(
    client: &Client,
    expect: Option<Proto>,
    emit: &mut dyn FnMut(Finding),
) -> Result<Verdict, ClientError> {
    let url = client.target.display();
    // 1. reachable
    let caps = match client.get("?cmd=capabilities") {
        Ok(r) => r,
        Err(e) => {
            emit(Finding::Bad {
                message: format!("{url} is not reachable: {e}"),
                fixes: unreachable_fixes(&e),
            });
            return Ok(Verdict::Unreachable);
        }
    };
    // Every Mercurial server answers the version-1 handshake.
    let ct = caps.header("content-type").unwrap_or("").to_string();
    if caps.status != 200 || !ct.starts_with("application/mercurial-") {
        emit(bad(
            format!(
                "{url} answers HTTP but is not a Mercurial server: GET ?cmd=capabilities gave HTTP {} {} ({})",
                caps.status,
                caps.reason,
                if ct.is_empty() { "no content type" } else { ct.as_str() }
            ),
            &[
                "use the URL `hg serve` prints (e.g. http://127.0.0.1:8000/), or the repository's URL on an hgweb server",
                &format!("to start one: {SERVE_COMMAND}"),
            ],
        ));
        return Ok(Verdict::Broken);
    }
    emit(Finding::Ok(format!(
        "{url} is a Mercurial server (HTTP 200 on GET ?cmd=capabilities)"
    )));
    // 2. /api/
    let listing = client.get("api/")?;
    let text = String::from_utf8_lossy(&listing.body).into_owned();
    if listing.status != 200 || !text.starts_with("APIs can be accessed") {
        emit(bad(
            format!("GET /api/ gives HTTP {} and no API listing: the server runs without experimental.web.apiserver", listing.status),
            &[
                "add --config experimental.web.apiserver=true to hg serve's command line",
                &format!("the whole command: {SERVE_COMMAND}"),
                HGRC_BLOCK,
            ],
        ));
        return Ok(Verdict::Broken);
    }
    let apis: Vec<&str> = text
        .lines()
        .skip(1)
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    emit(Finding::Ok(format!("/api/ lists: {}", apis.join(", "))));
    // 3. http-v2
    let Some(api) = Proto::api_names().into_iter().find(|a| apis.contains(a)) else {
        emit(bad(
            "the HTTP version 2 API (exp-http-v2-*) is not enabled".into(),
            &[
                "add --config experimental.web.api.http-v2=true to hg serve's command line",
                &format!("the whole command: {SERVE_COMMAND}"),
                HGRC_BLOCK,
            ],
        ));
        return Ok(Verdict::Broken);
    };
    emit(Finding::Ok(format!("HTTP version 2 API {api} is enabled")));
    // 4. revision and release
    let detected = match super::detect(client) {
        Ok(d) => d,
        Err(super::DetectError::Client(e)) => return Err(e),
        Err(e) => {
            emit(bad(format!("cannot tell the protocol revision: {e}"), &[]));
            return Ok(Verdict::Broken);
        }
    };
    let proto = detected.proto;
    let mut why = detected.why.iter();
    emit(Finding::Ok(format!(
        "protocol revision {proto} ({}; {})",
        proto.table().media_type,
        why.next().map(String::as_str).unwrap_or("")
    )));
    let how: Vec<&str> = why.map(String::as_str).collect();
    let how = if how.is_empty() {
        String::new()
    } else {
        format!(": {}", how.join("; "))
    };
    match detected.release {
        Some(r) => emit(Finding::Ok(format!("{}{how}", r.label))),
        None => emit(Finding::Ok(format!(
            "a Mercurial development snapshot (revision {proto} was never released){how}"
        ))),
    }
    let mut contradicted = false;
    if let Some(want) = expect {
        if want != proto {
            contradicted = true;
            emit(bad(
                format!(
                    "you said the server speaks {}, but it speaks {}",
                    describe(want),
                    describe(proto)
                ),
                &["drop --hg/--proto to use what the server speaks"],
            ));
        }
    }
    // 5. debugreflect on ro/
    let ro = client.target.command_url(proto, false, "debugreflect");
    let r = client.post_frames(&ro, proto, Vec::new())?;
    let reflect_ok = match r.status {
        200 => {
            emit(Finding::Ok(
                "debugreflect is enabled (ro/ answers 200)".into(),
            ));
            true
        }
        404 if String::from_utf8_lossy(&r.body).contains("debugreflect service not available") => {
            emit(bad(
                "debugreflect is disabled (404 debugreflect service not available)".into(),
                &[
                "add --config experimental.web.api.debugreflect=true to hg serve's command line",
                &format!("the whole command: {SERVE_COMMAND}"),
                HGRC_BLOCK,
            ],
            ));
            false
        }
        401 | 403 => {
            emit(bad(
                format!("ro/ is refused (HTTP {} {}): no pull permission", r.status, r.reason),
                &["check web.allow-read / web.deny-read, or give credentials: http://USER:PASS@host/"],
            ));
            false
        }
        s => {
            emit(bad(
                format!(
                    "ro/debugreflect answers HTTP {s}: {}",
                    body_summary(r.header("content-type").unwrap_or(""), &r.body).join(" / ")
                ),
                &[],
            ));
            false
        }
    };
    // 6. rw/
    let rw = client.target.command_url(proto, true, "debugreflect");
    let r = client.post_frames(&rw, proto, Vec::new())?;
    match r.status {
        200 => emit(Finding::Ok("rw/ is allowed (push permission)".into())),
        404 if !reflect_ok => emit(Finding::Skipped(
            "rw/ not checked (debugreflect is disabled)".into(),
        )),
        401 | 403 => emit(bad(
            format!(
                "rw/ is refused (HTTP {} {}): no push permission (only needed for rw/ commands)",
                r.status, r.reason
            ),
            &[
                "--config web.allow-push=* --config web.push_ssl=false (plain HTTP)",
                "or in the repository's .hg/hgrc:\n[web]\nallow-push = *\npush_ssl = false",
            ],
        )),
        s => emit(bad(format!("rw/debugreflect answers HTTP {s}"), &[])),
    }
    if !reflect_ok {
        return Ok(Verdict::Broken);
    }
    // 7. a test frame reflected as the local reactor predicts
    let line = proto.table().sample_request;
    let body = crate::human::parse_human(proto, line)
        .ok()
        .and_then(|p| p.frame.encode(proto).ok())
        .unwrap_or_default();
    let r = client.post_frames(&ro, proto, body.clone())?;
    let local = reflect_bytes(proto, &body);
    let verdict = match (r.status, local) {
        (200, Ok(l)) if l == r.body => {
            emit(Finding::Ok(format!(
                "a test frame ({line}) is reflected exactly as hgframe's local reactor predicts"
            )));
            Verdict::Healthy
        }
        (200, Ok(l)) => {
            emit(bad(
                "a test frame is reflected differently from the local reactor's prediction:".into(),
                &[],
            ));
            emit(Finding::Diff {
                local: l,
                server: r.body,
            });
            Verdict::Mismatch
        }
        (s, _) => {
            emit(bad(
                format!(
                    "the test frame got HTTP {s}: {}",
                    body_summary(r.header("content-type").unwrap_or(""), &r.body).join(" / ")
                ),
                &[],
            ));
            Verdict::Broken
        }
    };
    // What the user said the server speaks did not hold.
    Ok(if contradicted && verdict == Verdict::Healthy {
        Verdict::Mismatch
    } else {
        verdict
    })
}
