//! The send side of the 0006 server reactor: output streams
//! (`makeoutputstream`, encoder chosen by the server's preference among
//! what the client announced), the stream-settings frame, `{status: ok}`
//! and CBOR-encoded objects coalesced by `bufferingcommandresponseemitter`,
//! the empty end-of-stream frame, error-response and command-error frames.
//! Responses on a zlib stream are produced with the C zlib (as Python's
//! `zlib` module); on a zstd-8mb stream they are not (the bytes depend on
//! the libzstd version bundled with the server's Mercurial).

use super::Reactor0006;
use crate::python::cbor;
use crate::python::value::Value;
use crate::reactor::{Action, Response, ServerCrash};
use crate::wire::frame::{Frame, DEFAULT_MAX_FRAME_SIZE, STREAM_BEGIN, STREAM_ENCODED};
use crate::wire::ids::v0006::*;

/// Encoders in the server's order of preference (`STREAM_ENCODERS_ORDER`
/// of a Mercurial built with its zstd extension).
pub const SERVER_ENCODERS: [&str; 3] = ["zstd-8mb", "zlib", "identity"];

enum Encoder {
    Identity,
    /// `zlibencoder`: `zlib.compressobj()` (level 6, zlib header), fed
    /// chunk by chunk, `Z_SYNC_FLUSH` at the end of each response. Built on
    /// the same C zlib a Python server links, so the bytes match.
    Zlib(Box<flate2::Compress>),
    /// `zstd8mbencoder`: python-zstandard's `ZstdCompressor(level=3)`
    /// `compressobj()`, `COMPRESSOBJ_FLUSH_BLOCK` at the end of each
    /// response. The stream is what Mercurial sends, but its bytes depend
    /// on the libzstd version (hgframe links a newer one than the one
    /// bundled with Mercurial 6.0): compare what it decodes to.
    Zstd(Box<zstd::stream::raw::Encoder<'static>>),
}

impl Encoder {
    fn name(&self) -> &'static str {
        match self {
            Encoder::Identity => "identity",
            Encoder::Zlib(_) => "zlib",
            Encoder::Zstd(_) => "zstd-8mb",
        }
    }
}

/// Run zstd over `data` (`compress`), or flush a block (`flush`):
/// everything the encoder produces for this call.
fn zstd_run(
    z: &mut zstd::stream::raw::Encoder<'static>,
    data: &[u8],
    flush: bool,
) -> Result<Vec<u8>, ServerCrash> {
    use zstd::stream::raw::{InBuffer, Operation, OutBuffer};
    let fail = |e: std::io::Error| ServerCrash::new(format!("ZstdError: {e}"), "zstd failed");
    let mut out = Vec::with_capacity(data.len() / 2 + 64);
    let mut chunk = vec![0u8; 64 * 1024];
    let mut input = InBuffer::around(data);
    while input.pos() < data.len() {
        let mut o = OutBuffer::around(&mut chunk[..]);
        z.run(&mut input, &mut o).map_err(fail)?;
        let n = o.pos();
        out.extend_from_slice(&chunk[..n]);
    }
    if flush {
        loop {
            let mut o = OutBuffer::around(&mut chunk[..]);
            let left = z.flush(&mut o).map_err(fail)?;
            let n = o.pos();
            out.extend_from_slice(&chunk[..n]);
            if left == 0 {
                break;
            }
        }
    }
    Ok(out)
}

/// Run zlib over `data` like Python's `compressobj.compress`/`flush`:
/// everything deflate produces for this call.
fn zlib_run(
    z: &mut flate2::Compress,
    data: &[u8],
    flush: flate2::FlushCompress,
) -> Result<Vec<u8>, ServerCrash> {
    let mut out = Vec::with_capacity(data.len() / 2 + 64);
    let mut input = data;
    loop {
        if out.capacity() - out.len() < 1024 {
            out.reserve(out.capacity().max(4096));
        }
        let before_in = z.total_in();
        let before_out = z.total_out();
        z.compress_vec(input, &mut out, flush)
            .map_err(|e| ServerCrash::new(format!("zlib.error: {e}"), "zlib failed"))?;
        input = &input[(z.total_in() - before_in) as usize..];
        let produced = z.total_out() - before_out;
        // Done when the input is consumed and deflate did not fill the
        // buffer (so it has nothing more to give for this call).
        if input.is_empty() && out.len() < out.capacity() {
            return Ok(out);
        }
        if produced == 0 && input.is_empty() {
            return Ok(out);
        }
    }
}

pub(super) struct OutStream {
    pub(super) id: u8,
    active: bool,
    settings_sent: bool,
    encoder: Option<Encoder>,
}

impl OutStream {
    /// `outputstream.makeframe`.
    fn make_frame(
        &mut self,
        request_id: u16,
        type_id: u8,
        flags: u8,
        payload: Vec<u8>,
        encoded: bool,
    ) -> Result<Frame, ServerCrash> {
        let mut sflags = 0;
        if !self.active {
            sflags |= STREAM_BEGIN;
            self.active = true;
        }
        if encoded {
            if !self.settings_sent {
                return Err(ServerCrash::new(
                    "ProgrammingError: attempting to send encoded frame without sending stream settings",
                    "no content encoding the client announced is one the server knows, so the output stream has no encoder and no stream-settings frame, yet command-response data frames are always marked encoded",
                ));
            }
            sflags |= STREAM_ENCODED;
        }
        if type_id == STREAM_SETTINGS && flags & FLAG_STREAM_SETTINGS_EOS != 0 {
            self.settings_sent = true;
        }
        Ok(Frame {
            request_id,
            stream_id: self.id,
            stream_flags: sflags,
            type_id,
            flags,
            payload,
        })
    }

    fn encode(&mut self, data: Vec<u8>) -> Result<Vec<u8>, ServerCrash> {
        match &mut self.encoder {
            None | Some(Encoder::Identity) => Ok(data),
            Some(Encoder::Zlib(z)) => zlib_run(z, &data, flate2::FlushCompress::None),
            Some(Encoder::Zstd(z)) => zstd_run(z, &data, false),
        }
    }

    fn flush(&mut self) -> Result<Vec<u8>, ServerCrash> {
        match &mut self.encoder {
            None | Some(Encoder::Identity) => Ok(Vec::new()),
            Some(Encoder::Zlib(z)) => zlib_run(z, &[], flate2::FlushCompress::Sync),
            Some(Encoder::Zstd(z)) => zstd_run(z, &[], true),
        }
    }

    fn settings_frame(&mut self, request_id: u16) -> Result<Option<Frame>, ServerCrash> {
        let name = match &self.encoder {
            None => return Ok(None),
            _ if self.settings_sent => return Ok(None),
            Some(e) => e.name(),
        };
        let mut payload = Vec::new();
        cbor::encode_bytes(name.as_bytes(), &mut payload);
        self.make_frame(
            request_id,
            STREAM_SETTINGS,
            FLAG_STREAM_SETTINGS_EOS,
            payload,
            false,
        )
        .map(Some)
    }
}

pub(super) enum Pending {
    Objects {
        stream: usize,
        request_id: u16,
        objects: Vec<Value>,
    },
    ServerError {
        stream: usize,
        request_id: u16,
        message: Vec<u8>,
    },
    CommandError {
        stream: usize,
        request_id: u16,
        message: Vec<u8>,
        args: Option<Value>,
    },
}

impl Reactor0006 {
    /// `makeoutputstream()`: index into `out_streams`.
    pub(super) fn new_out_stream(&mut self) -> Result<usize, ServerCrash> {
        let id = self.next_out_stream;
        self.next_out_stream += 2;
        let mut encoder = None;
        for name in SERVER_ENCODERS {
            let has = self
                .content_encodings
                .py_contains_bytes(name.as_bytes())
                .map_err(|e| {
                    ServerCrash::new(
                        format!("TypeError: {e}"),
                        "the client's contentencodings setting is not a list",
                    )
                })?;
            if has {
                encoder = Some(match name {
                    "identity" => Encoder::Identity,
                    "zlib" => Encoder::Zlib(Box::new(flate2::Compress::new(
                        flate2::Compression::default(),
                        true,
                    ))),
                    _ => {
                        let fail = |e: std::io::Error| {
                            ServerCrash::new(format!("ZstdError: {e}"), "zstd failed")
                        };
                        let mut z = zstd::stream::raw::Encoder::new(3).map_err(fail)?;
                        // The window the release's bundled libzstd picks.
                        if let Some(log) = self.proto.flavor().zstd_window_log {
                            z.set_parameter(zstd::stream::raw::CParameter::WindowLog(log))
                                .map_err(fail)?;
                        }
                        Encoder::Zstd(Box::new(z))
                    }
                });
                break;
            }
        }
        self.out_streams.push(OutStream {
            id: id as u8,
            active: false,
            settings_sent: false,
            encoder,
        });
        Ok(self.out_streams.len() - 1)
    }

    pub(super) fn current_stream(&mut self) -> Result<usize, ServerCrash> {
        match self.out_streams.len() {
            0 => self.new_out_stream(),
            n => Ok(n - 1),
        }
    }

    /// Register a response on a given output stream (by stream id, as
    /// returned by `make_output_stream`).
    pub fn respond_on(
        &mut self,
        stream_id: u8,
        request_id: u16,
        response: Response,
    ) -> Option<Action> {
        let idx = self.out_streams.iter().position(|s| s.id == stream_id)?;
        Some(self.respond(idx, request_id, response))
    }

    pub(super) fn respond(&mut self, stream: usize, request_id: u16, response: Response) -> Action {
        let p = match response {
            Response::Bytes(b) => Pending::Objects {
                stream,
                request_id,
                objects: vec![Value::Bytes(b)],
            },
            Response::Chunks(c) => Pending::Objects {
                stream,
                request_id,
                objects: vec![Value::Bytes(c.concat())],
            },
            Response::Objects(objects) => Pending::Objects {
                stream,
                request_id,
                objects,
            },
            Response::Error(message) => Pending::ServerError {
                stream,
                request_id,
                message,
            },
            Response::CommandError { message, args } => Pending::CommandError {
                stream,
                request_id,
                message,
                args,
            },
        };
        self.handle_send(p)
    }

    fn handle_send(&mut self, p: Pending) -> Action {
        self.out.send(p)
    }

    pub(super) fn produce(&mut self, p: Pending, out: &mut Vec<Frame>) -> Result<(), ServerCrash> {
        match p {
            Pending::Objects {
                stream,
                request_id,
                objects,
            } => {
                self.produce_objects(stream, request_id, objects, out)?;
                self.complete(request_id)
            }
            Pending::ServerError {
                stream,
                request_id,
                message,
            } => {
                if message.len() > DEFAULT_MAX_FRAME_SIZE {
                    return Err(ServerCrash::new(
                        "AssertionError",
                        "createerrorframe asserts the message fits in one frame (32768 bytes)",
                    ));
                }
                let payload = error_payload(&message);
                let s = &mut self.out_streams[stream];
                out.push(s.make_frame(request_id, ERROR_RESPONSE, 0, payload, false)?);
                self.complete(request_id)
            }
            Pending::CommandError {
                stream,
                request_id,
                message,
                args,
            } => {
                let mut err = vec![(Value::bytes("message"), Value::Bytes(message))];
                if let Some(a) = args.filter(truthy) {
                    err.push((Value::bytes("args"), a));
                }
                let m = Value::Dict(vec![
                    (Value::bytes("status"), Value::bytes("error")),
                    (Value::bytes("error"), Value::Dict(err)),
                ]);
                let payload = cbor::encode(&m).map_err(|e| {
                    ServerCrash::new(
                        format!("TypeError: {e}"),
                        "the command error arguments cannot be CBOR-encoded",
                    )
                })?;
                let s = &mut self.out_streams[stream];
                out.push(s.make_frame(
                    request_id,
                    COMMAND_RESPONSE,
                    FLAG_COMMAND_RESPONSE_EOS,
                    payload,
                    false,
                )?);
                self.complete(request_id)
            }
        }
    }

    fn complete(&mut self, request_id: u16) -> Result<(), ServerCrash> {
        if self.active.remove(request_id) {
            Ok(())
        } else {
            Err(ServerCrash::new(
                format!("KeyError: {request_id}"),
                format!("a response was sent for request {request_id}, which is not active (never dispatched, or already answered)"),
            ))
        }
    }

    /// The `sendframes()` generator of `oncommandresponsereadyobjects`.
    fn produce_objects(
        &mut self,
        stream: usize,
        request_id: u16,
        objects: Vec<Value>,
        out: &mut Vec<Frame>,
    ) -> Result<(), ServerCrash> {
        let mut emitted = false;
        let mut em = Emitter::default();
        for o in objects {
            let s = &mut self.out_streams[stream];
            if !emitted {
                if let Some(f) = s.settings_frame(request_id)? {
                    out.push(f);
                }
                let mut ok = Vec::new();
                cbor::encode_into(&Value::dict([("status", Value::bytes("ok"))]), &mut ok)
                    .map_err(|e| ServerCrash::new(e.to_string(), "unreachable"))?;
                if s.settings_sent {
                    let ok = s.encode(ok)?;
                    if !ok.is_empty() {
                        out.push(s.make_frame(
                            request_id,
                            COMMAND_RESPONSE,
                            FLAG_COMMAND_RESPONSE_CONTINUATION,
                            ok,
                            true,
                        )?);
                    }
                } else {
                    out.push(s.make_frame(
                        request_id,
                        COMMAND_RESPONSE,
                        FLAG_COMMAND_RESPONSE_CONTINUATION,
                        ok,
                        false,
                    )?);
                }
                emitted = true;
            }
            let mut chunks = Vec::new();
            cbor::encode_chunks(&o, &mut chunks).map_err(|e| {
                ServerCrash::new(
                    format!("TypeError: %b requires a bytes-like object ... ({e})"),
                    "a response object cannot be CBOR-encoded, and formatting that error raises again",
                )
            })?;
            for c in chunks {
                em.send(s, request_id, c, out)?;
            }
        }
        let s = &mut self.out_streams[stream];
        em.flush(s, request_id, out)?;
        if emitted {
            let payload = s.flush()?;
            let encoded = !payload.is_empty();
            let mut chunks: Vec<Vec<u8>> = payload
                .chunks(DEFAULT_MAX_FRAME_SIZE)
                .map(|c| c.to_vec())
                .collect();
            if chunks.is_empty() {
                chunks.push(Vec::new());
            }
            let n = chunks.len();
            for (i, c) in chunks.into_iter().enumerate() {
                let flags = if i + 1 == n {
                    FLAG_COMMAND_RESPONSE_EOS
                } else {
                    FLAG_COMMAND_RESPONSE_CONTINUATION
                };
                out.push(s.make_frame(request_id, COMMAND_RESPONSE, flags, c, encoded)?);
            }
        }
        Ok(())
    }
}

/// Python truthiness for the optional command-error args.
fn truthy(v: &Value) -> bool {
    match v {
        Value::None | Value::Bool(false) | Value::Int(0) => false,
        Value::Bytes(b) => !b.is_empty(),
        Value::List(x) | Value::Tuple(x) | Value::Set(x) => !x.is_empty(),
        Value::Dict(x) => !x.is_empty(),
        _ => true,
    }
}

/// CBOR `{type: server, message: [{msg: m}]}`.
pub fn error_payload(message: &[u8]) -> Vec<u8> {
    let v = Value::Dict(vec![
        (Value::bytes("type"), Value::bytes("server")),
        (
            Value::bytes("message"),
            Value::List(vec![Value::dict([("msg", Value::Bytes(message.to_vec()))])]),
        ),
    ]);
    cbor::encode(&v).unwrap_or_default()
}

/// `bufferingcommandresponseemitter`.
#[derive(Default)]
struct Emitter {
    chunks: Vec<u8>,
}

impl Emitter {
    fn send(
        &mut self,
        s: &mut OutStream,
        request_id: u16,
        data: Vec<u8>,
        out: &mut Vec<Frame>,
    ) -> Result<(), ServerCrash> {
        let data = s.encode(data)?;
        if data.is_empty() {
            return Ok(());
        }
        if data.len() > DEFAULT_MAX_FRAME_SIZE {
            self.flush(s, request_id, out)?;
            for c in data.chunks(DEFAULT_MAX_FRAME_SIZE) {
                out.push(s.make_frame(
                    request_id,
                    COMMAND_RESPONSE,
                    FLAG_COMMAND_RESPONSE_CONTINUATION,
                    c.to_vec(),
                    true,
                )?);
            }
            return Ok(());
        }
        if data.len() + self.chunks.len() < DEFAULT_MAX_FRAME_SIZE {
            self.chunks.extend_from_slice(&data);
            return Ok(());
        }
        self.flush(s, request_id, out)?;
        self.chunks = data;
        Ok(())
    }

    fn flush(
        &mut self,
        s: &mut OutStream,
        request_id: u16,
        out: &mut Vec<Frame>,
    ) -> Result<(), ServerCrash> {
        let payload = std::mem::take(&mut self.chunks);
        if payload.is_empty() {
            return Ok(());
        }
        out.push(s.make_frame(
            request_id,
            COMMAND_RESPONSE,
            FLAG_COMMAND_RESPONSE_CONTINUATION,
            payload,
            true,
        )?);
        Ok(())
    }
}
