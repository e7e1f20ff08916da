//! `hgframe doctor`: a server's set-up checked step by step.

use std::io;

use hgframe::remote::doctor::{self, Verdict};
use hgframe::render::remote::{finding_json, write_finding};
use serde_json::json;

use super::{make_client, Io, Result};
use crate::args::{DoctorArgs, GlobalOpts};

pub fn run(global: &GlobalOpts, a: DoctorArgs, io: &mut Io<'_>) -> Result<u8> {
    let client = make_client(&a.remote, &a.url)?;
    let mut write_err: Option<io::Error> = None;
    let out = &mut *io.stdout;
    let verdict = doctor::run(&client, global.proto, &mut |f| {
        if write_err.is_none() {
            // Each step as it is checked: some wait on the network.
            let written = if a.json {
                writeln!(out, "{}", finding_json(&f))
            } else {
                write_finding(out, &f)
            };
            if let Err(e) = written.and_then(|_| out.flush()) {
                write_err = Some(e);
            }
        }
    })?;
    if let Some(e) = write_err {
        return Err(e.into());
    }
    let (code, name) = match verdict {
        Verdict::Healthy => (0, "healthy"),
        Verdict::Mismatch => (1, "mismatch"),
        Verdict::Unreachable => (3, "unreachable"),
        Verdict::Broken => (4, "broken"),
    };
    if a.json {
        writeln!(
            io.stdout,
            "{}",
            json!({"event": "summary", "verdict": name, "exit": code})
        )?;
    }
    Ok(code)
}
