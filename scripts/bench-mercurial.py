#!/usr/bin/env python3
"""Time Mercurial 6.0's own wireprotoframing on the workloads of hgframe's
criterion benches (benches/codec.rs, benches/reactor.rs), for comparison.

Run it with the Python of the Mercurial 6.0 venv (scripts/bench.sh does):

    "$(dirname "$(scripts/hg-venv.sh)")/python3" scripts/bench-mercurial.py [--seconds S]

Prints one JSON object per line on stdout:

    {"id": "<criterion bench id>", "elements_per_s": N, "what": "..."}

where the id is the hgframe bench it compares with. Only revision 0006
exists in Mercurial 6.0, so only 0006 benches get a figure. Each figure is
the median rate over several timed samples of about S/5 seconds each.
"""

import argparse
import gc
import io
import json
import statistics
import sys
import time

from mercurial import ui as uimod, wireprotoframing as framing

FRAMES = 100_000  # as benches/codec.rs
BATCH = 1000  # as benches/reactor.rs
SAMPLES = 5

HUMAN = {
    'human/0006/cbor': b"1 1 stream-begin command-request new cbor:{b'name': b'heads'}",
    'human/0006/cbor-args': b"3 1 0 command-request new cbor:{b'name': b'known', b'args': {b'nodes': [b'0123456789abcdef0123', b'fedcba9876543210fedc']}}",
    'human/0006/escaped': rb"5 1 0 command-data continuation \x00\x01\x02\xfffoo bar\nbaz\\qux\t\x7f",
}


def median_rate(fn, elements, seconds):
    """fn() processes `elements` elements; time batches of calls for about
    seconds/SAMPLES each and return the median elements/s."""
    # calibrate: how many calls fill one sample
    t0 = time.perf_counter()
    fn()
    one = max(time.perf_counter() - t0, 1e-7)
    calls = max(1, int(seconds / SAMPLES / one))
    rates = []
    gc.disable()
    try:
        for _ in range(SAMPLES):
            t0 = time.perf_counter()
            for _ in range(calls):
                fn()
            dt = time.perf_counter() - t0
            rates.append(calls * elements / dt)
    finally:
        gc.enable()
    return statistics.median(rates)


def small_frames():
    """Same frames as benches/codec.rs small_frames(P0006)."""
    payloads = [b'heads\x00\x01\x02\x03\x04', b'0123456789', b'fooval1abc', b'\xa1DnameEheads']
    out = bytearray()
    for i in range(FRAMES):
        out += framing.makeframe(
            requestid=(2 * i + 1) & 0xFFFF,
            streamid=1,
            streamflags=1 if i == 0 else 0,
            typeid=1 + i % 3,
            flags=i % 4,
            payload=payloads[i % len(payloads)],
        )
    return bytes(out)


def tofr(b):
    """A bytearray from makeframe* as the frame object onframerecv takes."""
    return framing.readframe(io.BytesIO(bytes(b)))


def rid(k):
    return 2 * k + 1


def sflags(i):
    return b'stream-begin' if i == 0 else b'0'


def reactor_frames():
    single = [
        tofr(framing.makeframefromhumanstring(
            b"%d 1 %s command-request new cbor:{b'name': b'heads'}" % (rid(i), sflags(i))))
        for i in range(BATCH)
    ]
    args = [
        tofr(framing.makeframefromhumanstring(
            b"%d 1 %s command-request new cbor:{b'name': b'known', b'args': {b'nodes': [b'0123456789abcdef0123', b'fedcba9876543210fedc']}}"
            % (rid(i), sflags(i))))
        for i in range(BATCH)
    ]
    whole = bytes(framing.makeframefromhumanstring(
        b"1 1 0 command-request new cbor:{b'name': b'getfiles', b'args': {b'path': b'dir/file.txt', b'fields': [b'parents', b'revision'], b'haveparents': True}}"
    ))[framing.FRAME_HEADER_SIZE:]
    a, b = whole[:len(whole) // 2], whole[len(whole) // 2:]
    multi = []
    for k in range(BATCH // 2):
        multi.append(tofr(framing.makeframe(rid(k), 1, 1 if k == 0 else 0, 1, 0x1 | 0x4, a)))
        multi.append(tofr(framing.makeframe(rid(k), 1, 0, 1, 0x2, b)))
    return {
        'reactor/0006/single': (single, BATCH),
        'reactor/0006/args': (args, BATCH),
        'reactor/0006/multi': (multi, BATCH // 2),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--seconds', type=float, default=2.0, help='time per figure (default 2)')
    opts = ap.parse_args()
    secs = opts.seconds

    def emit(bench_id, rate, what):
        print(json.dumps({'id': bench_id, 'elements_per_s': rate, 'what': what}), flush=True)

    # human strings
    for bench_id, line in HUMAN.items():
        framing.makeframefromhumanstring(line)  # must parse
        lines = [line] * 1000
        mk = framing.makeframefromhumanstring

        def run(lines=lines, mk=mk):
            for s in lines:
                mk(s)

        emit(bench_id, median_rate(run, len(lines), secs), 'makeframefromhumanstring')

    # decoding: readframe (parseheader + payload read) over a BytesIO
    buf = small_frames()

    def decode(buf=buf):
        fh = io.BytesIO(buf)
        n = 0
        rf = framing.readframe
        while rf(fh) is not None:
            n += 1
        assert n == FRAMES, n

    rate = median_rate(decode, FRAMES, secs)
    emit('decode-slice/0006', rate, 'readframe over BytesIO')
    emit('decode-chunked-4k/0006', rate, 'readframe over BytesIO')

    # parseheader alone, for reference (no payload slicing, no frame object)
    mv = memoryview(buf)
    offsets = []
    pos = 0
    while pos < len(buf):
        offsets.append(pos)
        pos += framing.FRAME_HEADER_SIZE + buf[pos] + 256 * buf[pos + 1]
    ph = framing.parseheader

    def headers(mv=mv, offsets=offsets, ph=ph):
        for o in offsets:
            ph(mv[o:o + 8])

    emit('parseheader/0006', median_rate(headers, FRAMES, secs), 'parseheader over a memoryview')

    # reactor
    ui = uimod.ui()
    for bench_id, (frames, runs) in reactor_frames().items():
        r = framing.serverreactor(ui)
        got = [r.onframerecv(f)[0] for f in frames]
        assert got.count(b'runcommand') == runs, (bench_id, set(got))
        assert set(got) <= {b'runcommand', b'wantframe'}, (bench_id, set(got))

        # A fresh reactor per batch, as in benches/reactor.rs (its creation
        # is included here; it is negligible next to 1000 frames).
        def run(frames=frames):
            r = framing.serverreactor(ui)
            on = r.onframerecv
            for f in frames:
                on(f)

        emit(bench_id, median_rate(run, len(frames), secs), 'serverreactor(ui).onframerecv')


if __name__ == '__main__':
    sys.exit(main())
