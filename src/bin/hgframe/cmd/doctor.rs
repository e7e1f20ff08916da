//! `hgframe doctor`: a server's set-up checked step by step.

use std::io;

use hgframe::remote::doctor::{self, Verdict};
use hgframe::render::remote::write_finding;

use super::{make_client, Io, Result};
use crate::args::{DoctorArgs, GlobalOpts};

pub fn run(global: &GlobalOpts, a: DoctorArgs, io: &mut Io<'_>) -> Result<u8> {
    let client = make_client(&a.remote, &a.url)?;
    let mut write_err: Option<io::Error> = None;
    let out = &mut *io.stdout;
    let verdict = doctor::run(&client, global.proto, &mut |f| {
        if write_err.is_none() {
            if let Err(e) = write_finding(out, &f) {
                write_err = Some(e);
            }
        }
    })?;
    if let Some(e) = write_err {
        return Err(e.into());
    }
    Ok(match verdict {
        Verdict::Healthy => 0,
        Verdict::Mismatch => 1,
        Verdict::Unreachable => 3,
        Verdict::Broken => 4,
    })
}
