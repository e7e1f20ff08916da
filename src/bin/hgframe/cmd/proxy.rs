//! `hgframe proxy`: forward a client's exchanges to a server and print
//! them as they pass; stopped by Ctrl-C or SIGTERM, when `--record`
//! writes its transcript.

use std::collections::HashSet;
use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use hgframe::client::{Client, ClientOptions, Target};
use hgframe::proxy::{transcript_skeleton, ClientUpstream, ExchangeKind, ProxyEvent, ProxyWatch};
use hgframe::render::proxy::{event_json, write_event};
use hgframe::replay::{run_script, Exec, RunOptions};
use hgframe::server::{forward, listen, ListenOptions};

use super::serve::Signals;
use super::{Io, Result};
use crate::args::{GlobalOpts, ProxyArgs};
use crate::error::Failure;

pub fn run(g: &GlobalOpts, a: ProxyArgs, io: &mut Io<'_>) -> Result<u8> {
    let secs = |v: f64, what: &str| -> Result<Duration> {
        if v.is_finite() && v > 0.0 && v < 1e7 {
            Ok(Duration::from_secs_f64(v))
        } else {
            Err(Failure::Usage(format!(
                "--{what} {v}: expected a positive number of seconds"
            )))
        }
    };
    let client = Client::new(
        Target::parse(&a.upstream)?,
        ClientOptions {
            timeout: secs(a.timeout, "timeout")?,
            connect_timeout: secs(a.connect_timeout, "connect-timeout")?,
            headers: Vec::new(),
            // Redirects are the client's business: pass them on.
            follow_redirects: false,
            ca_certs: super::read_certs(&a.tls)?,
            insecure: a.tls.insecure,
            ..ClientOptions::default()
        },
    )?;
    let upstream_url = client.target.display();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<ProxyEvent>();
    let watch = Arc::new(ProxyWatch::new(Arc::new(move |e| {
        let _ = tx.send(e);
    })));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Usage(format!("cannot start the signal handler: {e}")))?;
    let mut signals = rt
        .block_on(async { Signals::new() })
        .map_err(|e| Failure::Usage(format!("cannot install signal handlers: {e}")))?;
    let handler = forward::handler(
        Arc::new(ClientUpstream(client)),
        watch.clone(),
        a.max_body,
        a.max_total_body,
        Duration::from_secs(60),
    );
    let handle = listen(
        ListenOptions {
            addr: a.listen.clone(),
            public: a.public,
            header_timeout: Duration::from_secs(60),
            name: "hgframe-proxy",
            on_idle: Some(crate::release_freed_memory),
        },
        handler,
    )?;
    writeln!(
        io.stderr,
        "hgframe: proxy listening at http://{}/ for {upstream_url}",
        handle.addr()
    )?;
    io.stderr.flush()?;
    let verbose = g.verbose > 0;
    let filter: HashSet<String> = a.commands.iter().cloned().collect();
    let mut shown: HashSet<u64> = HashSet::new();
    let out = &mut *io.stdout;
    let mut write_err: Option<io::Error> = None;
    let why = rt.block_on(async {
        loop {
            tokio::select! {
                e = rx.recv() => match e {
                    Some(e) => {
                        if let Err(err) = show(out, &e, &a, &filter, &mut shown, verbose) {
                            write_err = Some(err);
                            break "the output was closed";
                        }
                    }
                    None => break "the proxy stopped",
                },
                s = signals.recv() => break s,
            }
        }
    });
    let _ = writeln!(io.stderr, "hgframe: {why}; stopping");
    handle.shutdown();
    while let Ok(e) = rx.try_recv() {
        if show(out, &e, &a, &filter, &mut shown, verbose).is_err() {
            break;
        }
    }
    out.flush()?;
    if let Some(path) = &a.record {
        record(path, &watch, io.stderr)?;
    }
    match write_err {
        Some(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(0),
    }
}

/// Print one event (if its exchange passes the filter).
fn show(
    out: &mut dyn Write,
    e: &ProxyEvent,
    a: &ProxyArgs,
    filter: &HashSet<String>,
    shown: &mut HashSet<u64>,
    verbose: bool,
) -> io::Result<()> {
    let id = e.id();
    if let ProxyEvent::Request { kind, .. } = e {
        let pass = filter.is_empty()
            || match kind {
                ExchangeKind::Handshake => filter.contains("capabilities"),
                ExchangeKind::Command {
                    command, commands, ..
                } => filter.contains(command) || commands.iter().any(|c| filter.contains(c)),
                ExchangeKind::Reflect { .. } => filter.contains("debugreflect"),
                ExchangeKind::Other => false,
            };
        if pass {
            shown.insert(id);
        }
    }
    if !shown.contains(&id) {
        return Ok(());
    }
    if a.json {
        writeln!(out, "{}", event_json(e))?;
    } else {
        write_event(out, e, verbose, a.hex)?;
    }
    if matches!(e, ProxyEvent::Ended { .. } | ProxyEvent::Failed { .. }) {
        shown.remove(&id);
        out.flush()?;
    }
    Ok(())
}

/// Write the transcript of the recorded requests, its expected output
/// produced by running it on the local reactor.
fn record(path: &Path, watch: &ProxyWatch, err: &mut dyn Write) -> Result<()> {
    let recorded = watch.recorded();
    let Some((proto, skeleton)) = transcript_skeleton(&recorded) else {
        writeln!(
            err,
            "hgframe: no frame-protocol request passed: {} not written",
            path.display()
        )?;
        return Ok(());
    };
    let file = path.display().to_string();
    let report = run_script(
        &file,
        io::Cursor::new(skeleton.as_bytes()),
        &Exec::Local,
        Some(proto),
        &RunOptions {
            proto: Some(proto),
            update: true,
            keep_outputs: false,
            cli_target: true,
            ..RunOptions::default()
        },
        |_| {},
    )
    .map_err(|e| Failure::Usage(format!("cannot build the transcript: {e}")))?;
    let text = report.updated.unwrap_or(skeleton);
    std::fs::write(path, text)
        .map_err(|e| Failure::Usage(format!("cannot write {}: {e}", path.display())))?;
    writeln!(
        err,
        "hgframe: recorded {} request(s), {} frame(s) to {} (check it with: hgframe replay --url URL {})",
        report.requests,
        report.frames,
        path.display(),
        path.display()
    )?;
    Ok(())
}
