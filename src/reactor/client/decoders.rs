//! The stream decoders a client applies to `encoded` frames:
//! `wireprotoframing`'s `identitydecoder`, `zlibdecoder` and
//! `zstd8mbdecoder`, each behaving as the Python object it ports does with
//! the library Mercurial 6.0 uses (CPython's `zlib.decompressobj`,
//! python-zstandard 0.13's `decompressobj` with an 8 MiB window), errors
//! included, plus hgframe's bound on how much one frame may decode to.
//!
//! Python returns all of a frame's output at once and has no bound; here
//! the output grows in steps and decoding stops with
//! [`StreamFault::OverLimit`] before it passes `limit` bytes, so a
//! decompression bomb costs at most the bound. Owns no frames, streams or
//! requests: bytes in, bytes out.

use std::borrow::Cow;

use zstd::zstd_safe::{self, DCtx, DParameter, InBuffer, OutBuffer};

use crate::python::value::Value;

/// zstd-8mb: python-zstandard's `max_window_size=8 * 1048576`, which it
/// passes to `ZSTD_DCtx_setMaxWindowSize` (a window log of 23).
pub const ZSTD_8MB_WINDOW_LOG: u32 = 23;

/// The content encodings a 6.0 client decodes, in Mercurial's preference
/// order (`STREAM_ENCODERS_ORDER` when the zstd module is present).
pub const ENCODINGS: [&str; 3] = ["zstd-8mb", "zlib", "identity"];

/// Why a stream could not decode a payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamFault {
    /// Python raises this (`Type: message`, e.g. `zlib.error: Error -3
    /// while decompressing data: incorrect header check`).
    Raises(String),
    /// The output would pass the bound: `produced` bytes so far.
    OverLimit { produced: u64, limit: u64 },
}

/// One stream's decoder (`inputstream._decoder`).
pub enum StreamDecoder {
    Identity,
    Zlib(Box<ZlibDecoder>),
    Zstd8mb(Box<ZstdDecoder>),
}

impl std::fmt::Debug for StreamDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl StreamDecoder {
    /// `STREAM_ENCODERS[name][1](ui, extraobjs)`: the decoder for a
    /// stream-settings name, or the message of the `Abort` Mercurial
    /// raises. The caller has already looked the name up (see
    /// [`lookup`]).
    pub fn new(name: &[u8], extra: &[Value]) -> Result<StreamDecoder, Vec<u8>> {
        let refuse =
            |who: &str| format!("{who} decoder received unexpected additional values").into_bytes();
        match name {
            b"identity" if !extra.is_empty() => Err(refuse("identity")),
            b"identity" => Ok(StreamDecoder::Identity),
            b"zlib" if !extra.is_empty() => Err(refuse("zlib")),
            b"zlib" => Ok(StreamDecoder::Zlib(Box::default())),
            b"zstd-8mb" if !extra.is_empty() => Err(refuse("zstd8mb")),
            b"zstd-8mb" => Ok(StreamDecoder::Zstd8mb(Box::new(ZstdDecoder::new()?))),
            other => Err(unknown(other)),
        }
    }

    /// The encoding's name.
    pub fn name(&self) -> &'static str {
        match self {
            StreamDecoder::Identity => "identity",
            StreamDecoder::Zlib(_) => "zlib",
            StreamDecoder::Zstd8mb(_) => "zstd-8mb",
        }
    }

    /// `decoder.decode(data)`, at most `limit` bytes of output.
    pub fn decode<'a>(&mut self, data: &'a [u8], limit: u64) -> Result<Cow<'a, [u8]>, StreamFault> {
        match self {
            StreamDecoder::Identity => Ok(Cow::Borrowed(data)),
            StreamDecoder::Zlib(z) => z.decode(data, limit).map(Cow::Owned),
            StreamDecoder::Zstd8mb(z) => z.decode(data, limit).map(Cow::Owned),
        }
    }
}

fn unknown(name: &[u8]) -> Vec<u8> {
    let mut m = b"unknown stream decoder: ".to_vec();
    m.extend_from_slice(name);
    m
}

/// `name not in STREAM_ENCODERS` and the `Abort` that follows, for any
/// decoded CBOR value: the name's bytes when it is a known name (bytes or
/// an indefinite-length chunk, which compares equal to bytes), else the
/// message Python produces: `unknown stream decoder: <name>` for other
/// bytes, and for values that cannot be looked up or formatted with `%s`
/// the `TypeError` text (`unhashable type: 'list'`, `%b requires a
/// bytes-like object, ... not 'int'`).
pub fn lookup(name: &Value) -> Result<&[u8], Vec<u8>> {
    match name {
        Value::Bytes(b) | Value::Chunk { data: b, .. } => {
            if ENCODINGS.iter().any(|e| e.as_bytes() == b.as_slice()) {
                Ok(b)
            } else {
                Err(unknown(b))
            }
        }
        Value::List(_) | Value::Dict(_) | Value::Set(_) => {
            Err(format!("unhashable type: '{}'", name.type_name()).into_bytes())
        }
        other => Err(format!(
            "%b requires a bytes-like object, or an object that implements __bytes__, not '{}'",
            other.type_name()
        )
        .into_bytes()),
    }
}

/// Grow `out` for more output, doubling, but never past `limit` bytes of
/// capacity: growing one byte past a full bound would copy the whole
/// bound once more just to find out it is over.
fn grow(out: &mut Vec<u8>, limit: u64) {
    let cap = out.capacity() as u64;
    let want = (cap.max(16 * 1024) * 2).min(limit);
    if want > cap {
        out.reserve_exact((want - out.len() as u64) as usize);
    }
}

/// `zlib.decompressobj().decompress(data)` (CPython): everything the input
/// yields; input after the end of the zlib stream is kept aside by Python
/// (`unused_data`) and never decoded, so it yields nothing here.
pub struct ZlibDecoder {
    z: flate2::Decompress,
    finished: bool,
}

impl Default for ZlibDecoder {
    fn default() -> Self {
        ZlibDecoder {
            z: flate2::Decompress::new(true),
            finished: false,
        }
    }
}

impl ZlibDecoder {
    pub fn decode(&mut self, data: &[u8], limit: u64) -> Result<Vec<u8>, StreamFault> {
        let mut out = Vec::new();
        if self.finished || data.is_empty() {
            return Ok(out);
        }
        let mut input = data;
        loop {
            if out.len() == out.capacity() {
                if out.len() as u64 >= limit {
                    // The bound is full: one more byte of output, into a
                    // probe, says whether the payload is over it.
                    let mut probe = [0u8; 1];
                    let before = self.z.total_out();
                    let status = self
                        .z
                        .decompress(input, &mut probe, flate2::FlushDecompress::Sync)
                        .map_err(|e| StreamFault::Raises(zlib_error(&e)))?;
                    if self.z.total_out() > before {
                        return Err(StreamFault::OverLimit {
                            produced: out.len() as u64 + 1,
                            limit,
                        });
                    }
                    if status == flate2::Status::StreamEnd {
                        self.finished = true;
                    }
                    break;
                }
                grow(&mut out, limit);
            }
            let (in0, out0) = (self.z.total_in(), self.z.total_out());
            let status = self
                .z
                .decompress_vec(input, &mut out, flate2::FlushDecompress::Sync)
                .map_err(|e| StreamFault::Raises(zlib_error(&e)))?;
            let used = (self.z.total_in() - in0) as usize;
            let made = self.z.total_out() - out0;
            input = &input[used..];
            if status == flate2::Status::StreamEnd {
                self.finished = true;
                break;
            }
            let full = out.len() == out.capacity();
            if (input.is_empty() && !full) || (used == 0 && made == 0 && !full) {
                break;
            }
        }
        Ok(out)
    }
}

/// CPython's `zlib_error(..., "while decompressing data")`.
fn zlib_error(e: &flate2::DecompressError) -> String {
    if e.needs_dictionary().is_some() {
        // Z_NEED_DICT comes without a message.
        return "zlib.error: Error 2 while decompressing data".into();
    }
    format!(
        "zlib.error: Error -3 while decompressing data: {}",
        e.message().unwrap_or("invalid input data")
    )
}

/// python-zstandard 0.13's `ZstdDecompressionObj.decompress` on a context
/// with an 8 MiB window: `ZSTD_decompressStream` into a
/// `ZSTD_DStreamOutSize()` buffer until the input is used up and a call
/// yields nothing, or the zstd frame ends — after which the object refuses
/// any further call, as Python's does.
pub struct ZstdDecoder {
    dctx: DCtx<'static>,
    buf: Vec<u8>,
    finished: bool,
}

impl ZstdDecoder {
    fn new() -> Result<ZstdDecoder, Vec<u8>> {
        let mut dctx = DCtx::try_create()
            .ok_or_else(|| b"zstd: cannot create a decompression context".to_vec())?;
        dctx.set_parameter(DParameter::WindowLogMax(ZSTD_8MB_WINDOW_LOG))
            .map_err(|c| zstd_safe::get_error_name(c).as_bytes().to_vec())?;
        Ok(ZstdDecoder {
            dctx,
            buf: Vec::new(),
            finished: false,
        })
    }

    pub fn decode(&mut self, data: &[u8], limit: u64) -> Result<Vec<u8>, StreamFault> {
        if self.finished {
            return Err(StreamFault::Raises(
                "zstd.ZstdError: cannot use a decompressobj multiple times".into(),
            ));
        }
        let mut out = Vec::new();
        if data.is_empty() {
            return Ok(out);
        }
        if self.buf.is_empty() {
            self.buf = vec![0; DCtx::out_size()];
        }
        let mut input = InBuffer::around(data);
        loop {
            let mut ob = OutBuffer::around(&mut self.buf[..]);
            let zresult = self
                .dctx
                .decompress_stream(&mut ob, &mut input)
                .map_err(|c| {
                    StreamFault::Raises(format!(
                        "zstd.ZstdError: zstd decompressor error: {}",
                        zstd_safe::get_error_name(c)
                    ))
                })?;
            let n = ob.pos();
            if zresult == 0 {
                self.finished = true;
            }
            if n > 0 {
                let total = out.len() as u64 + n as u64;
                if total > limit {
                    return Err(StreamFault::OverLimit {
                        produced: total,
                        limit,
                    });
                }
                while out.capacity() - out.len() < n {
                    grow(&mut out, limit);
                }
                out.extend_from_slice(&self.buf[..n]);
            }
            if zresult == 0 || (input.pos() == data.len() && n == 0) {
                break;
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn names_and_extra_values_as_mercurial_reports_them() {
        assert!(matches!(
            StreamDecoder::new(b"zlib", &[]),
            Ok(StreamDecoder::Zlib(_))
        ));
        let extra = [Value::None];
        for (name, who) in [
            ("identity", "identity"),
            ("zlib", "zlib"),
            ("zstd-8mb", "zstd8mb"),
        ] {
            let e = StreamDecoder::new(name.as_bytes(), &extra).unwrap_err();
            assert_eq!(
                String::from_utf8(e).unwrap(),
                format!("{who} decoder received unexpected additional values")
            );
        }
        assert_eq!(lookup(&Value::bytes("zlib")).unwrap(), b"zlib");
        assert_eq!(
            lookup(&Value::Chunk {
                data: b"zlib".to_vec(),
                first: true,
                last: false
            })
            .unwrap(),
            b"zlib"
        );
        let msg = |v: Value| String::from_utf8(lookup(&v).unwrap_err()).unwrap();
        assert_eq!(msg(Value::bytes("ZLIB")), "unknown stream decoder: ZLIB");
        assert_eq!(msg(Value::List(vec![])), "unhashable type: 'list'");
        assert_eq!(
            msg(Value::Int(5)),
            "%b requires a bytes-like object, or an object that implements __bytes__, not 'int'"
        );
    }

    #[test]
    fn zlib_as_cpython_decodes_it() {
        let mut d = StreamDecoder::new(b"zlib", &[]).unwrap();
        let z = zlib(b"hello world");
        // byte by byte, as a server's small frames arrive
        let mut out = Vec::new();
        for b in &z {
            out.extend_from_slice(&d.decode(std::slice::from_ref(b), 1 << 20).unwrap());
        }
        assert_eq!(out, b"hello world");
        // after the end of the stream, input is set aside, not decoded
        assert!(d.decode(&zlib(b"more"), 1 << 20).unwrap().is_empty());
        let mut d = StreamDecoder::new(b"zlib", &[]).unwrap();
        assert_eq!(
            d.decode(b"garbage", 1 << 20).unwrap_err(),
            StreamFault::Raises(
                "zlib.error: Error -3 while decompressing data: incorrect header check".into()
            )
        );
    }

    #[test]
    fn zstd_as_python_zstandard_decodes_it() {
        let mut d = StreamDecoder::new(b"zstd-8mb", &[]).unwrap();
        let z = zstd::bulk::compress(b"hello zstd", 3).unwrap();
        assert_eq!(d.decode(&z, 1 << 20).unwrap().as_ref(), b"hello zstd");
        // the frame ended: the object refuses any further call
        assert_eq!(
            d.decode(b"", 1 << 20).unwrap_err(),
            StreamFault::Raises("zstd.ZstdError: cannot use a decompressobj multiple times".into())
        );
        let mut d = StreamDecoder::new(b"zstd-8mb", &[]).unwrap();
        assert_eq!(
            d.decode(b"garbage", 1 << 20).unwrap_err(),
            StreamFault::Raises(
                "zstd.ZstdError: zstd decompressor error: Unknown frame descriptor".into()
            )
        );
    }

    #[test]
    fn output_is_bounded() {
        let zeros = vec![0u8; 1 << 20];
        let mut d = StreamDecoder::new(b"zlib", &[]).unwrap();
        match d.decode(&zlib(&zeros), 1000) {
            Err(StreamFault::OverLimit { produced, limit }) => {
                assert_eq!(limit, 1000);
                assert!(produced > 1000 && produced < 100_000, "{produced}");
            }
            other => panic!("{other:?}"),
        }
        let mut d = StreamDecoder::new(b"zstd-8mb", &[]).unwrap();
        let z = zstd::bulk::compress(&zeros, 3).unwrap();
        assert!(matches!(
            d.decode(&z, 1000),
            Err(StreamFault::OverLimit { limit: 1000, .. })
        ));
        // exactly at the bound is fine
        let mut d = StreamDecoder::new(b"zlib", &[]).unwrap();
        assert_eq!(d.decode(&zlib(&zeros[..1000]), 1000).unwrap().len(), 1000);
    }
}
