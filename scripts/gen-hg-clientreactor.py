#!/usr/bin/env python3
"""Golden data for the client reactor, computed by Mercurial 6.0 itself.

Every test method of Mercurial 6.0's tests/test-wireproto-clientreactor.py
(21 methods) is restated below as DATA, followed by extra cases (prefix
``extra_``) for paths the unit tests don't reach. Nothing expected is written
by hand: each case's events are fed to the real
``wireprotoframing.clientreactor`` and whatever it returns (or raises) is
recorded in tests/data/hg60/clientreactor.json, so a Rust port of the client
reactor can replay the events and compare. Frames that a server would send
in an encoded (zlib / zstd-8mb) stream are produced by Mercurial's own
``serverreactor`` and stream encoders, so they are what a real server sends.

Run it with the Python of the Mercurial 6.0 venv, from anywhere:

    "$(dirname "$(scripts/hg-venv.sh)")/python3" scripts/gen-hg-clientreactor.py
    ... scripts/gen-hg-clientreactor.py --check     # exit 1 if the file differs
    ... scripts/gen-hg-clientreactor.py -o OUT.json # write elsewhere

Output (one JSON object, pretty-printed, ASCII, keys in a fixed order):

    {"generator": ..., "mercurial": "6.0", "cases": [
      {"name", "test", "reactor", "events": [...], "results": [...]}]}

"name" is unique. Upstream cases are named after their test method; the file
has two methods called ``testbasic`` (SingleSendTests and NoBufferTests), so
those two are named ``SingleSendTests.testbasic`` / ``NoBufferTests.testbasic``.
"test" is "Class.method" of the upstream test, or null for extra cases.

"reactor" holds the constructor arguments, all three always present:

    {"hasmultiplesend": bool, "buffersends": bool,
     "clientcontentencoders": null | [str, ...]}

(clientreactor(ui, hasmultiplesend=..., buffersends=...,
clientcontentencoders=[names as bytes] or None). The upstream default is
false / true / null.)

Events (fed to ONE reactor per case, in order):

    {"event": "callcommand", "name": str, "args_cbor_hex": hex,
     "redirect_cbor_hex": hex | null, "data_hex": hex | null}
        reactor.callcommand(name, args, datafh=..., redirect=...).
        args / redirect are the values whose CBOR encoding (Mercurial's
        cborutil.streamencode) is given: decode it to get the value; the
        value passed to the reactor is exactly the decoded one (checked here).
        data_hex non-null means datafh=util.bytesio(data).
    {"event": "flushcommands"}
        reactor.flushcommands()
    {"event": "consume", "of": N}
        drain the ``framegen`` returned by event N (a callcommand or
        flushcommands that returned "sendframes"). Frame generation is lazy:
        request states change while it is drained, and a frame generator that
        is never drained leaves its requests 'pending' and not active.
    {"event": "frame", "hex": hex, "human": str | null, "origin": str}
        reactor.onframerecv(frame): the header is parsed with
        wireprotoframing.parseheader and the frame is rebuilt from the header
        fields and the payload, like the test's sendframe(). "human" is a
        string that makeframefromhumanstring() turns into exactly "hex"
        (verified), or null when the frame has no such form (unknown type,
        payload > 1024 bytes). "origin" says where the frame comes from:
        "ffs" (the human string), "makeframe" (hand-built header), or
        "server: ..." (emitted by a real serverreactor, see the case's
        comment in this script).

Results (one per event, same index). Every result carries "requests":
[[requestid, state], ...] for every request the case has created so far,
sorted by id, as seen right after the call (states: pending, sending, sent,
receiving, received, errored).

    A call that raises:  {"raises": "<Type>: <message>", "requests": ...}
        <Type> is the exception class name, prefixed with its module when it
        is neither a builtin nor a Mercurial class (zlib.error,
        zstd.ZstdError). A single bytes argument is shown as text. Raising
        does NOT end a case: later events run against the same reactor, in
        whatever state the raising call left it (state changes made before
        the raise persist, e.g. a request already marked 'receiving' or a
        decoder that already consumed the payload).

    callcommand:  {"requestid": N, "action": str, "meta": {...}, "requests"}
    flushcommands / frame:  {"action": str, "meta": {...}, "requests"}
        "meta" renders the meta dict the reactor returned, key by key (keys
        are the dict's bytes keys as text):
          framegen   -> omitted (drained by a later "consume" event)
          request    -> "request": its request id (int)
          data       -> "data_hex": the (decoded) payload bytes, hex
          anything else -> conv(value), the hgresponse2json.py rendering:
             None/bool/int as is; bytes as a string when valid UTF-8 (unless
             20 bytes containing control characters: then 40 hex digits),
             else 40 hex digits when 20 bytes long, else {"hex": ...};
             lists as arrays; sets {"set": [...]} sorted by their JSON;
             dicts with all-text keys as objects, else {"map": [[k, v]...]}.
        Notably "expectmore" and "eos" of 'responsedata' are the raw flag
        tests the reactor returns: expectmore is 0 or 1 (flags & 0x01), eos
        is 0 or 2 (flags & 0x02), not booleans. 'error' meta from a
        reactor check is {"message": str}; from an error-response frame it is
        {"message": <conv of the frame's CBOR message list>, "request": N,
        "type": <conv>}.
    "responsedata" results add "objects": the CBOR values that became
        complete with this frame's data when the request's data is fed, in
        order, to one cborutil.bufferingdecoder per request id (this is what
        wireprotov2peer.commandresponse does with the data; it is the
        harness's doing, not the reactor's). Each value is rendered with
        conv(), except that an indefinite-length byte string chunk
        (cborutil.bytestringchunk) becomes {"chunk": conv(bytes),
        "first": bool, "last": bool}. If the decoder raises, the result has
        "objects_raises": "<Type>: <message>" instead, and later responsedata
        results for that request have "objects": null.
    consume:  {"frames": [{"hex", "human", "requests"}, ...], "requests"}
        one entry per frame yielded, with the request states at the moment
        it was yielded; if draining raises, "raises" is added and "frames"
        holds what was yielded before.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import zlib

from mercurial import (
    error,
    pycompat,
    ui as uimod,
    util,
    wireprotoframing as framing,
    wireprototypes,
    zstd,
)
from mercurial.utils import cborutil, stringutil

GENERATOR = 'scripts/gen-hg-clientreactor.py'
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUTPUT = os.path.join(
    os.path.dirname(HERE), 'tests', 'data', 'hg60', 'clientreactor.json'
)

ffs = framing.makeframefromhumanstring
globalui = uimod.ui()


def cbor(o):
    return b''.join(cborutil.streamencode(o))


# ---------------------------------------------------------------------------
# Step constructors. A case is {name, test, reactor args, steps}.
# ---------------------------------------------------------------------------


def CALL(name, args=None, data=None, redirect=None):
    """reactor.callcommand(name, args, datafh=bytesio(data), redirect)"""
    return {
        'op': 'callcommand',
        'name': name,
        'args': {} if args is None else args,
        'data': data,
        'redirect': redirect,
    }


def FLUSH():
    """reactor.flushcommands()"""
    return {'op': 'flushcommands'}


def CONSUME(of=None):
    """Drain the framegen of event ``of`` (default: the latest sendframes)."""
    return {'op': 'consume', 'of': of}


def F(human):
    """One frame built by ffs(human), exactly as the test builds it."""
    return {'op': 'ffs', 'human': human}


def MF(requestid, streamid, streamflags, typeid, flags, payload):
    """One frame built by wireprotoframing.makeframe() (any type number)."""
    return {
        'op': 'raw',
        'frames': lambda: [
            framing.makeframe(
                requestid, streamid, streamflags, typeid, flags, payload
            )
        ],
        'origin': 'makeframe',
    }


def SERVER(make, origin):
    """Frames computed at run time by ``make()`` (a list of frame bytes),
    typically by a real serverreactor (see Server below)."""
    return {'op': 'raw', 'frames': make, 'origin': origin}


def CASE(name, steps, test=None, hasmultiplesend=False, buffersends=True,
         clientcontentencoders=None):
    return {
        'name': name,
        'test': test,
        'reactor': {
            'hasmultiplesend': hasmultiplesend,
            'buffersends': buffersends,
            'clientcontentencoders': clientcontentencoders,
        },
        'steps': steps,
    }


# ---------------------------------------------------------------------------
# The 21 test methods of tests/test-wireproto-clientreactor.py (6.0), in file
# order. The test's ``for frame in meta[b'framegen']: pass`` is CONSUME();
# its assertions on request.state show up in every result's "requests".
# ---------------------------------------------------------------------------


def _zlibcompress_status():
    return zlib.compress(cbor({b'status': b'ok'}))


def _zstd_status():
    """The test's zstd payload: zstd8mbencoder encode() + finish()."""
    encoder = framing.zstd8mbencoder(globalui)
    encoded = cbor({b'status': b'ok'})
    return encoder.encode(encoded) + encoder.finish()


def _zstd_plain_status():
    return zstd.ZstdCompressor().compress(cbor({b'status': b'ok'}))


def _bytes_split(data):
    """The single-byte frames of the *singlebyteframes tests: each byte as
    an escaped human-string payload (backslash doubled, as the test does)."""
    out = []
    for i in range(len(data)):
        char = data[i:i + 1]
        if char == b'\\':
            char = b'\\\\'
        out.append(char)
    return out


def _multipleresponses(encoder):
    """Frames of testzlibmultipleresponses / testzstd8mbmultipleresponses:
    an outputstream(2) with the encoder, encode(response1), flush(), ..."""
    outstream = framing.outputstream(2)
    outstream.setencoder(globalui, encoder)
    response1 = cbor({b'status': b'ok', b'extra': b'response1' * 10})
    response2 = cbor({b'status': b'error', b'extra': b'response2' * 10})
    enc1 = outstream.encode(response1)
    fl1 = outstream.flush()
    enc2 = outstream.encode(response2)
    fl2 = outstream.flush()
    return [
        F(b'1 2 stream-begin stream-settings eos cbor:b"%s"' % encoder),
        F(b'1 2 encoded command-response continuation %s' % enc1),
        F(b'1 2 encoded command-response eos %s' % fl1),
        F(b'3 2 encoded command-response continuation %s' % enc2),
        F(b'3 2 encoded command-response eos %s' % fl2),
    ]


def _upstream_cases():
    data_identity = cbor(b'identity')
    multi = cbor(b'identity') + cbor({b'foo', b'bar'})
    zlibsingle = _bytes_split(_zlibcompress_status())
    zstdsingle = _bytes_split(_zstd_plain_status())
    return [
        CASE('SingleSendTests.testbasic', test='SingleSendTests.testbasic',
             hasmultiplesend=False, buffersends=True, steps=[
                 CALL(b'foo'),
                 FLUSH(),
                 CONSUME(),
                 CALL(b'foo'),
                 CALL(b'foo'),
             ]),
        CASE('NoBufferTests.testbasic', test='NoBufferTests.testbasic',
             hasmultiplesend=True, buffersends=False, steps=[
                 CALL(b'command1'),
                 CONSUME(),
                 FLUSH(),
                 CALL(b'command2'),
                 CONSUME(),
             ]),
        CASE('testoddstream', test='BadFrameRecvTests.testoddstream', steps=[
            F(b'1 1 0 1 0 foo'),
        ]),
        CASE('testunknownstream', test='BadFrameRecvTests.testunknownstream',
             steps=[
                 F(b'1 0 0 1 0 foo'),
             ]),
        CASE('testunhandledframetype',
             test='BadFrameRecvTests.testunhandledframetype',
             buffersends=False, steps=[
                 CALL(b'foo'),
                 CONSUME(),
                 F(b'1 0 stream-begin text-output 0 foo'),
             ]),
        CASE('testmultipleresponseframes',
             test='StreamTests.testmultipleresponseframes',
             buffersends=False, steps=[
                 CALL(b'foo'),
                 CONSUME(),
                 F(b'1 0 stream-begin command-response 0 foo'),
                 F(b'1 0 0 command-response eos bar'),
             ]),
        CASE('testredirect', test='RedirectTests.testredirect',
             buffersends=False, steps=[
                 CALL(b'foo', redirect={
                     b'targets': [b'a', b'b'],
                     b'hashes': [b'sha256'],
                 }),
                 CONSUME(),
             ]),
        CASE('testnoflags', test='StreamSettingsTests.testnoflags',
             buffersends=False, steps=[
                 CALL(b'foo'),
                 CONSUME(),
                 F(b'1 2 stream-begin stream-settings 0 '),
             ]),
        CASE('testconflictflags', test='StreamSettingsTests.testconflictflags',
             buffersends=False, steps=[
                 CALL(b'foo'),
                 CONSUME(),
                 F(b'1 2 stream-begin stream-settings continuation|eos '),
             ]),
        CASE('testemptypayload', test='StreamSettingsTests.testemptypayload',
             buffersends=False, steps=[
                 CALL(b'foo'),
                 CONSUME(),
                 F(b'1 2 stream-begin stream-settings eos '),
             ]),
        CASE('testbadcbor', test='StreamSettingsTests.testbadcbor',
             buffersends=False, steps=[
                 CALL(b'foo'),
                 CONSUME(),
                 F(b'1 2 stream-begin stream-settings eos badvalue'),
             ]),
        CASE('testsingleobject', test='StreamSettingsTests.testsingleobject',
             buffersends=False, steps=[
                 CALL(b'foo'),
                 CONSUME(),
                 F(b'1 2 stream-begin stream-settings eos cbor:b"identity"'),
             ]),
        CASE('testmultipleobjects',
             test='StreamSettingsTests.testmultipleobjects',
             buffersends=False, steps=[
                 CALL(b'foo'),
                 CONSUME(),
                 F(b'1 2 stream-begin stream-settings eos %s' % multi),
             ]),
        CASE('testmultipleframes', test='StreamSettingsTests.testmultipleframes',
             buffersends=False, steps=[
                 CALL(b'foo'),
                 CONSUME(),
                 F(b'1 2 stream-begin stream-settings continuation %s'
                   % data_identity[0:3]),
                 F(b'1 2 0 stream-settings eos %s' % data_identity[3:]),
             ]),
        CASE('testinvalidencoder',
             test='StreamSettingsTests.testinvalidencoder',
             buffersends=False, steps=[
                 CALL(b'foo'),
                 CONSUME(),
                 F(b'1 2 stream-begin stream-settings eos cbor:b"badvalue"'),
             ]),
        CASE('testzlibencoding', test='StreamSettingsTests.testzlibencoding',
             buffersends=False, steps=[
                 CALL(b'foo'),
                 CONSUME(),
                 F(b'1 2 stream-begin stream-settings eos cbor:b"zlib"'),
                 F(b'1 2 encoded command-response eos %s'
                   % _zlibcompress_status()),
             ]),
        CASE('testzlibencodingsinglebyteframes',
             test='StreamSettingsTests.testzlibencodingsinglebyteframes',
             buffersends=False, steps=[
                 CALL(b'foo'),
                 CONSUME(),
                 F(b'1 2 stream-begin stream-settings eos cbor:b"zlib"'),
             ] + [
                 F(b'1 2 encoded command-response continuation %s' % c)
                 for c in zlibsingle
             ] + [
                 F(b'1 2 stream-end command-response eos '),
             ]),
        CASE('testzlibmultipleresponses',
             test='StreamSettingsTests.testzlibmultipleresponses',
             buffersends=False, hasmultiplesend=True, steps=[
                 CALL(b'foo'),
                 CONSUME(),
                 CALL(b'foo'),
                 CONSUME(),
             ] + _multipleresponses(b'zlib')),
        CASE('testzstd8mbencoding',
             test='StreamSettingsTests.testzstd8mbencoding',
             buffersends=False, steps=[
                 CALL(b'foo'),
                 CONSUME(),
                 F(b'1 2 stream-begin stream-settings eos cbor:b"zstd-8mb"'),
                 F(b'1 2 encoded command-response eos %s' % _zstd_status()),
             ]),
        CASE('testzstd8mbencodingsinglebyteframes',
             test='StreamSettingsTests.testzstd8mbencodingsinglebyteframes',
             buffersends=False, steps=[
                 CALL(b'foo'),
                 CONSUME(),
                 F(b'1 2 stream-begin stream-settings eos cbor:b"zstd-8mb"'),
             ] + [
                 F(b'1 2 encoded command-response continuation %s' % c)
                 for c in zstdsingle
             ] + [
                 F(b'1 2 stream-end command-response eos '),
             ]),
        CASE('testzstd8mbmultipleresponses',
             test='StreamSettingsTests.testzstd8mbmultipleresponses',
             buffersends=False, hasmultiplesend=True, steps=[
                 CALL(b'foo'),
                 CONSUME(),
                 CALL(b'foo'),
                 CONSUME(),
             ] + _multipleresponses(b'zstd-8mb')),
    ]


# ---------------------------------------------------------------------------
# A real server reactor, to produce valid (encoded) response streams.
# ---------------------------------------------------------------------------


class Server(object):
    """A serverreactor that has received requests ``requestids`` (commands
    named ``cmd``) from a client advertising ``encoders``, with one output
    stream (id 2) whose encoder the reactor picked as it always does (its own
    preference order zstd-8mb, zlib, identity among the client's names)."""

    def __init__(self, encoders=None, requestids=(1,)):
        self.reactor = framing.serverreactor(globalui, deferoutput=False)
        instream = framing.stream(1)
        if encoders:
            payload = cbor({b'contentencodings': list(encoders)})
            self._feed(instream.makeframe(
                requestids[0], framing.FRAME_TYPE_SENDER_PROTOCOL_SETTINGS,
                framing.FLAG_SENDER_PROTOCOL_SETTINGS_EOS, payload))
        for rid in requestids:
            for fr in framing.createcommandframes(instream, rid, b'cmd', {}):
                action, meta = self._feed(fr)
                assert action == b'runcommand', (action, meta)
        self.out = self.reactor.makeoutputstream()

    def _feed(self, fb):
        h = framing.parseheader(fb)
        return self.reactor.onframerecv(framing.frame(
            h.requestid, h.streamid, h.streamflags, h.typeid, h.flags,
            fb[framing.FRAME_HEADER_SIZE:]))

    def objects(self, rid, objs):
        """Frame generator of oncommandresponsereadyobjects(); ``objs`` may
        be a list or a generator (which may raise)."""
        action, meta = self.reactor.oncommandresponsereadyobjects(
            self.out, rid, objs)
        assert action == b'sendframes'
        return meta[b'framegen']

    def servererror(self, rid, msg):
        action, meta = self.reactor.onservererror(self.out, rid, msg)
        assert action == b'sendframes'
        return meta[b'framegen']

    def commanderror(self, rid, msg, args=None):
        action, meta = self.reactor.oncommanderror(self.out, rid, msg, args)
        assert action == b'sendframes'
        return meta[b'framegen']


def sequential(*gens):
    return [bytes(f) for g in gens for f in g]


def roundrobin(*gens):
    """One frame from each generator in turn. The generators encode lazily,
    so the shared output stream's compressor sees the frames in exactly this
    order: the interleaved stream is what a server emitting in that order
    would send."""
    gens = [iter(g) for g in gens]
    out = []
    while gens:
        for g in list(gens):
            try:
                out.append(bytes(next(g)))
            except StopIteration:
                gens.remove(g)
    return out


def _noise(n, seed=b'hgframe'):
    """n deterministic, incompressible bytes (sha256 in counter mode)."""
    import hashlib
    out = bytearray()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(b'%s-%d' % (seed, i)).digest()
        i += 1
    return bytes(out[:n])


def _text(n):
    """n bytes of compressible, deterministic text."""
    words = [b'alpha', b'bravo', b'charlie', b'delta', b'echo', b'foxtrot',
             b'golf', b'hotel', b'india', b'juliett', b'kilo', b'lima']
    out = bytearray()
    i = 0
    while len(out) < n:
        out += words[(i * 7 + i // 3) % len(words)] + b' '
        i += 1
    return bytes(out[:n])


def _failing(objs, exc):
    """A response object generator that yields ``objs`` then raises."""
    for o in objs:
        yield o
    raise exc


_NODE = bytes.fromhex('0123456789abcdef0123456789abcdef01234567')
_BIGMAP = {b'key%05d' % i: b'value%05d' % i for i in range(1700)}  # ~34 KB
_HEADSLIKE = [_NODE, bytes(20)]


def _interleaved(encoders):
    """Three requests answered on one stream, frame by frame round robin.
    Request 3's answer spans several frames (a 34000-byte text value and a
    34 KB map)."""
    def make():
        s = Server(encoders, requestids=(1, 3, 5))
        return roundrobin(
            s.objects(1, [_HEADSLIKE]),
            s.objects(3, [_text(34000), _BIGMAP]),
            s.objects(5, [b'1101', {b'default': [_NODE]}]),
        )
    return make


def _calls3():
    return [
        CALL(b'heads'),
        CALL(b'changesetdata', {b'fields': {b'parents', b'revision'}}),
        CALL(b'known', {b'nodes': [_NODE]}),
        FLUSH(),
        CONSUME(),
    ]


def _encoded_stream(encoders, objs):
    def make():
        s = Server(encoders)
        return sequential(s.objects(1, objs))
    return make


def _zstd_bigwindow_frames():
    """A zstd stream whose frame header declares a 16 MiB window (window_log
    24): more than the 8 MiB zstd-8mb allows. Mercurial's own encoder
    (level 3) declares 2 MiB, so only a foreign server sends this."""
    params = zstd.ZstdCompressionParameters.from_level(3, window_log=24)
    co = zstd.ZstdCompressor(compression_params=params).compressobj()
    data = co.compress(cbor({b'status': b'ok'}) + cbor(b'x' * 100))
    data += co.flush(zstd.COMPRESSOBJ_FLUSH_BLOCK)
    return [
        ffs(b'1 2 stream-begin stream-settings eos cbor:b"zstd-8mb"'),
        framing.makeframe(1, 2, framing.STREAM_FLAG_ENCODING_APPLIED,
                          framing.FRAME_TYPE_COMMAND_RESPONSE,
                          framing.FLAG_COMMAND_RESPONSE_CONTINUATION, data),
    ]


_SETTINGS_ZSTD = cbor(b'zstd-8mb')
_STATUS_OK = cbor({b'status': b'ok'})
_ALT = wireprototypes.alternatelocationresponse(
    url=b'http://127.0.0.1:1/content/abc',
    mediatype=b'application/mercurial-cbor',
    size=1234,
    fullhashes=[[b'sha256', bytes(range(32))]],
    fullhashseed=b'seed',
)


def _extra_cases():
    return [
        # --- request side ---------------------------------------------------
        CASE('extra_buffered_three_commands', steps=[
            CALL(b'heads'),
            CALL(b'known', {b'nodes': [_NODE, bytes(20)]}),
            CALL(b'listkeys', {b'namespace': b'bookmarks'}),
            FLUSH(),
            CONSUME(),
            FLUSH(),
            CALL(b'heads'),
        ]),
        CASE('extra_flush_nothing_pending', steps=[
            FLUSH(),
            CALL(b'heads'),
            FLUSH(),
            CONSUME(),
            FLUSH(),  # single send used, but nothing pending: noop, no raise
        ]),
        CASE('extra_nobuffer_singlesend', hasmultiplesend=False,
             buffersends=False, steps=[
                 CALL(b'heads'),
                 CALL(b'heads'),
                 CONSUME(0),
                 FLUSH(),
             ]),
        CASE('extra_buffered_multisend_encoders', hasmultiplesend=True,
             clientcontentencoders=[b'zstd-8mb', b'zlib', b'identity'],
             steps=[
                 CALL(b'heads'),
                 FLUSH(),
                 CONSUME(),
                 CALL(b'branchmap'),
                 CALL(b'lookup', {b'key': b'tip'}),
                 FLUSH(),
                 CONSUME(),
             ]),
        CASE('extra_contentencoders_empty_list', clientcontentencoders=[],
             steps=[
                 CALL(b'heads'),
                 FLUSH(),
                 CONSUME(),
             ]),
        CASE('extra_contentencoders_identity', buffersends=False,
             clientcontentencoders=[b'identity'], steps=[
                 CALL(b'heads'),
                 CONSUME(),
             ]),
        CASE('extra_command_with_data', buffersends=False,
             hasmultiplesend=True, steps=[
                 CALL(b'pushkey', {b'namespace': b'bookmarks'},
                      data=b'some data'),
                 CONSUME(),
                 CALL(b'unbundle', data=_noise(32768 + 10)),
                 CONSUME(),
             ]),
        CASE('extra_large_args_redirect_data', buffersends=False,
             clientcontentencoders=[b'zlib'], steps=[
                 CALL(b'known', {b'nodes': [_noise(20, b'%d' % i)
                                            for i in range(1600)]},
                      redirect={b'targets': [b'cdn'], b'hashes': [b'sha1']},
                      data=b'payload'),
                 CONSUME(),
             ]),
        CASE('extra_frames_before_consume', steps=[
            CALL(b'heads'),
            F(b'1 2 stream-begin command-response eos cbor:{b"status": b"ok"}'),
            FLUSH(),
            F(b'1 2 stream-begin command-response eos cbor:{b"status": b"ok"}'),
            CONSUME(),
            F(b'1 2 stream-begin command-response eos cbor:{b"status": b"ok"}'),
        ]),
        # --- interleaved responses -----------------------------------------
        # Requests 1, 3, 5 (heads / changesetdata / known) answered by a real
        # serverreactor; its frames for the three requests are interleaved
        # round robin on stream 2.
        CASE('extra_interleaved_identity', steps=_calls3() + [
            SERVER(_interleaved(None),
                   'server: serverreactor, no client encoders (identity), '
                   'responses to 1, 3, 5 round robin'),
        ]),
        CASE('extra_interleaved_zlib', clientcontentencoders=[b'zlib'],
             steps=_calls3() + [
                 SERVER(_interleaved([b'zlib']),
                        'server: serverreactor, client encoders [zlib], '
                        'responses to 1, 3, 5 round robin'),
             ]),
        CASE('extra_interleaved_zstd8mb',
             clientcontentencoders=[b'zstd-8mb', b'zlib', b'identity'],
             steps=_calls3() + [
                 SERVER(_interleaved([b'zstd-8mb', b'zlib', b'identity']),
                        'server: serverreactor, client encoders [zstd-8mb, '
                        'zlib, identity], responses to 1, 3, 5 round robin'),
             ]),
        # The server prefers its own order: a client listing zlib first still
        # gets zstd-8mb.
        CASE('extra_server_order_wins', buffersends=False,
             clientcontentencoders=[b'zlib', b'zstd-8mb'], steps=[
                 CALL(b'heads'),
                 CONSUME(),
                 SERVER(_encoded_stream([b'zlib', b'zstd-8mb'],
                                        [_HEADSLIKE]),
                        'server: serverreactor, client encoders '
                        '[zlib, zstd-8mb]'),
             ]),
        # --- CBOR values split across frames --------------------------------
        CASE('extra_cbor_split_every_byte', buffersends=False, steps=[
            CALL(b'heads'),
            CONSUME(),
            F(b'1 2 stream-begin stream-settings eos cbor:b"identity"'),
        ] + [
            F(b'1 2 encoded command-response continuation %s' % c)
            for c in _bytes_split(_STATUS_OK + cbor(
                {b'a': [1, -2, None, True], b'b': {b'\x00', b'x'}}))
        ] + [
            F(b'1 2 0 command-response eos '),
        ]),
        CASE('extra_cbor_split_server_identity', buffersends=False, steps=[
            CALL(b'manifestdata'),
            CONSUME(),
            SERVER(_encoded_stream(None, [_BIGMAP, _noise(33000)]),
                   'server: serverreactor (identity), a 34 KB map and a '
                   '33000-byte value'),
        ]),
        CASE('extra_cbor_split_server_zstd', buffersends=False,
             clientcontentencoders=[b'zstd-8mb'], steps=[
                 CALL(b'manifestdata'),
                 CONSUME(),
                 SERVER(_encoded_stream([b'zstd-8mb'],
                                        [_BIGMAP, _noise(33000)]),
                        'server: serverreactor (zstd-8mb), a 34 KB map and a '
                        '33000-byte value'),
             ]),
        CASE('extra_several_values_one_frame', buffersends=False, steps=[
            CALL(b'heads'),
            CONSUME(),
            MF(1, 2, framing.STREAM_FLAG_BEGIN_STREAM,
               framing.FRAME_TYPE_COMMAND_RESPONSE,
               framing.FLAG_COMMAND_RESPONSE_EOS,
               _STATUS_OK + cbor(1) + cbor([b'a']) + cbor({b'k': b'v'})),
        ]),
        # --- indefinite-length byte strings (rawstorefiledata sends these) --
        CASE('extra_indefinite_bytestring_identity', buffersends=False,
             steps=[
                 CALL(b'rawstorefiledata'),
                 CONSUME(),
                 SERVER(_encoded_stream(None, [
                     {b'filecount': 1, b'totalsize': 33005},
                     {b'location': b'store', b'path': b'00changelog.i',
                      b'size': 33005},
                     wireprototypes.indefinitebytestringresponse(
                         [b'', b'abc', _noise(33000), b'de']),
                 ]), 'server: serverreactor (identity), '
                     'indefinitebytestringresponse([b"", b"abc", <33000>, '
                     'b"de"])'),
             ]),
        CASE('extra_indefinite_bytestring_zlib', buffersends=False,
             clientcontentencoders=[b'zlib'], steps=[
                 CALL(b'rawstorefiledata'),
                 CONSUME(),
                 SERVER(_encoded_stream([b'zlib'], [
                     {b'filecount': 1, b'totalsize': 5},
                     wireprototypes.indefinitebytestringresponse(
                         [b'ab', b'cde']),
                 ]), 'server: serverreactor (zlib), '
                     'indefinitebytestringresponse([b"ab", b"cde"])'),
             ]),
        CASE('extra_indefinite_bytestring_by_hand', buffersends=False, steps=[
            CALL(b'rawstorefiledata'),
            CONSUME(),
            F(b'1 2 stream-begin command-response continuation '
              b'\xa1FstatusBok\x5f'),
            F(b'1 2 0 command-response continuation Cabc'),
            F(b'1 2 0 command-response continuation @'),
            F(b'1 2 0 command-response continuation Bd'),
            F(b'1 2 0 command-response eos e\xff'),
        ]),
        # --- errors ---------------------------------------------------------
        CASE('extra_error_response_midstream', buffersends=False, steps=[
            CALL(b'filesdata'),
            CONSUME(),
            SERVER(lambda: sequential(Server().objects(1, _failing(
                [{b'totalitems': 1}, _noise(33000)],
                Exception('boom in the middle')))),
                'server: serverreactor (identity), the response generator '
                'raises after two objects'),
            F(b'1 2 0 command-response eos '),
        ]),
        CASE('extra_error_response_zlib_midstream', buffersends=False,
             clientcontentencoders=[b'zlib'], steps=[
                 CALL(b'filesdata'),
                 CONSUME(),
                 SERVER(lambda: sequential(Server([b'zlib']).objects(
                     1, _failing([{b'totalitems': 1}],
                                 ValueError('bad value')))),
                     'server: serverreactor (zlib), the response generator '
                     'raises after one object'),
             ]),
        CASE('extra_server_error_first', buffersends=False, steps=[
            CALL(b'heads'),
            CONSUME(),
            SERVER(lambda: sequential(Server().servererror(
                1, b'exception when invoking command: kaboom')),
                'server: serverreactor.onservererror'),
        ]),
        CASE('extra_command_error', buffersends=False, steps=[
            CALL(b'rawstorefiledata', {b'files': [b'bad']}),
            CONSUME(),
            SERVER(lambda: sequential(Server().commanderror(
                1, b'unknown file type: %s', [b'bad'])),
                'server: serverreactor.oncommanderror with args'),
        ]),
        CASE('extra_command_error_raised', buffersends=False,
             clientcontentencoders=[b'zstd-8mb'], steps=[
                 CALL(b'rawstorefiledata'),
                 CONSUME(),
                 SERVER(lambda: sequential(Server([b'zstd-8mb']).objects(
                     1, _failing([], error.WireprotoCommandError(
                         b'stream clone is disabled')))),
                     'server: serverreactor (zstd-8mb), generator raises '
                     'WireprotoCommandError first'),
             ]),
        CASE('extra_error_response_rich', buffersends=False, steps=[
            CALL(b'heads'),
            CONSUME(),
            F(b"1 2 stream-begin error-response 0 cbor:{b'type': b'server', "
              b"b'message': [{b'msg': b'a %s b', b'args': [b'x'], "
              b"b'labels': [b'l']}, {b'msg': b'second'}]}"),
            F(b'1 2 0 command-response eos '),
        ]),
        CASE('extra_error_response_bad_payloads', buffersends=False,
             hasmultiplesend=True, steps=[
                 CALL(b'heads'),
                 CONSUME(),
                 CALL(b'heads'),
                 CONSUME(),
                 CALL(b'heads'),
                 CONSUME(),
                 CALL(b'heads'),
                 CONSUME(),
                 CALL(b'heads'),
                 CONSUME(),
                 F(b'1 2 stream-begin error-response 0 '),
                 F(b'3 2 0 error-response 0 notcbor'),
                 F(b"5 2 0 error-response 0 cbor:{b'message': b'no type'}"),
                 F(b'7 2 0 error-response 0 %s'
                   % (cbor({b'type': b't', b'message': b'm'}) + b'\x00')),
                 F(b'9 2 0 error-response 0 %s'
                   % (cbor({b'type': b't', b'message': b'm'}) + b'\xff')),
                 F(b'1 2 0 command-response eos '),
             ]),
        CASE('extra_error_response_inactive', steps=[
            F(b"9 2 stream-begin error-response 0 cbor:{b'type': b'server', "
              b"b'message': [{b'msg': b'x'}]}"),
        ]),
        # --- other frame types ----------------------------------------------
        CASE('extra_text_output', buffersends=False, steps=[
            CALL(b'heads'),
            CONSUME(),
            F(b"1 2 stream-begin text-output 0 cbor:[{b'msg': b'hello %s', "
              b"b'args': [b'world'], b'labels': [b'ui.note']}]"),
            F(b'1 2 0 command-response eos cbor:{b"status": b"ok"}'),
        ]),
        CASE('extra_progress', buffersends=False, steps=[
            CALL(b'heads'),
            CONSUME(),
            F(b"1 2 stream-begin progress 0 cbor:{b'topic': b'files', "
              b"b'pos': 1, b'total': 3}"),
            F(b'1 2 0 command-response eos cbor:{b"status": b"ok"}'),
        ]),
        CASE('extra_text_output_inactive_request', steps=[
            F(b"5 2 stream-begin text-output 0 cbor:[{b'msg': b'x'}]"),
            F(b'5 2 0 progress 0 '),
        ]),
        CASE('extra_unhandled_types', buffersends=False, steps=[
            CALL(b'heads'),
            CONSUME(),
            F(b"1 2 stream-begin command-request new cbor:{b'name': b'x'}"),
            F(b'1 2 0 command-data eos x'),
            F(b'1 2 0 sender-protocol-settings eos '),
            MF(1, 2, 0, 4, 0, b'type 4 (unused)'),
            MF(1, 2, 0, 15, 15, b''),
            F(b'1 2 0 command-response eos '),
        ]),
        # --- streams and stream settings -----------------------------------
        CASE('extra_inactive_request_ids', buffersends=False, steps=[
            F(b'1 2 stream-begin command-response eos '),
            CALL(b'heads'),
            CONSUME(),
            F(b'3 2 0 command-response eos '),
            F(b'0 2 0 command-response eos '),
            F(b'65535 2 0 command-response eos '),
            F(b'1 2 0 command-response continuation|eos '),
            F(b'1 2 0 command-response eos '),
        ]),
        CASE('extra_even_stream_ids', buffersends=False, hasmultiplesend=True,
             steps=[
                 CALL(b'heads'),
                 CONSUME(),
                 CALL(b'heads'),
                 CONSUME(),
                 F(b'1 0 stream-begin stream-settings eos cbor:b"zlib"'),
                 F(b'3 254 stream-begin command-response continuation '
                   b'cbor:{b"status": b"ok"}'),
                 F(b'1 0 encoded command-response eos %s'
                   % zlib.compress(_STATUS_OK)),
                 F(b'3 254 0 command-response eos cbor:b"done"'),
                 F(b'3 255 stream-begin command-response eos '),
                 F(b'3 4 0 command-response eos '),
             ]),
        CASE('extra_stream_end_and_restart', buffersends=False,
             hasmultiplesend=True, steps=[
                 CALL(b'heads'),
                 CONSUME(),
                 CALL(b'heads'),
                 CONSUME(),
                 F(b'1 2 stream-begin stream-settings eos cbor:b"zlib"'),
                 F(b'1 2 encoded|stream-end command-response eos %s'
                   % zlib.compress(_STATUS_OK)),
                 F(b'3 2 0 command-response eos '),
                 F(b'3 2 stream-begin|encoded command-response eos '
                   b'cbor:{b"status": b"ok"}'),
             ]),
        CASE('extra_encoded_without_settings', buffersends=False, steps=[
            CALL(b'heads'),
            CONSUME(),
            F(b'1 2 stream-begin|encoded command-response eos '
              b'cbor:{b"status": b"ok"}'),
        ]),
        CASE('extra_settings_three_frames', buffersends=False, steps=[
            CALL(b'heads'),
            CONSUME(),
            F(b'0 2 stream-begin stream-settings continuation %s'
              % _SETTINGS_ZSTD[0:1]),
            F(b'0 2 0 stream-settings continuation '),
            F(b'0 2 0 stream-settings continuation %s' % _SETTINGS_ZSTD[1:4]),
            F(b'0 2 0 stream-settings eos %s' % _SETTINGS_ZSTD[4:]),
            SERVER(lambda: sequential(Server([b'zstd-8mb']).objects(
                1, [_HEADSLIKE]))[1:],
                'server: serverreactor (zstd-8mb), heads-like answer, its '
                'stream-settings frame left out'),
        ]),
        CASE('extra_settings_interleaved_streams', buffersends=False,
             steps=[
                 CALL(b'heads'),
                 CONSUME(),
                 F(b'1 2 stream-begin stream-settings continuation %s'
                   % _SETTINGS_ZSTD[0:4]),
                 F(b'1 4 stream-begin stream-settings continuation '
                   b'\x44zl'),
                 F(b'1 2 0 stream-settings eos %s' % _SETTINGS_ZSTD[4:]),
                 F(b'1 4 0 stream-settings eos ib'),
             ]),
        CASE('extra_settings_bad_payloads', buffersends=False, steps=[
            CALL(b'heads'),
            CONSUME(),
            F(b'1 2 stream-begin stream-settings eos cbor:5'),
            F(b"1 2 0 stream-settings eos cbor:[b'zlib']"),
            F(b"1 2 0 stream-settings eos cbor:{b'zlib': 1}"),
            F(b'1 2 0 stream-settings eos cbor:None'),
            F(b'1 2 0 stream-settings eos \x64zlib'),
            F(b'1 2 0 stream-settings eos \x44zl'),
            F(b'1 2 0 stream-settings continuation \x44zl'),
            F(b'1 2 0 stream-settings eos \xff'),
            F(b'1 2 0 stream-settings eos cbor:b"identity"'),
        ]),
        CASE('extra_settings_empty_and_unknown', buffersends=False, steps=[
            CALL(b'heads'),
            CONSUME(),
            F(b'1 2 stream-begin stream-settings continuation '),
            F(b'1 2 0 stream-settings eos '),
            F(b'1 2 0 stream-settings eos cbor:b""'),
            F(b'1 2 0 stream-settings eos cbor:b"zstd"'),
            F(b'1 2 0 stream-settings eos cbor:b"ZLIB"'),
            F(b'1 2 0 stream-settings eos cbor:b"zstd-8mb "'),
            F(b'1 2 0 stream-settings eos cbor:b"identity"'),
        ]),
        CASE('extra_settings_extra_values', buffersends=False, steps=[
            CALL(b'heads'),
            CONSUME(),
            F(b'1 2 stream-begin stream-settings eos %s'
              % (cbor(b'zlib') + cbor(b'x'))),
            F(b'1 2 0 stream-settings eos %s'
              % (cbor(b'zstd-8mb') + cbor({b'level': 3}))),
            F(b'1 2 0 stream-settings eos %s'
              % (cbor(b'identity') + cbor(None))),
        ]),
        CASE('extra_settings_with_stream_end', buffersends=False, steps=[
            CALL(b'heads'),
            CONSUME(),
            F(b'1 2 stream-begin|stream-end stream-settings eos '
              b'cbor:b"zlib"'),
            F(b'1 2 stream-begin stream-settings continuation \x44zl'),
            F(b'1 2 stream-end stream-settings eos ib'),
            F(b'1 2 stream-begin stream-settings eos \x44zl'),
        ]),
        CASE('extra_settings_switch_decoder', buffersends=False, steps=[
            CALL(b'heads'),
            CONSUME(),
            F(b'1 2 stream-begin stream-settings eos cbor:b"identity"'),
            F(b'1 2 encoded command-response continuation '
              b'cbor:{b"status": b"ok"}'),
            F(b'1 2 0 stream-settings eos cbor:b"zlib"'),
            F(b'1 2 encoded command-response eos %s'
              % zlib.compress(cbor(b'after switch'))),
        ]),
        CASE('extra_settings_encoded_flag', buffersends=False, steps=[
            CALL(b'heads'),
            CONSUME(),
            F(b'1 2 stream-begin stream-settings eos cbor:b"zlib"'),
            F(b'1 2 encoded stream-settings eos %s'
              % zlib.compress(cbor(b'identity'))),
        ]),
        # --- decoders ------------------------------------------------------
        CASE('extra_zlib_server_large', buffersends=False,
             clientcontentencoders=[b'zlib'], steps=[
                 CALL(b'filesdata'),
                 CONSUME(),
                 SERVER(_encoded_stream([b'zlib'], [
                     {b'totalitems': 2},
                     _noise(33000),
                     _text(60000),
                 ]), 'server: serverreactor (zlib), 33000 random bytes and '
                     '60000 bytes of text'),
             ]),
        CASE('extra_zstd_server_large', buffersends=False,
             clientcontentencoders=[b'zstd-8mb'], steps=[
                 CALL(b'filesdata'),
                 CONSUME(),
                 SERVER(_encoded_stream([b'zstd-8mb'], [
                     {b'totalitems': 2},
                     _noise(33000),
                     _text(60000),
                 ]), 'server: serverreactor (zstd-8mb), 33000 random bytes '
                     'and 60000 bytes of text'),
             ]),
        CASE('extra_zlib_corrupt', buffersends=False, steps=[
            CALL(b'heads'),
            CONSUME(),
            F(b'1 2 stream-begin stream-settings eos cbor:b"zlib"'),
            F(b'1 2 encoded command-response continuation garbage'),
            F(b'1 2 0 command-response eos '),
        ]),
        CASE('extra_zlib_after_finish', buffersends=False, steps=[
            CALL(b'heads'),
            CONSUME(),
            F(b'1 2 stream-begin stream-settings eos cbor:b"zlib"'),
            F(b'1 2 encoded command-response continuation %s'
              % zlib.compress(_STATUS_OK)),
            F(b'1 2 encoded command-response eos %s'
              % zlib.compress(cbor(b'lost'))),
        ]),
        CASE('extra_zstd_after_frame_end', buffersends=False, steps=[
            CALL(b'heads'),
            CONSUME(),
            F(b'1 2 stream-begin stream-settings eos cbor:b"zstd-8mb"'),
            F(b'1 2 encoded command-response continuation %s'
              % _zstd_plain_status()),
            F(b'1 2 encoded command-response eos %s'
              % zstd.ZstdCompressor().compress(cbor(b'more'))),
            F(b'1 2 0 command-response eos '),
        ]),
        CASE('extra_zstd_corrupt', buffersends=False, steps=[
            CALL(b'heads'),
            CONSUME(),
            F(b'1 2 stream-begin stream-settings eos cbor:b"zstd-8mb"'),
            F(b'1 2 encoded command-response continuation garbage'),
        ]),
        CASE('extra_zstd_window_too_large', buffersends=False, steps=[
            CALL(b'heads'),
            CONSUME(),
            SERVER(_zstd_bigwindow_frames,
                   'zstd compressobj with window_log=24 (not Mercurial\'s '
                   'encoder)'),
        ]),
        CASE('extra_empty_encoded_frames', buffersends=False,
             clientcontentencoders=[b'zlib'], steps=[
                 CALL(b'heads'),
                 CONSUME(),
                 F(b'1 2 stream-begin stream-settings eos cbor:b"zlib"'),
                 F(b'1 2 encoded command-response continuation '),
                 F(b'1 2 encoded command-response eos '),
             ]),
        # --- redirects ------------------------------------------------------
        CASE('extra_redirect_response', buffersends=False, steps=[
            CALL(b'filesdata', redirect={b'targets': [b'target-a'],
                                         b'hashes': [b'sha256', b'sha1']}),
            CONSUME(),
            SERVER(lambda: sequential(Server().objects(1, [_ALT])),
                   'server: serverreactor (identity), '
                   'alternatelocationresponse'),
        ]),
        CASE('extra_redirect_response_zstd', buffersends=False,
             clientcontentencoders=[b'zstd-8mb', b'zlib', b'identity'],
             steps=[
                 CALL(b'filesdata', redirect={b'targets': [b'target-a'],
                                              b'hashes': [b'sha256']}),
                 CONSUME(),
                 SERVER(lambda: sequential(Server(
                     [b'zstd-8mb', b'zlib', b'identity']).objects(1, [_ALT])),
                     'server: serverreactor (zstd-8mb), '
                     'alternatelocationresponse'),
             ]),
    ]


CASES = None  # built lazily by build() (some steps call Mercurial)


# ---------------------------------------------------------------------------
# Rendering helpers (same rules as gen-hg-serverreactor.py and
# tests/support/hgresponse2json.py)
# ---------------------------------------------------------------------------

_STREAMFLAGNAMES = sorted(framing.STREAM_FLAGS.items(), key=lambda kv: kv[1])
_TYPENAMES = {v: k for k, v in framing.FRAME_TYPES.items()}
HUMAN_MAX_PAYLOAD = 1024  # bigger frames get "human": null


def _flagsstr(value, names):
    parts = []
    for name, bit in sorted(names, key=lambda kv: kv[1]):
        if value & bit:
            parts.append(name)
            value &= ~bit
    if value or not parts:
        parts.append(b'%d' % value)
    return b'|'.join(parts)


def pylit(v):
    """A Python literal for a decoded CBOR value; unlike repr(), sets are
    written in a fixed order (by their CBOR encoding), so the output does
    not depend on hash randomization."""
    if isinstance(v, (set, frozenset)):
        if not v:
            return 'set()'
        return '{%s}' % ', '.join(pylit(x) for x in sorted(v, key=cbor))
    if isinstance(v, list):
        return '[%s]' % ', '.join(pylit(x) for x in v)
    if isinstance(v, dict):
        return '{%s}' % ', '.join(
            '%s: %s' % (pylit(k), pylit(x)) for k, x in v.items())
    return repr(v)


def _payloadstr(payload):
    try:
        values = cborutil.decodeall(payload)
        if len(values) == 1:
            lit = pylit(values[0]).encode('ascii')
            if cbor(stringutil.evalpythonliteral(lit)) == payload:
                return b'cbor:' + lit
    except Exception:
        pass
    return stringutil.escapestr(payload)


def _isplain(s):
    return all(0x20 <= c < 0x7F for c in s)


def humanframe(framebytes, original=None):
    framebytes = bytes(framebytes)
    if original is not None and _isplain(original):
        assert bytes(ffs(original)) == framebytes
        return original.decode('ascii')
    h = framing.parseheader(framebytes)
    payload = framebytes[framing.FRAME_HEADER_SIZE:]
    if h.typeid not in framing.FRAME_TYPE_FLAGS:
        return None
    if len(payload) > HUMAN_MAX_PAYLOAD:
        return None
    typeflags = framing.FRAME_TYPE_FLAGS[h.typeid].items()
    human = b'%d %d %s %s %s %s' % (
        h.requestid,
        h.streamid,
        _flagsstr(h.streamflags, _STREAMFLAGNAMES),
        _TYPENAMES[h.typeid],
        _flagsstr(h.flags, typeflags),
        _payloadstr(payload),
    )
    assert _isplain(human), human
    assert bytes(ffs(human)) == framebytes, human
    return human.decode('ascii')


def fmtexc(e):
    t = type(e)
    name = t.__name__
    if t.__module__ != 'builtins' and not t.__module__.startswith('mercurial'):
        name = '%s.%s' % (t.__module__, name)
    if len(e.args) == 1 and isinstance(e.args[0], bytes):
        msg = e.args[0].decode('utf-8', 'backslashreplace')
    else:
        msg = stringutil.forcebytestr(e).decode('utf-8', 'backslashreplace')
    return '%s: %s' % (name, msg)


def conv(v):
    """hgresponse2json.py's conv(), plus bytestringchunk."""
    if isinstance(v, cborutil.bytestringchunk):
        return {'chunk': conv(bytes(v)), 'first': v.isfirst, 'last': v.islast}
    if isinstance(v, bool) or v is None or isinstance(v, int):
        return v
    if isinstance(v, (bytes, bytearray)):
        v = bytes(v)
        try:
            s = v.decode('utf-8')
        except UnicodeDecodeError:
            return v.hex() if len(v) == 20 else {'hex': v.hex()}
        if len(v) == 20 and any(c < ' ' or '\x7f' <= c <= '\x9f' for c in s):
            return v.hex()
        return s
    if isinstance(v, (list, tuple)):
        return [conv(x) for x in v]
    if isinstance(v, (set, frozenset)):
        return {'set': sorted((conv(x) for x in v), key=json.dumps)}
    if isinstance(v, dict):
        items = [(conv(k), conv(x)) for k, x in v.items()]
        if all(isinstance(k, str) for k, _ in items):
            return dict(items)
        return {'map': [[k, x] for k, x in items]}
    raise TypeError(repr(v))


def tohex(b):
    return bytes(b).hex()


# ---------------------------------------------------------------------------
# Running a case against the real reactor
# ---------------------------------------------------------------------------


def runcase(case):
    r = case['reactor']
    reactor = framing.clientreactor(
        globalui,
        hasmultiplesend=r['hasmultiplesend'],
        buffersends=r['buffersends'],
        clientcontentencoders=r['clientcontentencoders'],
    )
    requests = {}  # request id -> commandrequest
    gens = {}  # event index -> framegen
    state = {'lastgen': None}
    decoders = {}  # request id -> bufferingdecoder (None once it raised)
    events, results = [], []

    def states():
        return [[rid, pycompat.sysstr(requests[rid].state)]
                for rid in sorted(requests)]

    def rendermeta(meta):
        out = {}
        for k in sorted(meta):
            key = pycompat.sysstr(k)
            v = meta[k]
            if k == b'framegen':
                continue
            elif k == b'request':
                out['request'] = v.requestid
            elif k == b'data':
                out['data_hex'] = tohex(v)
            else:
                out[key] = conv(v)
        return out

    def record(action, meta, extra=None):
        out = dict(extra or {})
        out['action'] = pycompat.sysstr(action)
        out['meta'] = rendermeta(meta)
        idx = len(results)
        if b'framegen' in meta:
            gens[idx] = meta[b'framegen']
            state['lastgen'] = idx
        if action == b'responsedata':
            rid = meta[b'request'].requestid
            if rid not in decoders:
                decoders[rid] = cborutil.bufferingdecoder()
            dec = decoders[rid]
            if dec is None:
                out['objects'] = None
            else:
                try:
                    dec.decode(meta[b'data'])
                    out['objects'] = [conv(o) for o in dec.getavailable()]
                except Exception as e:
                    out['objects_raises'] = fmtexc(e)
                    decoders[rid] = None
        out['requests'] = states()
        results.append(out)

    def raised(e):
        results.append({'raises': fmtexc(e), 'requests': states()})

    def feed(fb, origin, human=None):
        fb = bytes(fb)
        events.append({
            'event': 'frame',
            'hex': tohex(fb),
            'human': humanframe(fb, human),
            'origin': origin,
        })
        h = framing.parseheader(fb)
        payload = fb[framing.FRAME_HEADER_SIZE:]
        assert len(payload) == h.length
        fr = framing.frame(h.requestid, h.streamid, h.streamflags, h.typeid,
                           h.flags, payload)
        try:
            action, meta = reactor.onframerecv(fr)
        except Exception as e:
            raised(e)
            return
        record(action, meta)

    for step in case['steps']:
        op = step['op']
        if op == 'callcommand':
            args, redirect, data = step['args'], step['redirect'], step['data']
            argsenc = cbor(args)
            assert cborutil.decodeall(argsenc) == [args]
            redirenc = None
            if redirect is not None:
                redirenc = cbor(redirect)
                assert cborutil.decodeall(redirenc) == [redirect]
            events.append({
                'event': 'callcommand',
                'name': pycompat.sysstr(step['name']),
                'args_cbor_hex': tohex(argsenc),
                'redirect_cbor_hex': tohex(redirenc) if redirenc else None,
                'data_hex': tohex(data) if data is not None else None,
            })
            datafh = util.bytesio(data) if data is not None else None
            try:
                request, action, meta = reactor.callcommand(
                    step['name'], args, datafh=datafh, redirect=redirect)
            except Exception as e:
                raised(e)
                continue
            requests[request.requestid] = request
            record(action, meta, {'requestid': request.requestid})
        elif op == 'flushcommands':
            events.append({'event': 'flushcommands'})
            try:
                action, meta = reactor.flushcommands()
            except Exception as e:
                raised(e)
                continue
            record(action, meta)
        elif op == 'consume':
            of = step['of'] if step['of'] is not None else state['lastgen']
            assert of in gens, (case['name'], of)
            events.append({'event': 'consume', 'of': of})
            frames = []
            out = {'frames': frames}
            try:
                for fb in gens.pop(of):
                    frames.append({
                        'hex': tohex(fb),
                        'human': humanframe(fb),
                        'requests': states(),
                    })
            except Exception as e:
                out['raises'] = fmtexc(e)
            out['requests'] = states()
            results.append(out)
        elif op == 'ffs':
            feed(ffs(step['human']), 'ffs', step['human'])
        elif op == 'raw':
            for fb in step['frames']():
                feed(fb, step['origin'])
        else:
            raise AssertionError('unknown step %r' % op)
        assert len(events) == len(results)

    return events, results


def build():
    if util.version().split(b'+')[0] != b'6.0':
        sys.exit('need Mercurial 6.0, got %s' % pycompat.sysstr(util.version()))
    global CASES
    # The tests construct a reactor (which populates the encoder table)
    # before they build encoded frames; do the same up front.
    framing.populatestreamencoders()
    CASES = _upstream_cases() + _extra_cases()
    names = [c['name'] for c in CASES]
    assert len(names) == len(set(names)), 'duplicate case names'
    assert sum(1 for c in CASES if c['test']) == 21
    cases = []
    for case in CASES:
        events, results = runcase(case)
        r = case['reactor']
        cases.append({
            'name': case['name'],
            'test': case['test'],
            'reactor': {
                'hasmultiplesend': r['hasmultiplesend'],
                'buffersends': r['buffersends'],
                'clientcontentencoders': (
                    None if r['clientcontentencoders'] is None
                    else [pycompat.sysstr(x)
                          for x in r['clientcontentencoders']]),
            },
            'events': events,
            'results': results,
        })
    doc = {
        'generator': GENERATOR,
        'mercurial': '6.0',
        'cases': cases,
    }
    return (json.dumps(doc, indent=2, ensure_ascii=True) + '\n').encode('ascii')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('-o', '--output', default=DEFAULT_OUTPUT)
    ap.add_argument('--check', action='store_true',
                    help='do not write; exit 1 if the file is not up to date')
    opts = ap.parse_args()
    data = build()
    if opts.check:
        try:
            with open(opts.output, 'rb') as fh:
                current = fh.read()
        except FileNotFoundError:
            current = None
        if current != data:
            sys.stderr.write('%s is out of date\n' % opts.output)
            return 1
        return 0
    os.makedirs(os.path.dirname(os.path.abspath(opts.output)), exist_ok=True)
    with open(opts.output, 'wb') as fh:
        fh.write(data)
    sys.stderr.write('wrote %d cases to %s\n' % (len(CASES), opts.output))
    return 0


if __name__ == '__main__':
    sys.exit(main())
