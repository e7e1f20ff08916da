//! Decoding a server's response stream (0006), as Mercurial's client does.
//!
//! Frames arrive on server streams; a `stream-settings` frame names the
//! stream's content encoding (`identity`, `zlib`, `zstd-8mb`) and every
//! frame flagged `encoded` is decoded through it. Command-response payloads
//! of one request form a CBOR stream whose first value is the status map
//! (`{status: ok|error|redirect, …}`) followed by the command's objects;
//! `error-response` frames carry `{type, message: [{msg, args}]}` and
//! `text-output` frames lists of atoms. No I/O here: feed the body bytes.

use crate::python::cbor::{self, BufferingDecoder};
use crate::python::value::{dict_get, Value};
use crate::wire::frame::{Frame, LengthMode, Located, SliceDecoder, STREAM_BEGIN, STREAM_ENCODED};
use crate::wire::ids::v0006::*;
use crate::wire::proto::Proto;

/// One stream's content decoder.
enum Decoder {
    Identity,
    Zlib(Box<flate2::Decompress>),
    Zstd(Box<zstd::stream::raw::Decoder<'static>>),
}

impl Decoder {
    fn new(name: &[u8]) -> Result<Decoder, String> {
        match name {
            b"identity" => Ok(Decoder::Identity),
            b"zlib" => Ok(Decoder::Zlib(Box::new(flate2::Decompress::new(true)))),
            b"zstd-8mb" => {
                let mut d = zstd::stream::raw::Decoder::new().map_err(|e| e.to_string())?;
                d.set_parameter(zstd::stream::raw::DParameter::WindowLogMax(23))
                    .map_err(|e| e.to_string())?;
                Ok(Decoder::Zstd(Box::new(d)))
            }
            other => Err(format!(
                "unknown stream decoder: {}",
                String::from_utf8_lossy(other)
            )),
        }
    }

    fn decode(&mut self, data: &[u8]) -> Result<Vec<u8>, String> {
        match self {
            Decoder::Identity => Ok(data.to_vec()),
            Decoder::Zlib(z) => {
                let mut out = Vec::with_capacity(data.len() * 4 + 64);
                let mut input = data;
                loop {
                    if out.capacity() - out.len() < 4096 {
                        out.reserve(out.capacity().max(4096));
                    }
                    let before_in = z.total_in();
                    z.decompress_vec(input, &mut out, flate2::FlushDecompress::Sync)
                        .map_err(|e| format!("zlib: {e}"))?;
                    let used = (z.total_in() - before_in) as usize;
                    input = &input[used..];
                    if input.is_empty() && out.len() < out.capacity() {
                        return Ok(out);
                    }
                    if used == 0 && out.len() < out.capacity() {
                        return Ok(out);
                    }
                }
            }
            Decoder::Zstd(d) => {
                use zstd::stream::raw::{InBuffer, Operation, OutBuffer};
                let mut out = Vec::new();
                let mut inb = InBuffer::around(data);
                let mut chunk = vec![0u8; 128 * 1024];
                loop {
                    let mut outb = OutBuffer::around(&mut chunk[..]);
                    d.run(&mut inb, &mut outb)
                        .map_err(|e| format!("zstd: {e}"))?;
                    let n = outb.pos();
                    out.extend_from_slice(&chunk[..n]);
                    if inb.pos() == data.len() && n < chunk.len() {
                        return Ok(out);
                    }
                }
            }
        }
    }
}

/// What one request got back.
#[derive(Debug, Clone, Default)]
pub struct RequestResult {
    pub request_id: u16,
    /// Decoded CBOR values of the command-response stream (status map first).
    pub values: Vec<Value>,
    /// `error-response` frames: `(type, messages)`.
    pub errors: Vec<Value>,
    /// `text-output` atoms.
    pub text: Vec<Value>,
    pub complete: bool,
    /// Problems decoding this request's data.
    pub problems: Vec<String>,
}

impl RequestResult {
    /// `ok`, `error`, `redirect` or `?`.
    pub fn status(&self) -> String {
        match self.values.first() {
            Some(Value::Dict(d)) => dict_get(d, &Value::bytes("status"))
                .and_then(|s| s.as_bytes())
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_else(|| "?".into()),
            _ if !self.errors.is_empty() => "error-response".into(),
            _ => "?".into(),
        }
    }

    /// The command's objects (after the status map).
    pub fn objects(&self) -> &[Value] {
        self.values.get(1..).unwrap_or(&[])
    }
}

/// A decoded response body.
#[derive(Debug, Clone, Default)]
pub struct DecodedResponse {
    pub frames: Vec<Located<Frame>>,
    /// Payloads after stream decoding, per frame (for display).
    pub decoded_payloads: Vec<Option<Vec<u8>>>,
    pub requests: Vec<RequestResult>,
    /// Stream id → encoding name.
    pub encodings: Vec<(u8, String)>,
    /// Problems with the stream as a whole (undecodable bytes, bad settings).
    pub problems: Vec<String>,
}

struct StreamState {
    id: u8,
    decoder: Option<Decoder>,
    settings: Option<BufferingDecoder>,
}

/// Decode a 0006 response body.
pub fn decode_response(body: &[u8]) -> DecodedResponse {
    let proto = Proto::P0006;
    let mut out = DecodedResponse::default();
    let mut streams: Vec<StreamState> = Vec::new();
    let mut cbor_decoders: Vec<(u16, BufferingDecoder)> = Vec::new();
    for item in SliceDecoder::new(proto, LengthMode::Correct, body) {
        let l = match item {
            Ok(l) => l,
            Err(e) => {
                out.problems.push(e.to_string());
                break;
            }
        };
        let f = l.frame;
        let si = match streams.iter().position(|s| s.id == f.stream_id) {
            Some(i) => i,
            None => {
                if f.stream_flags & STREAM_BEGIN == 0 {
                    out.problems.push(format!(
                        "frame at offset {} is on unknown stream {} without stream-begin",
                        l.offset, f.stream_id
                    ));
                }
                streams.push(StreamState {
                    id: f.stream_id,
                    decoder: None,
                    settings: None,
                });
                streams.len() - 1
            }
        };
        let mut payload = f.payload.to_vec();
        let mut shown = None;
        if f.stream_flags & STREAM_ENCODED != 0 {
            let st = &mut streams[si];
            match st.decoder.as_mut() {
                Some(d) => match d.decode(&payload) {
                    Ok(p) => {
                        payload = p;
                        shown = Some(payload.clone());
                    }
                    Err(e) => out.problems.push(format!("offset {}: {e}", l.offset)),
                },
                None => {
                    // Mercurial's default is identity when no settings came.
                    shown = Some(payload.clone());
                }
            }
        }
        match f.type_id {
            STREAM_SETTINGS => {
                // stream-settings
                let st = &mut streams[si];
                let dec = st.settings.get_or_insert_with(BufferingDecoder::new);
                if let Err(e) = dec.decode(&payload) {
                    out.problems.push(format!("stream-settings: {e}"));
                }
                if f.flags & FLAG_STREAM_SETTINGS_EOS != 0 {
                    let vals = dec.get_available();
                    st.settings = None;
                    match vals.first().and_then(|v| v.as_bytes()) {
                        Some(name) => match Decoder::new(name) {
                            Ok(d) => {
                                st.decoder = Some(d);
                                out.encodings.push((
                                    f.stream_id,
                                    String::from_utf8_lossy(name).into_owned(),
                                ));
                            }
                            Err(e) => out.problems.push(e),
                        },
                        None => out
                            .problems
                            .push("stream-settings frame without an encoder name".into()),
                    }
                }
            }
            COMMAND_RESPONSE | ERROR_RESPONSE | TEXT_OUTPUT => {
                let rid = f.request_id;
                let ri = match out.requests.iter().position(|r| r.request_id == rid) {
                    Some(i) => i,
                    None => {
                        out.requests.push(RequestResult {
                            request_id: rid,
                            ..Default::default()
                        });
                        out.requests.len() - 1
                    }
                };
                let req = &mut out.requests[ri];
                match f.type_id {
                    COMMAND_RESPONSE => {
                        let di = match cbor_decoders.iter().position(|(r, _)| *r == rid) {
                            Some(i) => i,
                            None => {
                                cbor_decoders.push((rid, BufferingDecoder::new()));
                                cbor_decoders.len() - 1
                            }
                        };
                        let dec = &mut cbor_decoders[di].1;
                        match dec.decode(&payload) {
                            Ok(_) => req.values.extend(dec.get_available()),
                            Err(e) => req.problems.push(format!("CBOR: {e}")),
                        }
                        if f.flags & FLAG_COMMAND_RESPONSE_EOS != 0 {
                            req.complete = true;
                        }
                    }
                    ERROR_RESPONSE => {
                        match cbor::decode_all(&payload) {
                            Ok(v) => req.errors.extend(v),
                            Err(e) => req.problems.push(format!("error-response CBOR: {e}")),
                        }
                        req.complete = true;
                    }
                    _ => match cbor::decode_all(&payload) {
                        Ok(v) => req.text.extend(v),
                        Err(e) => req.problems.push(format!("text-output CBOR: {e}")),
                    },
                }
            }
            _ => {}
        }
        out.decoded_payloads.push(shown);
        out.frames.push(Located {
            offset: l.offset,
            header: l.header,
            frame: Frame {
                request_id: f.request_id,
                stream_id: f.stream_id,
                stream_flags: f.stream_flags,
                type_id: f.type_id,
                flags: f.flags,
                payload: f.payload.to_vec(),
            },
        });
    }
    for r in &out.requests {
        if !r.complete {
            out.problems.push(format!(
                "request {} did not end (no eos frame)",
                r.request_id
            ));
        }
    }
    out
}
