//! `hgframe serve`: the embedded server in the foreground, its access
//! log on stderr (with `--json`, JSON events on stdout), stopped by
//! Ctrl-C or SIGTERM.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use hgframe::server::{start, AccessEntry, LogTarget, ServeOptions};
use hgframe::session::Responder;
use hgframe::Proto;
use serde_json::json;

use super::{Io, Result};
use crate::args::{GlobalOpts, ServeArgs};
use crate::error::Failure;

/// `hgframe serve`.
pub fn run(g: &GlobalOpts, a: ServeArgs, io: &mut Io<'_>) -> Result<u8> {
    let proto = g.proto.unwrap_or(Proto::DEFAULT);
    if a.timeout == 0 {
        return Err(Failure::Usage(
            "--timeout 0: expected a number of seconds of at least 1".into(),
        ));
    }
    let responder = Responder::parse(proto, &a.respond)?;
    for (name, _) in &responder.by_command {
        if proto.command(name).is_none() {
            let known: Vec<&str> = proto.table().commands.iter().map(|c| c.name).collect();
            writeln!(
                io.stderr,
                "hgframe: warning: --respond {}=...: {} is not a command the protocol {proto} server knows; its URL answers 404\n  = known commands: {}",
                String::from_utf8_lossy(name),
                String::from_utf8_lossy(name),
                known.join(", ")
            )?;
        }
    }
    // Log lines travel to this thread, which owns stderr and stdout (main
    // holds their locks).
    let (log_tx, mut log_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let json = a.json;
    let opts = ServeOptions {
        addr: a.listen.clone(),
        public: a.public,
        proto,
        responder,
        max_body: a.max_body,
        max_total_body: a.max_total_body,
        max_value: a.max_value,
        on_idle: Some(crate::release_freed_memory),
        timeout: Duration::from_secs(a.timeout),
        reflect: !a.no_reflect,
        log: LogTarget::Entries(Arc::new(move |e: &AccessEntry| {
            let _ = log_tx.send(if json { e.json().to_string() } else { e.line() });
        })),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Usage(format!("cannot start the signal handler: {e}")))?;
    // Handlers go in before the address is announced, so a SIGTERM sent as
    // soon as the line appears is handled, not fatal.
    let mut signals = rt
        .block_on(async { Signals::new() })
        .map_err(|e| Failure::Usage(format!("cannot install signal handlers: {e}")))?;
    let handle = start(opts)?;
    let url = format!("http://{}/", handle.addr());
    if json {
        writeln!(
            io.stdout,
            "{}",
            json!({"event": "listening", "url": url, "proto": proto.to_string()})
        )?;
    } else {
        writeln!(io.stdout, "listening at {url}")?;
    }
    io.stdout.flush()?;
    if g.verbose > 0 {
        writeln!(
            io.stderr,
            "hgframe: serving protocol {proto}: API {}, media type {}{}",
            proto.table().api_name,
            proto.table().media_type,
            if a.no_reflect {
                ", debugreflect disabled"
            } else {
                ""
            }
        )?;
    }
    // The log: text on stderr, or JSON events on stdout (each flushed: a
    // reader follows the stream as it comes).
    let log: &mut dyn std::io::Write = if json {
        &mut *io.stdout
    } else {
        &mut *io.stderr
    };
    let why = rt.block_on(async {
        loop {
            tokio::select! {
                line = log_rx.recv() => match line {
                    Some(l) => { let _ = writeln!(log, "{l}").and_then(|_| log.flush()); }
                    None => break "the server stopped",
                },
                s = signals.recv() => break s,
            }
        }
    });
    if json {
        let _ = writeln!(log, "{}", json!({"event": "shutdown", "reason": why}));
    } else {
        let _ = writeln!(log, "hgframe: {why}; shutting down");
    }
    handle.shutdown();
    while let Ok(l) = log_rx.try_recv() {
        let _ = writeln!(log, "{l}");
    }
    Ok(0)
}

/// Ctrl-C and (on Unix) SIGTERM, registered eagerly.
pub(super) struct Signals {
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

impl Signals {
    #[cfg(unix)]
    pub(super) fn new() -> io::Result<Signals> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals {
            int: signal(SignalKind::interrupt())?,
            term: signal(SignalKind::terminate())?,
        })
    }

    #[cfg(not(unix))]
    pub(super) fn new() -> io::Result<Signals> {
        Ok(Signals {})
    }

    #[cfg(unix)]
    pub(super) async fn recv(&mut self) -> &'static str {
        tokio::select! {
            _ = self.int.recv() => "interrupt (Ctrl-C) received",
            _ = self.term.recv() => "SIGTERM received",
        }
    }

    #[cfg(not(unix))]
    pub(super) async fn recv(&mut self) -> &'static str {
        let _ = tokio::signal::ctrl_c().await;
        "interrupt (Ctrl-C) received"
    }
}
