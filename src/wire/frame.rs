//! The frame model and the binary codec.
//!
//! A [`Frame`] is what travels on the wire: a header (24-bit little-endian
//! payload length, then for 8-byte revisions a u16 request id, a u8 stream id
//! and u8 stream flags, then one byte holding `type << 4 | flags`) followed by
//! the payload. Unknown types and flag bits are kept as they are: this is a
//! debugger and people send bad frames on purpose.
//!
//! Decoding is incremental ([`FrameDecoder`]: feed bytes, take frames) and
//! streaming ([`FrameReader`] over any `Read`), so no input is ever held
//! whole. Every Mercurial server reads the length as `b0 + 256*b1 +
//! 16384*b2` (a bug present from the first snapshot to 6.1); the decoder
//! reads the correct value by default and can be told to read like
//! Mercurial ([`LengthMode::Mercurial`]) when it predicts a server. This
//! module does no formatting beyond `Debug`.

use std::io::Read;

use crate::wire::proto::Proto;

/// Largest payload a 24-bit length can describe.
pub const MAX_PAYLOAD: usize = (1 << 24) - 1;
/// Largest payload Mercurial's senders produce.
pub const DEFAULT_MAX_FRAME_SIZE: usize = 32768;

pub use crate::wire::ids::{STREAM_BEGIN, STREAM_ENCODED, STREAM_END};

/// A frame, owned.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Frame {
    pub request_id: u16,
    pub stream_id: u8,
    pub stream_flags: u8,
    /// 0..=15
    pub type_id: u8,
    /// 0..=15
    pub flags: u8,
    pub payload: Vec<u8>,
}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Frame(req={} stream={} sflags={:#x} type={:#x} flags={:#x} payload={:?})",
            self.request_id,
            self.stream_id,
            self.stream_flags,
            self.type_id,
            self.flags,
            crate::python::escape::escape_bytes(&self.payload)
        )
    }
}

/// A frame borrowed from an input buffer (zero-copy decoding).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameRef<'a> {
    pub request_id: u16,
    pub stream_id: u8,
    pub stream_flags: u8,
    pub type_id: u8,
    pub flags: u8,
    pub payload: &'a [u8],
}

impl FrameRef<'_> {
    pub fn to_owned(&self) -> Frame {
        Frame {
            request_id: self.request_id,
            stream_id: self.stream_id,
            stream_flags: self.stream_flags,
            type_id: self.type_id,
            flags: self.flags,
            payload: self.payload.to_vec(),
        }
    }
}

impl Frame {
    pub fn new(type_id: u8, flags: u8, payload: impl Into<Vec<u8>>) -> Frame {
        Frame {
            type_id,
            flags,
            payload: payload.into(),
            ..Frame::default()
        }
    }

    pub fn with_ids(mut self, request_id: u16, stream_id: u8, stream_flags: u8) -> Frame {
        self.request_id = request_id;
        self.stream_id = stream_id;
        self.stream_flags = stream_flags;
        self
    }

    pub fn as_ref(&self) -> FrameRef<'_> {
        FrameRef {
            request_id: self.request_id,
            stream_id: self.stream_id,
            stream_flags: self.stream_flags,
            type_id: self.type_id,
            flags: self.flags,
            payload: &self.payload,
        }
    }

    /// Encoded size: header plus payload.
    pub fn encoded_len(&self, proto: Proto) -> usize {
        proto.table().header_size + self.payload.len()
    }

    /// Append the exact wire bytes of this frame to `out`.
    ///
    /// Fails only when the payload is longer than a 24-bit length allows.
    pub fn encode_into(&self, proto: Proto, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        encode_parts(
            proto,
            self.request_id,
            self.stream_id,
            self.stream_flags,
            self.type_id,
            self.flags,
            &self.payload,
            out,
        )
    }

    pub fn encode(&self, proto: Proto) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::with_capacity(self.encoded_len(proto));
        self.encode_into(proto, &mut out)?;
        Ok(out)
    }
}

/// Why a frame cannot be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// The payload does not fit the 24-bit length field.
    #[error("payload of {len} bytes does not fit a frame (at most {MAX_PAYLOAD} bytes)")]
    PayloadTooLarge { len: usize },
}

#[allow(clippy::too_many_arguments)]
fn encode_parts(
    proto: Proto,
    request_id: u16,
    stream_id: u8,
    stream_flags: u8,
    type_id: u8,
    flags: u8,
    payload: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    let len = payload.len();
    if len > MAX_PAYLOAD {
        return Err(EncodeError::PayloadTooLarge { len });
    }
    out.extend_from_slice(&[len as u8, (len >> 8) as u8, (len >> 16) as u8]);
    if proto.table().has_streams {
        out.extend_from_slice(&request_id.to_le_bytes());
        out.push(stream_id);
        out.push(stream_flags);
    }
    out.push((type_id & 0xf) << 4 | (flags & 0xf));
    out.extend_from_slice(payload);
    Ok(())
}

/// How the 24-bit length is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LengthMode {
    /// `b0 + 256*b1 + 65536*b2`: what the encoders write.
    #[default]
    Correct,
    /// `b0 + 256*b1 + 16384*b2`: what every Mercurial server reads.
    Mercurial,
}

impl LengthMode {
    pub fn read(self, b: [u8; 3]) -> usize {
        let hi = match self {
            LengthMode::Correct => 65536,
            LengthMode::Mercurial => 16384,
        };
        b[0] as usize + 256 * b[1] as usize + hi * b[2] as usize
    }
}

/// The length a Mercurial server reads for a header whose real length is `len`.
pub fn mercurial_misread_len(len: usize) -> usize {
    LengthMode::Mercurial.read([len as u8, (len >> 8) as u8, (len >> 16) as u8])
}

/// A parsed header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub length: usize,
    /// The length bytes as sent, for warnings about the Mercurial misread.
    pub raw_length: [u8; 3],
    pub request_id: u16,
    pub stream_id: u8,
    pub stream_flags: u8,
    pub type_id: u8,
    pub flags: u8,
}

/// Parse a header from the start of `b` (which must hold `header_size` bytes).
pub fn parse_header(proto: Proto, mode: LengthMode, b: &[u8]) -> Option<Header> {
    let size = proto.table().header_size;
    if b.len() < size {
        return None;
    }
    let raw_length = [b[0], b[1], b[2]];
    let (request_id, stream_id, stream_flags) = if proto.table().has_streams {
        (u16::from_le_bytes([b[3], b[4]]), b[5], b[6])
    } else {
        (0, 0, 0)
    };
    let tf = b[size - 1];
    Some(Header {
        length: mode.read(raw_length),
        raw_length,
        request_id,
        stream_id,
        stream_flags,
        type_id: tf >> 4,
        flags: tf & 0xf,
    })
}

/// A decoding failure, with where it happened and the counts involved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Input ended inside a frame header.
    #[error(
        "truncated frame header at byte offset {offset}: got {got} of {want} header bytes ({hex})"
    )]
    TruncatedHeader {
        offset: u64,
        got: usize,
        want: usize,
        /// The bytes that were there, as hex.
        hex: String,
    },
    /// Input ended inside a frame payload.
    #[error(
        "truncated payload of the frame at byte offset {offset}: header says {want} payload bytes, only {got} follow"
    )]
    TruncatedPayload {
        offset: u64,
        want: usize,
        got: usize,
    },
}

/// A frame and where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located<T> {
    /// Byte offset of the frame header in the input.
    pub offset: u64,
    pub header: Header,
    pub frame: T,
}

impl<T> Located<T> {
    /// The payload length a Mercurial server would read from this header,
    /// when it differs from the real one (frames of 65536 bytes or more).
    pub fn mercurial_misread(&self) -> Option<usize> {
        let m = LengthMode::Mercurial.read(self.header.raw_length);
        let c = LengthMode::Correct.read(self.header.raw_length);
        (m != c).then_some(m)
    }
}

/// Zero-copy iterator over the frames of a complete buffer.
pub struct SliceDecoder<'a> {
    proto: Proto,
    mode: LengthMode,
    buf: &'a [u8],
    pos: usize,
    failed: bool,
}

impl<'a> SliceDecoder<'a> {
    pub fn new(proto: Proto, mode: LengthMode, buf: &'a [u8]) -> Self {
        SliceDecoder {
            proto,
            mode,
            buf,
            pos: 0,
            failed: false,
        }
    }
}

impl<'a> Iterator for SliceDecoder<'a> {
    type Item = Result<Located<FrameRef<'a>>, DecodeError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.buf.len() {
            return None;
        }
        let rest = &self.buf[self.pos..];
        let hs = self.proto.table().header_size;
        let Some(h) = parse_header(self.proto, self.mode, rest) else {
            self.failed = true;
            return Some(Err(DecodeError::TruncatedHeader {
                offset: self.pos as u64,
                got: rest.len(),
                want: hs,
                hex: crate::python::escape::hex(rest),
            }));
        };
        let avail = rest.len() - hs;
        if avail < h.length {
            self.failed = true;
            return Some(Err(DecodeError::TruncatedPayload {
                offset: self.pos as u64,
                want: h.length,
                got: avail,
            }));
        }
        let offset = self.pos as u64;
        self.pos += hs + h.length;
        Some(Ok(Located {
            offset,
            header: h,
            frame: FrameRef {
                request_id: h.request_id,
                stream_id: h.stream_id,
                stream_flags: h.stream_flags,
                type_id: h.type_id,
                flags: h.flags,
                payload: &rest[hs..hs + h.length],
            },
        }))
    }
}

/// Incremental decoder: feed bytes as they arrive, take whole frames out.
///
/// Holds at most one partial frame; consumed bytes are dropped.
pub struct FrameDecoder {
    proto: Proto,
    mode: LengthMode,
    buf: Vec<u8>,
    start: usize,
    /// Absolute offset of `buf[start]` in the input.
    offset: u64,
}

impl FrameDecoder {
    pub fn new(proto: Proto, mode: LengthMode) -> Self {
        FrameDecoder {
            proto,
            mode,
            buf: Vec::new(),
            start: 0,
            offset: 0,
        }
    }

    /// Add input bytes.
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        } else if self.start > 64 * 1024 && self.start * 2 > self.buf.len() {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Add input bytes the caller gives away: taken as the buffer when
    /// nothing is pending (a whole request body is not copied).
    pub fn feed_owned(&mut self, bytes: Vec<u8>) {
        if self.start == self.buf.len() {
            self.buf = bytes;
            self.start = 0;
        } else {
            self.feed(&bytes);
        }
    }

    /// How many more bytes are needed before the next frame is complete
    /// (0 when one is ready).
    pub fn wanted(&self) -> usize {
        let rest = &self.buf[self.start..];
        let hs = self.proto.table().header_size;
        match parse_header(self.proto, self.mode, rest) {
            None => hs - rest.len(),
            Some(h) => (hs + h.length).saturating_sub(rest.len()),
        }
    }

    /// Take the next complete frame, if there is one.
    pub fn next_frame(&mut self) -> Option<Located<Frame>> {
        let rest = &self.buf[self.start..];
        let hs = self.proto.table().header_size;
        let h = parse_header(self.proto, self.mode, rest)?;
        if rest.len() < hs + h.length {
            return None;
        }
        let frame = Frame {
            request_id: h.request_id,
            stream_id: h.stream_id,
            stream_flags: h.stream_flags,
            type_id: h.type_id,
            flags: h.flags,
            payload: rest[hs..hs + h.length].to_vec(),
        };
        let offset = self.offset;
        self.start += hs + h.length;
        self.offset += (hs + h.length) as u64;
        Some(Located {
            offset,
            header: h,
            frame,
        })
    }

    /// Bytes buffered but not yet returned as a frame.
    pub fn pending(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    /// Declare end of input: an error when a partial frame is left over.
    pub fn finish(&self) -> Result<(), DecodeError> {
        let rest = self.pending();
        if rest.is_empty() {
            return Ok(());
        }
        let hs = self.proto.table().header_size;
        match parse_header(self.proto, self.mode, rest) {
            None => Err(DecodeError::TruncatedHeader {
                offset: self.offset,
                got: rest.len(),
                want: hs,
                hex: crate::python::escape::hex(rest),
            }),
            Some(h) => Err(DecodeError::TruncatedPayload {
                offset: self.offset,
                want: h.length,
                got: rest.len() - hs,
            }),
        }
    }
}

/// Error from a [`FrameReader`].
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error("reading input: {0}")]
    Io(#[from] std::io::Error),
}

/// Streaming frame iterator over any reader, in bounded memory.
pub struct FrameReader<R> {
    inner: R,
    dec: FrameDecoder,
    chunk: Vec<u8>,
    done: bool,
}

impl<R: Read> FrameReader<R> {
    pub fn new(proto: Proto, mode: LengthMode, inner: R) -> Self {
        FrameReader {
            inner,
            dec: FrameDecoder::new(proto, mode),
            chunk: vec![0; 64 * 1024],
            done: false,
        }
    }
}

impl<R: Read> Iterator for FrameReader<R> {
    type Item = Result<Located<Frame>, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        loop {
            if let Some(f) = self.dec.next_frame() {
                return Some(Ok(f));
            }
            let n = match self.inner.read(&mut self.chunk) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e.into()));
                }
            };
            if n == 0 {
                self.done = true;
                return match self.dec.finish() {
                    Ok(()) => None,
                    Err(e) => Some(Err(e.into())),
                };
            }
            self.dec.feed(&self.chunk[..n]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_8byte() {
        let f = Frame::new(1, 0, b"foo".to_vec()).with_ids(2, 4, 0);
        assert_eq!(
            crate::python::escape::hex(&f.encode(Proto::P0006).unwrap()),
            "0300000200040010666f6f"
        );
    }

    #[test]
    fn encode_4byte() {
        let f = Frame::new(1, 2, b"command1".to_vec());
        assert_eq!(
            crate::python::escape::hex(&f.encode(Proto::P0001).unwrap()),
            "08000012636f6d6d616e6431"
        );
    }

    #[test]
    fn roundtrip_and_offsets() {
        let p = Proto::P0006;
        let frames = vec![
            Frame::new(1, 1, b"abc".to_vec()).with_ids(1, 1, 1),
            Frame::new(0xf, 0xf, vec![]).with_ids(65535, 255, 0xff),
        ];
        let mut bytes = Vec::new();
        for f in &frames {
            f.encode_into(p, &mut bytes).unwrap();
        }
        let got: Vec<_> = SliceDecoder::new(p, LengthMode::Correct, &bytes)
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].offset, 11);
        assert_eq!(got[0].frame.to_owned(), frames[0]);
        assert_eq!(got[1].frame.to_owned(), frames[1]);
        // incremental, one byte at a time
        let mut d = FrameDecoder::new(p, LengthMode::Correct);
        let mut out = Vec::new();
        for b in &bytes {
            d.feed(&[*b]);
            while let Some(f) = d.next_frame() {
                out.push(f.frame);
            }
        }
        assert_eq!(out, frames);
        d.finish().unwrap();
    }

    #[test]
    fn truncation_errors() {
        let p = Proto::P0006;
        let e = SliceDecoder::new(p, LengthMode::Correct, &[8, 0, 0, 1, 0])
            .next()
            .unwrap()
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "truncated frame header at byte offset 0: got 5 of 8 header bytes (0800000100)"
        );
        let e = SliceDecoder::new(p, LengthMode::Correct, &[12, 0, 0, 1, 0, 1, 1, 0x11, 1])
            .next()
            .unwrap()
            .unwrap_err();
        assert!(matches!(
            e,
            DecodeError::TruncatedPayload {
                offset: 0,
                want: 12,
                got: 1
            }
        ));
    }

    #[test]
    fn mercurial_length_bug() {
        assert_eq!(mercurial_misread_len(65536), 16384);
        assert_eq!(mercurial_misread_len(65535), 65535);
        assert_eq!(mercurial_misread_len(0x0fffff), 0xffff + 16384 * 0xf);
    }

    #[test]
    fn reader_streams() {
        let p = Proto::P0002;
        let mut bytes = Vec::new();
        for i in 0..1000u16 {
            Frame::new(1, 1, vec![b'x'; (i % 300) as usize])
                .with_ids(i, 1, 0)
                .encode_into(p, &mut bytes)
                .unwrap();
        }
        let r = FrameReader::new(p, LengthMode::Correct, &bytes[..]);
        let v: Vec<_> = r.map(|f| f.unwrap()).collect();
        assert_eq!(v.len(), 1000);
        assert_eq!(v[999].frame.request_id, 999);
    }
}
