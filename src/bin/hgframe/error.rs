//! Failures as the user sees them, and the one place where a failure's
//! kind becomes a documented exit code (`EXIT_CODES_HELP`).
//!
//! Library errors are typed; each converts here into the kind of failure
//! it is. Messages carry no `error: ` prefix: [`Failure`]'s `Display` adds
//! it once.

use std::fmt;
use std::io;

use hgframe::client::ClientError;
use hgframe::human::args::{ArgValueError, CommandsError};
use hgframe::remote::send::PrepareError;
use hgframe::remote::{DetectError, HttpError, RemoteError};
use hgframe::server::ServeError;
use hgframe::session::RespondError;

/// A failure, by documented exit code.
#[derive(Debug)]
pub enum Failure {
    /// Bad usage or unparsable input text (exit 2).
    Usage(String),
    /// Bytes that do not decode as frames (exit 5).
    Undecodable(String),
    /// The server answers (or would answer) an HTTP error (exit 4).
    Http(String),
    /// Connecting or talking to the server failed (exit 3).
    Transport(String),
    /// Reading input or writing output failed (a broken pipe is not an error).
    Io(io::Error),
}

impl Failure {
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Usage(_) => 2,
            Failure::Undecodable(_) => 5,
            Failure::Http(_) => 4,
            Failure::Transport(_) => 3,
            Failure::Io(e) if e.kind() == io::ErrorKind::BrokenPipe => 0,
            Failure::Io(_) => 2,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Usage(m)
            | Failure::Undecodable(m)
            | Failure::Http(m)
            | Failure::Transport(m) => {
                write!(f, "error: {m}")
            }
            Failure::Io(e) => write!(f, "error: {e}"),
        }
    }
}

impl std::error::Error for Failure {}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure::Io(e)
    }
}

impl From<ClientError> for Failure {
    fn from(e: ClientError) -> Self {
        match e {
            ClientError::BadUrl { .. }
            | ClientError::BadHeader { .. }
            | ClientError::BadCert { .. } => Failure::Usage(e.to_string()),
            // The server answered, with something hgframe will not use.
            ClientError::TooLarge { .. }
            | ClientError::Redirected { .. }
            | ClientError::RedirectLoop { .. } => Failure::Http(e.to_string()),
            other => Failure::Transport(other.to_string()),
        }
    }
}

impl From<HttpError> for Failure {
    fn from(e: HttpError) -> Self {
        Failure::Http(e.to_string())
    }
}

impl From<DetectError> for Failure {
    fn from(e: DetectError) -> Self {
        match e {
            DetectError::Client(c) => c.into(),
            other => Failure::Http(other.to_string()),
        }
    }
}

impl From<RemoteError> for Failure {
    fn from(e: RemoteError) -> Self {
        match e {
            RemoteError::Client(c) => c.into(),
            RemoteError::Http(h) => h.into(),
            RemoteError::Detect(d) => d.into(),
            other @ RemoteError::NotFrames { .. } => Failure::Http(other.to_string()),
        }
    }
}

macro_rules! usage_from {
    ($($t:ty),*) => {$(
        impl From<$t> for Failure {
            fn from(e: $t) -> Self {
                Failure::Usage(e.to_string())
            }
        }
    )*};
}

usage_from!(RespondError, ArgValueError, CommandsError, PrepareError);

impl From<ServeError> for Failure {
    fn from(e: ServeError) -> Self {
        Failure::Usage(e.to_string())
    }
}
