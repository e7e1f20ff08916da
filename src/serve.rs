//! Embedded server (to be written).
use crate::cli::{GlobalOpts, ServeArgs};
use crate::commands::{CmdError, Io};

pub fn run_cli(_g: &GlobalOpts, _a: ServeArgs, _io: &mut Io<'_>) -> Result<u8, CmdError> {
    Err(CmdError::Usage("serve: not implemented yet".into()))
}
