#!/usr/bin/env python3
"""Write hostile (and one large, honest) 0006 response bodies for measuring
hgframe's memory bound (scripts/measure-hostile.sh runs `hgframe decode`
on each under /usr/bin/time -v).

    "$(dirname "$(scripts/hg-venv.sh)")/python3" scripts/hostile-responses.py OUTDIR

Needs Mercurial 6.0's Python for zstd (mercurial.zstd, python-zstandard);
zlib is the standard library's. Files (every one starts with the server's
stream-settings frame, then frames of request 1 on stream 2):

    zstd-bomb.bin        {status: ok} and a 100 MiB byte string of zeros,
                         zstd-8mb (window 8 MiB), in one frame of ~3 KB
    zlib-bomb.bin        the same with zlib (~100 KB)
    huge-string.bin      a byte string declaring 2**63 bytes, then 64 MiB
                         of its "data" in 32 KiB frames
    endless-map.bin      a map declaring 2**32 entries, then 128 MiB of
                         distinct small entries in 32 KiB frames
    endless-settings.bin stream settings that never end: an indefinite
                         byte string, 128 MiB of chunks
    honest-256MiB.bin    identity: 8192 objects of 32 KiB (a large but
                         ordinary response), for throughput
"""

import os
import struct
import sys
import zlib

try:
    from mercurial import zstd
except ImportError:  # pragma: no cover
    sys.exit('needs mercurial.zstd: run with the Python of the Mercurial 6.0 venv')

STATUS_OK = b'\xa1FstatusBok'


def frame(rid, sid, sflags, typ, flags, payload):
    """One 0006 frame: 24-bit length, request id, stream id, stream flags,
    type and flags."""
    n = len(payload)
    head = struct.pack('<I', n)[:3] + struct.pack('<HBB', rid, sid, sflags)
    return head + bytes([typ << 4 | flags]) + payload


def settings(name):
    return frame(1, 2, 1, 9, 2, bytes([0x40 | len(name)]) + name)


def data(payload, encoded=True, eos=False):
    return frame(1, 2, 4 if encoded else 0, 3, 2 if eos else 1, payload)


def bytes_head(n):
    return b'\x5a' + struct.pack('>I', n)


def zeros_chunks(total, size=1 << 20):
    block = b'\0' * size
    for _ in range(total // size):
        yield block


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    mib = 1 << 20

    params = zstd.ZstdCompressionParameters.from_level(19, window_log=23)
    co = zstd.ZstdCompressor(compression_params=params).compressobj()
    z = co.compress(STATUS_OK + bytes_head(100 * mib))
    for b in zeros_chunks(100 * mib):
        z += co.compress(b)
    z += co.flush(zstd.COMPRESSOBJ_FLUSH_BLOCK)
    with open(os.path.join(out, 'zstd-bomb.bin'), 'wb') as fh:
        fh.write(settings(b'zstd-8mb') + data(z))

    co = zlib.compressobj(9)
    z = co.compress(STATUS_OK + bytes_head(100 * mib))
    for b in zeros_chunks(100 * mib):
        z += co.compress(b)
    z += co.flush(zlib.Z_SYNC_FLUSH)
    with open(os.path.join(out, 'zlib-bomb.bin'), 'wb') as fh:
        fh.write(settings(b'zlib') + data(z))

    with open(os.path.join(out, 'huge-string.bin'), 'wb') as fh:
        fh.write(settings(b'identity'))
        fh.write(data(STATUS_OK + b'\x5b' + struct.pack('>Q', 1 << 63)))
        chunk = data(b'x' * 32768)
        for _ in range(64 * mib // 32768):
            fh.write(chunk)

    with open(os.path.join(out, 'endless-map.bin'), 'wb') as fh:
        fh.write(settings(b'identity'))
        fh.write(data(STATUS_OK + b'\xba\xff\xff\xff\xff'))
        key = 0
        for _ in range(128 * mib // 32768):
            p = bytearray()
            while len(p) < 32760:
                p += b'\x44' + struct.pack('>I', key) + b'\x00'
                key += 1
            fh.write(data(bytes(p)))

    with open(os.path.join(out, 'endless-settings.bin'), 'wb') as fh:
        fh.write(frame(1, 2, 1, 9, 1, b'\x5f'))
        chunk = frame(1, 2, 0, 9, 1, b'\x59\x7f\xf8' + b'z' * 0x7ff8)
        for _ in range(128 * mib // 32768):
            fh.write(chunk)

    with open(os.path.join(out, 'honest-256MiB.bin'), 'wb') as fh:
        fh.write(settings(b'identity'))
        fh.write(data(STATUS_OK))
        value = b'\x59\x7f\xf8' + bytes(range(256)) * 127 + b'\0' * 248
        assert len(value) == 32768 - 5, len(value)
        for _ in range(8192):
            fh.write(data(value))
        fh.write(data(b'', encoded=False, eos=True))
    return 0


if __name__ == '__main__':
    sys.exit(main())
