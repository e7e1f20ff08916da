//! `hgframe send`: real commands on a server, the response decoded.

use hgframe::human::args::parse_commands;
use hgframe::remote::send::{self, KNOWN_ENCODINGS};
use hgframe::render;
use hgframe::Proto;

use super::{make_client, Io, Result};
use crate::args::{GlobalOpts, SendArgs};
use crate::error::Failure;

pub fn run(global: &GlobalOpts, a: SendArgs, io: &mut Io<'_>) -> Result<u8> {
    let client = make_client(&a.remote, &a.url)?;
    let proto = match global.proto {
        Some(p) => p,
        // --dry-run and --curl do not contact the server.
        None if a.show.dry_run || a.show.curl => Proto::DEFAULT,
        None => match hgframe::remote::detect(&client) {
            Ok(d) => {
                if global.verbose > 0 {
                    super::write_detected(io.stderr, &d)?;
                }
                d.proto
            }
            Err(hgframe::remote::DetectError::Client(e)) => return Err(e.into()),
            // The command's own answer says more than a failed probe (an
            // HTML error page, a 404 naming the missing knob).
            Err(e) => {
                writeln!(
                    io.stderr,
                    "hgframe: cannot tell the server's revision ({}); trying {}",
                    e.to_string().lines().next().unwrap_or(""),
                    Proto::DEFAULT
                )?;
                Proto::DEFAULT
            }
        },
    };
    send::supports(proto)?;
    let cmds = parse_commands(&a.command)?;
    let data = match &a.data {
        None => None,
        Some(p) if p.as_os_str() == "-" => {
            let mut b = Vec::new();
            io.stdin.read_to_end(&mut b)?;
            Some(b)
        }
        Some(p) => Some(
            std::fs::read(p)
                .map_err(|e| Failure::Usage(format!("cannot read {}: {e}", p.display())))?,
        ),
    };
    let prepared = send::prepare(proto, &cmds, &a.encodings, data.as_deref())?;
    for e in &a.encodings {
        if !KNOWN_ENCODINGS.contains(&e.as_str()) {
            writeln!(io.stderr, "hgframe: warning: content encoding {e:?} is not one Mercurial knows ({}); sending it anyway", KNOWN_ENCODINGS.join(", "))?;
        }
    }
    let url = send::url(&client, proto, a.rw, &prepared);
    if a.show.dry_run {
        render::request::write_request(
            io.stdout,
            proto,
            &hgframe::client::redact(&url),
            &a.remote.headers,
            &prepared.body,
        )?;
        return Ok(0);
    }
    if a.show.curl {
        render::request::write_curl(io.stdout, proto, &url, &a.remote.headers, &prepared.body)?;
        return Ok(0);
    }
    let limits = hgframe::reactor::client::Limits {
        max_value: a.max_value,
    };
    // -v: the request and the answer's head as soon as it arrives (an
    // HTTP error's too).
    let mut head_err = None;
    let verbose = global.verbose > 0;
    let out = &mut *io.stdout;
    let decoded = send::execute_watched(&client, proto, a.rw, prepared, limits, &mut |e| {
        if !verbose {
            return;
        }
        let written = if a.json {
            render::remote::exchange_json(e)
                .iter()
                .try_for_each(|v| writeln!(out, "{v}"))
        } else {
            render::remote::write_exchange(out, e)
        };
        if let Err(e) = written.and_then(|_| out.flush()) {
            head_err = Some(e);
        }
    })?;
    if let Some(e) = head_err {
        return Err(e.into());
    }
    if a.json {
        render::remote::write_send_json(io.stdout, proto, &decoded)?;
    } else {
        render::remote::write_send_pretty(io.stdout, proto, &decoded, global.verbose > 0)?;
    }
    Ok(if send::failed(&decoded) { 4 } else { 0 })
}
