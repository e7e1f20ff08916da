//! Running real commands on a server, as Mercurial's HTTP peer does: a
//! `sender-protocol-settings` frame announcing content encodings, then each
//! command's request frames (several commands go to `multirequest`), the
//! answer decoded as a response stream.

use crate::client::Client;
use crate::human::args::CommandCall;
use crate::python::value::Value;
use crate::reactor::decode_response_for;
use crate::reactor::response::DecodedResponse;
use crate::wire::proto::{Proto, RequestLayout};
use crate::wire::request::{command_frames, settings_frame, ClientStream};

use super::{HttpError, RemoteError};

/// The encodings Mercurial's servers know.
pub const KNOWN_ENCODINGS: [&str; 3] = ["identity", "zlib", "zstd-8mb"];

/// A request body and the URL command it goes to.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The command in the URL: the command, or `multirequest`.
    pub url_command: String,
    pub body: Vec<u8>,
}

/// Why a request cannot be built.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PrepareError {
    /// The revision has no CBOR command requests.
    #[error(
        "send speaks protocol {}; --proto {proto} servers have no real commands over frames",
        cbor_revisions()
    )]
    NoCommands { proto: Proto },
    #[error("{0}")]
    Encode(String),
    /// Content encodings asked of a revision without sender settings.
    #[error("protocol {proto} ({}) has no content encodings: its clients send no sender-protocol-settings frame, and its server answers identity frames only\n  = drop --encodings", proto.table().releases.unwrap_or("unreleased"))]
    NoEncodings { proto: Proto },
}

fn cbor_revisions() -> String {
    Proto::all()
        .filter(|p| p.table().requests == RequestLayout::CborMap)
        .map(|p| match p.table().releases {
            Some(r) => format!("{p} ({r})"),
            None => p.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether the revision carries real commands over frames.
pub fn supports(proto: Proto) -> Result<(), PrepareError> {
    if proto.table().requests == RequestLayout::CborMap {
        Ok(())
    } else {
        Err(PrepareError::NoCommands { proto })
    }
}

/// Build the body: the settings frame, then each command's frames (request
/// ids 1, 3, 5 …); `data` goes with the first command.
pub fn prepare(
    proto: Proto,
    cmds: &[CommandCall],
    encodings: &[String],
    data: Option<&[u8]>,
) -> Result<Prepared, PrepareError> {
    supports(proto)?;
    let mut stream = ClientStream::new(1);
    let mut frames = Vec::new();
    if proto.table().sender_settings.is_some() {
        frames.push(settings_frame(
            &mut stream,
            &encodings
                .iter()
                .map(|e| e.as_bytes().to_vec())
                .collect::<Vec<_>>(),
        ));
    } else if encodings.iter().any(|e| e != "identity") {
        return Err(PrepareError::NoEncodings { proto });
    }
    for (i, c) in cmds.iter().enumerate() {
        let args = if c.args.is_empty() {
            None
        } else {
            Some(Value::Dict(c.args.clone()))
        };
        let d = if i == 0 { data } else { None };
        frames.extend(
            command_frames(
                proto,
                &mut stream,
                1 + 2 * i as u16,
                c.name.as_bytes(),
                args,
                None,
                d,
            )
            .map_err(PrepareError::Encode)?,
        );
    }
    let mut body = Vec::new();
    for f in &frames {
        f.encode_into(proto, &mut body)
            .map_err(|e| PrepareError::Encode(e.to_string()))?;
    }
    let url_command = if cmds.len() > 1 {
        "multirequest".to_string()
    } else {
        cmds.first().map(|c| c.name.clone()).unwrap_or_default()
    };
    Ok(Prepared { url_command, body })
}

/// The URL a prepared request goes to.
pub fn url(client: &Client, proto: Proto, rw: bool, p: &Prepared) -> String {
    client.target.command_url(proto, rw, &p.url_command)
}

/// POST a prepared request and decode the response stream.
pub fn execute(
    client: &Client,
    proto: Proto,
    rw: bool,
    p: Prepared,
) -> Result<DecodedResponse, RemoteError> {
    let url = url(client, proto, rw, &p);
    let reply = client.post_frames(&url, proto, p.body)?;
    if !reply.is_ok() {
        return Err(HttpError::new(&reply, format!("POST {}", crate::client::redact(&url))).into());
    }
    let ct = reply.header("content-type").unwrap_or("");
    if ct != proto.table().media_type {
        return Err(RemoteError::NotFrames {
            content_type: ct.to_string(),
            body: reply.body,
        });
    }
    Ok(decode_response_for(proto, &reply.body))
}

/// Whether the response reports a failure (a status other than `ok`, or
/// problems decoding it).
pub fn failed(d: &DecodedResponse) -> bool {
    d.requests.iter().any(|r| r.status() != "ok") || !d.problems.is_empty()
}
