# -*- coding: utf-8 -*-
"""Golden data for the revision-0005 server reactor, computed by Mercurial
4.7.2 itself (Python 2.7; 4.6.2 has the identical wireprotoframing.py).

Every test method of 4.7.2's tests/test-wireproto-serverreactor.py (25) is
restated below as DATA, in file order and under its own name, followed by
extra cases (prefix ``extra_``) for reactor paths the tests don't reach.
Nothing expected is written by hand: each case's event sequence is fed to the
real ``wireprotoframing.serverreactor`` of 4.7.2 and whatever it returns is
recorded in tests/data/hg47/serverreactor.json.

Run it with the Python of the 4.7.2 install (scripts/hg-install.sh):

    "$(dirname "$(scripts/hg-install.sh 4.7.2)")/python" scripts/gen-hg47-serverreactor.py
    ... --check       exit 1 if the file is not up to date
    ... -o OUT.json   write elsewhere

The schema is that of scripts/gen-hg-serverreactor.py (6.0), adapted to the
0005 reactor API:

    {"generator": ..., "mercurial": "4.7.2", "cases": [
      {"name": ..., "deferoutput": bool, "events": [...], "results": [...]}]}

Events (what is fed to the reactor, in order):

    {"event": "frame", "hex", "human", ["origin"]}
        onframerecv(); "human" is a string that 4.7.2's
        makeframefromhumanstring turns into exactly "hex" (checked here), or
        null (large payload); "origin" names the createcommandframes() call
        (4.7.2 signature: no redirect) that produced the frame
    {"event": "makeoutputstream"}
    {"event": "stream", "streamid"}
        a bare framing.stream(streamid) made by the caller (not by the
        reactor), e.g. to pass an odd stream id
    {"event": "response", "requestid", "streamid", "data_hex"}
        oncommandresponseready(stream, requestid, data): 0005 takes the
        response as BYTES (already CBOR-encoded by the server), not objects
    {"event": "responsegen", "requestid", "streamid", "chunks_hex"}
        oncommandresponsereadygen(stream, requestid, iter(chunks))
    {"event": "servererror", "requestid", "streamid", "message_hex"}
    {"event": "commanderror", "requestid", "streamid", "message_hex",
     "args_cbor_hex"}   (args encoded with the bundled cbor2, canonical=True;
                         null when args is None)
    {"event": "consume", "of": <index of the event whose framegen is drained>}
    {"event": "eof"}    oninputeof()

Results (one per event, same index):

    frame/response/responsegen/servererror/commanderror/eof:
        {"action": "...", "json": <what debugreflect would print>}
        "json" is Python 2 json.dumps((action, meta), sort_keys=True,
        separators=(', ', ': ')), exactly as 4.7.2's
        _processhttpv2reflectrequest renders a result, with meta's
        'framegen' removed (a generator); when json.dumps raises (the server
        would answer HTTP 500) "json_raises" replaces "json".
        sendframes results add "frames_hex": null: frames are produced
        lazily and recorded at the "consume" event instead.
    consume:          {"frames_hex": [...]}
    makeoutputstream / stream: {"streamid": N}
    any call that raises: {"raises": "<ExceptionType>: <message>"} and the
        case stops there (a consume that raises keeps the frames produced
        before it in "frames_hex").
"""

from __future__ import absolute_import, print_function

import argparse
import binascii
import collections
import hashlib
import json
import os
import sys

from mercurial.thirdparty import cbor
from mercurial import (
    util,
    wireprotoframing as framing,
)
from mercurial.utils import stringutil

GENERATOR = 'scripts/gen-hg47-serverreactor.py'
RELEASE = '4.7.2'
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUTPUT = os.path.join(os.path.dirname(HERE), 'tests', 'data', 'hg47',
                              'serverreactor.json')

ffs = framing.makeframefromhumanstring
OD = collections.OrderedDict


def cdump(o):
    return cbor.dumps(o, canonical=True)


# Same constant as the test file (cbor.dumps without canonical: one key).
OK = cbor.dumps({b'status': b'ok'})


# --- step constructors (same idea as gen-hg-serverreactor.py) --------------

def F(human):
    return {'op': 'ffs', 'human': human}


def CMD(stream, requestid, cmd, args, data=None):
    """sendcommandframes(reactor, stream, requestid, cmd, args, datafh); one
    framing.stream object per id within a case, as in the tests."""
    return {'op': 'command', 'stream': stream, 'requestid': requestid,
            'command': cmd, 'args': args, 'data': data}


def MOS():
    return {'op': 'makeoutputstream'}


def STREAM(streamid):
    return {'op': 'stream', 'streamid': streamid}


def RESP(requestid, data, stream=None, label=None):
    return {'op': 'response', 'requestid': requestid, 'data': data,
            'stream': stream, 'label': label}


def RESPGEN(requestid, chunks, stream=None, label=None):
    return {'op': 'responsegen', 'requestid': requestid, 'chunks': chunks,
            'stream': stream, 'label': label}


def SERR(requestid, msg, stream=None, label=None):
    return {'op': 'servererror', 'requestid': requestid, 'msg': msg,
            'stream': stream, 'label': label}


def CERR(requestid, msg, args=None, stream=None, label=None):
    return {'op': 'commanderror', 'requestid': requestid, 'msg': msg,
            'cargs': args, 'stream': stream, 'label': label}


def EOF(label=None):
    return {'op': 'eof', 'label': label}


def CONSUME(label=None):
    return {'op': 'consume', 'label': label}


def CASE(name, steps, deferoutput=False):
    return {'name': name, 'deferoutput': deferoutput, 'steps': steps}


# --- the 25 test methods of 4.7.2's tests/test-wireproto-serverreactor.py --

_CBOR1 = cdump({b'name': b'command1', b'args': {b'foo': b'bar', b'key1': b'val'}})
_CBOR3 = cdump({b'name': b'command3', b'args': {b'biz': b'baz', b'key': b'val'}})

UPSTREAM_CASES = [
    CASE('test1framecommand', [CMD(1, 1, b'mycommand', {}), EOF()]),
    CASE('test1argument', [CMD(1, 41, b'mycommand', {b'foo': b'bar'})]),
    CASE('testmultiarguments', [CMD(1, 1, b'mycommand', {b'foo': b'bar', b'biz': b'baz'})]),
    CASE('testsimplecommanddata', [CMD(1, 1, b'mycommand', {}, data=b'data!')]),
    CASE('testmultipledataframes', [
        F(b"1 1 stream-begin command-request new|have-data cbor:{b'name': b'mycommand'}"),
        F(b'1 1 0 command-data continuation data1'),
        F(b'1 1 0 command-data continuation data2'),
        F(b'1 1 0 command-data eos data3'),
    ]),
    CASE('testargumentanddata', [
        F(b'1 1 stream-begin command-request new|have-data '
          b"cbor:{b'name': b'command', b'args': {b'key': b'val',"
          b"b'foo': b'bar'}}"),
        F(b'1 1 0 command-data continuation value1'),
        F(b'1 1 0 command-data eos value2'),
    ]),
    CASE('testnewandcontinuation', [F(b'1 1 stream-begin command-request new|continuation ')]),
    CASE('testneithernewnorcontinuation', [F(b'1 1 stream-begin command-request 0 ')]),
    CASE('testunexpectedcommanddata', [F(b'1 1 stream-begin command-data 0 ignored')]),
    CASE('testunexpectedcommanddatareceiving', [
        F(b"1 1 stream-begin command-request new|more cbor:{b'name': b'ignored'}"),
        F(b'1 1 0 command-data eos ignored'),
    ]),
    CASE('testconflictingrequestidallowed', [
        MOS(),  # made before any frame, as in the test
        F(b"1 1 stream-begin command-request new cbor:{b'name': b'command'}"),
        RESP(1, b'response1'), CONSUME(),
        F(b"1 1 stream-begin command-request new cbor:{b'name': b'command'}"),
        RESP(1, b'response2'), CONSUME(),
        F(b"1 1 stream-begin command-request new cbor:{b'name': b'command'}"),
        RESP(1, b'response3'), CONSUME(),
    ]),
    CASE('testconflictingrequestid', [
        F(b"1 1 stream-begin command-request new|more cbor:{b'name': b'command'}"),
        F(b"1 1 0 command-request new cbor:{b'name': b'command1'}"),
    ]),
    CASE('testinterleavedcommands', [
        F(b'1 1 stream-begin command-request new|more %s' % _CBOR1[0:6]),
        F(b'3 1 0 command-request new|more %s' % _CBOR3[0:10]),
        F(b'1 1 0 command-request continuation|more %s' % _CBOR1[6:9]),
        F(b'3 1 0 command-request continuation|more %s' % _CBOR3[10:13]),
        F(b'3 1 0 command-request continuation %s' % _CBOR3[13:]),
        F(b'1 1 0 command-request continuation %s' % _CBOR1[9:]),
    ]),
    CASE('testmissingcommanddataframe', [
        F(b"1 1 stream-begin command-request new|have-data cbor:{b'name': b'command1'}"),
        F(b"3 1 0 command-request new cbor:{b'name': b'command2'}"),
    ]),
    CASE('testmissingcommanddataframeflags', [
        F(b"1 1 stream-begin command-request new|have-data cbor:{b'name': b'command1'}"),
        F(b'1 1 0 command-data 0 data'),
    ]),
    CASE('testframefornonreceivingrequest', [
        F(b"1 1 stream-begin command-request new cbor:{b'name': b'command1'}"),
        F(b"3 1 0 command-request new|have-data cbor:{b'name': b'command3'}"),
        F(b'5 1 0 command-data eos ignored'),
    ]),
    CASE('testsimpleresponse', [CMD(1, 1, b'mycommand', {}), MOS(), RESP(1, b'response'), CONSUME()]),
    CASE('testmultiframeresponse', [
        CMD(1, 1, b'mycommand', {}), MOS(),
        RESP(1, b'x' * framing.DEFAULT_MAX_FRAME_SIZE + b'y' * 100), CONSUME(),
    ]),
    CASE('testservererror', [CMD(1, 1, b'mycommand', {}), MOS(), SERR(1, b'some message'), CONSUME()]),
    CASE('test1commanddeferresponse', deferoutput=True, steps=[
        CMD(1, 1, b'mycommand', {}), MOS(), RESP(1, b'response'), EOF(), CONSUME(),
    ]),
    CASE('testmultiplecommanddeferresponse', deferoutput=True, steps=[
        CMD(1, 1, b'command1', {}), CMD(1, 3, b'command2', {}), MOS(),
        RESP(1, b'response1'), RESP(3, b'response2'), EOF(), CONSUME(),
    ]),
    CASE('testrequestidtracking', deferoutput=True, steps=[
        CMD(1, 1, b'command1', {}), CMD(1, 3, b'command2', {}), CMD(1, 5, b'command3', {}), MOS(),
        RESP(3, b'response3'), RESP(1, b'response1'), RESP(5, b'response5'), EOF(), CONSUME(),
    ]),
    CASE('testduplicaterequestonactivecommand', [
        CMD(1, 1, b'command1', {}), CMD(1, 1, b'command1', {}),
    ]),
    CASE('testduplicaterequestonactivecommandnosend', [
        CMD(1, 1, b'command1', {}), MOS(), RESP(1, b'response'), CMD(1, 1, b'command1', {}),
    ]),
    CASE('testduplicaterequestaftersend', [
        CMD(1, 1, b'command1', {}), MOS(), RESP(1, b'response'), CONSUME(), CMD(1, 1, b'command1', {}),
    ]),
]


def _noise(n):
    out = bytearray()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(b'hgframe-%d' % i).digest()
        i += 1
    return bytes(out[:n])


_NAMEX = cdump({b'name': b'x'})
_TEXTMAP = b'\xa2' + b'\x64name' + b'\x61x' + b'\x64args' + b'\xa1\x61k\x61v'
_MAX = framing.DEFAULT_MAX_FRAME_SIZE
_OKLEN = len(cdump({b'status': b'ok'}))

EXTRA_CASES = [
    # --- stream bookkeeping / error state ----------------------------------
    CASE('extra_frameaftererror', [
        F(b'1 1 stream-begin command-data 0 x'),
        F(b"1 1 0 command-request new cbor:{b'name': b'x'}"),
    ]),
    CASE('extra_evenstreaminitial', [F(b"1 2 stream-begin command-request new cbor:{b'name': b'x'}")]),
    CASE('extra_evenstreamwhileerrored', [
        F(b'1 1 stream-begin command-data 0 x'),
        F(b"1 2 stream-begin command-request new cbor:{b'name': b'x'}"),
    ]),
    CASE('extra_nostreambegin', [F(b"1 1 0 command-request new cbor:{b'name': b'x'}")]),
    CASE('extra_streamendreuse', [
        F(b"1 1 stream-begin|stream-end command-request new cbor:{b'name': b'x'}"),
        F(b"3 1 0 command-request new cbor:{b'name': b'y'}"),
    ]),
    CASE('extra_streamendrebegin', [
        F(b"1 1 stream-begin|stream-end command-request new cbor:{b'name': b'x'}"),
        F(b"3 1 stream-begin command-request new cbor:{b'name': b'y'}"),
    ]),
    CASE('extra_encodedflag', [F(b"1 1 stream-begin|encoded command-request new cbor:{b'name': b'x'}")]),
    CASE('extra_type8first', [F(b"0 1 stream-begin stream-settings 0 cbor:b'identity'")]),
    CASE('extra_type8whilereceiving', [
        F(b'1 1 stream-begin command-request new|more %s' % _NAMEX[0:3]),
        F(b"1 1 0 stream-settings 0 cbor:b'identity'"),
    ]),
    # --- command-request flags / ids ---------------------------------------
    CASE('extra_continuationwhileidle', [F(b"1 1 stream-begin command-request continuation cbor:{b'name': b'x'}")]),
    CASE('extra_continuationunknownrequest', [
        F(b'1 1 stream-begin command-request new|more %s' % _NAMEX[0:3]),
        F(b'3 1 0 command-request continuation %s' % _NAMEX[3:]),
    ]),
    CASE('extra_havedatamore_dataeosfirst', [
        F(b'1 1 stream-begin command-request new|more|have-data %s' % _NAMEX[0:3]),
        F(b'1 1 0 command-data eos data'),
    ]),
    CASE('extra_expectdatamismatch', [
        F(b'1 1 stream-begin command-request new|more|have-data %s' % _NAMEX[0:3]),
        F(b'1 1 0 command-request continuation %s' % _NAMEX[3:]),
    ]),
    CASE('extra_requestdonecontinuation', [
        F(b"1 1 stream-begin command-request new|have-data cbor:{b'name': b'x'}"),
        F(b'1 1 0 command-request continuation|have-data '),
    ]),
    CASE('extra_unexpectedframetypewhilereceiving', [
        F(b'1 1 stream-begin command-request new|more %s' % _NAMEX[0:3]),
        F(b'1 1 0 text-output 0 '),
    ]),
    CASE('extra_frameforactivecommand', [
        F(b"1 1 stream-begin command-request new cbor:{b'name': b'x'}"),
        F(b'3 1 0 command-request new|more %s' % _NAMEX[0:3]),
        F(b'1 1 0 command-data eos data'),
    ]),
    CASE('extra_requestid0', [CMD(1, 0, b'zero', {b'k': b'v'}, data=b'payload'), MOS(), RESP(0, b'r0'), CONSUME()]),
    CASE('extra_requestid65535', [CMD(1, 65535, b'max', {}), MOS(), RESP(65535, b'rmax'), CONSUME()]),
    CASE('extra_zerolengthdata', [
        F(b"1 1 stream-begin command-request new|have-data cbor:{b'name': b'x'}"),
        F(b'1 1 0 command-data continuation '),
        F(b'1 1 0 command-data eos '),
    ]),
    # --- command request CBOR (bundled cbor2 decoder: cbor.load) ------------
    CASE('extra_cborempty', [F(b'1 1 stream-begin command-request new ')]),
    CASE('extra_cbornotmap', [F(b'1 1 stream-begin command-request new cbor:42')]),
    CASE('extra_cborlistwithname', [F(b"1 1 stream-begin command-request new cbor:[b'name']")]),
    CASE('extra_cborbyteswithname', [F(b"1 1 stream-begin command-request new cbor:b'xnamex'")]),
    CASE('extra_cbormissingname', [
        F(b"1 1 stream-begin command-request new cbor:{b'args': {}}"),
        F(b"3 1 0 command-request new cbor:{b'name': b'x'}"),
    ]),
    CASE('extra_cbortruncated', [F(b'1 1 stream-begin command-request new %s' % _NAMEX[:-1])]),
    CASE('extra_cbortrailing', [F(b'1 1 stream-begin command-request new %s\x43foo\x01' % _NAMEX)]),
    CASE('extra_cbortextstrings', [F(b'1 1 stream-begin command-request new %s' % _TEXTMAP)]),
    CASE('extra_cborredirectignored', [
        F(b"1 1 stream-begin command-request new cbor:{b'name': b'x', "
          b"b'args': {b'a': [1, 2]}, b'redirect': {b'targets': [b't1']}}"),
    ]),
    CASE('extra_cborfloat', [F(b"1 1 stream-begin command-request new cbor:{b'name': b'x', b'args': {b'f': 1.5}}")]),
    CASE('extra_cbornonutf8', [F(b"1 1 stream-begin command-request new cbor:{b'name': b'caf\\xe9'}")]),
    CASE('extra_cborset', [F(b'1 1 stream-begin command-request new \xa2Dargs\xa1Aa\xd9\x01\x02\x81\x01DnameAx')]),
    # --- responses ---------------------------------------------------------
    CASE('extra_responseempty', [CMD(1, 1, b'c', {}), MOS(), RESP(1, b''), CONSUME(), CMD(1, 1, b'c', {})]),
    CASE('extra_responsefitsexactly', [CMD(1, 1, b'c', {}), MOS(), RESP(1, _noise(_MAX - _OKLEN)), CONSUME()]),
    CASE('extra_responseonebytetoomany', [CMD(1, 1, b'c', {}), MOS(), RESP(1, _noise(_MAX - _OKLEN + 1)), CONSUME()]),
    CASE('extra_response32768', [CMD(1, 1, b'c', {}), MOS(), RESP(1, _noise(_MAX)), CONSUME()]),
    CASE('extra_response65536', [CMD(1, 1, b'c', {}), MOS(), RESP(1, _noise(2 * _MAX)), CONSUME()]),
    CASE('extra_responsegen', [
        CMD(1, 1, b'c', {}), MOS(), RESPGEN(1, [b'a', b'bc', b'']), CONSUME(), CMD(1, 1, b'c', {}),
    ]),
    CASE('extra_responsegenempty', [CMD(1, 1, b'c', {}), MOS(), RESPGEN(1, []), CONSUME()]),
    CASE('extra_responsegenlarge', [CMD(1, 1, b'c', {}), MOS(), RESPGEN(1, [_noise(40000), _noise(30000)]), CONSUME()]),
    CASE('extra_responsegendeferred', deferoutput=True, steps=[
        CMD(1, 1, b'c', {}), MOS(), RESPGEN(1, [b'chunk']), EOF(), CONSUME(),
    ]),
    CASE('extra_commanderror', [
        CMD(1, 1, b'c', {}), MOS(), CERR(1, b'bad thing: %s', [b'arg1']), CONSUME(), CMD(1, 1, b'c', {}),
    ]),
    CASE('extra_commanderrornoargs', [CMD(1, 1, b'c', {}), MOS(), CERR(1, b'plain failure'), CONSUME()]),
    CASE('extra_servererrortoolong', [CMD(1, 1, b'c', {}), MOS(), SERR(1, b'e' * (_MAX + 1)), CONSUME()]),
    CASE('extra_responsenotactive', [MOS(), RESP(7, b'x'), CONSUME()]),
    CASE('extra_oddoutputstream', [CMD(1, 1, b'c', {}), STREAM(3), RESP(1, b'x', stream=3)]),
    CASE('extra_twooutputstreams', [
        CMD(1, 1, b'c1', {}), CMD(1, 3, b'c2', {}), MOS(), MOS(),
        RESP(1, b'on4', stream=4), CONSUME(), RESP(3, b'on2', stream=2), CONSUME(),
    ]),
    CASE('extra_consumeoutoforder', [
        CMD(1, 1, b'c1', {}), CMD(1, 3, b'c2', {}), MOS(),
        RESP(1, b'response1', label='first'), RESP(3, b'response2', label='second'),
        CONSUME('second'), CONSUME('first'),
    ]),
    CASE('extra_deferred2plusservererror', deferoutput=True, steps=[
        CMD(1, 1, b'c1', {}), CMD(1, 3, b'c2', {}), CMD(1, 5, b'c3', {}), MOS(),
        RESP(1, b'response1'), RESP(3, b'response2'), SERR(5, b'server failure'), EOF(), CONSUME(),
    ]),
    CASE('extra_deferredeofempty', deferoutput=True, steps=[CMD(1, 1, b'c', {}), EOF()]),
]

CASES = UPSTREAM_CASES + EXTRA_CASES


# --- rendering helpers ------------------------------------------------------

_STREAMFLAGNAMES = sorted(framing.STREAM_FLAGS.items(), key=lambda kv: kv[1])
_TYPENAMES = dict((v, k) for k, v in framing.FRAME_TYPES.items())
HUMAN_MAX_PAYLOAD = 1024


def tohex(b):
    return binascii.hexlify(bytes(b)).decode('ascii')


def _flagsstr(value, names):
    parts = []
    for name, bit in sorted(names, key=lambda kv: kv[1]):
        if value & bit:
            parts.append(name)
            value &= ~bit
    if value or not parts:
        parts.append(b'%d' % value)
    return b'|'.join(parts)


def _payloadstr(payload):
    """cbor:<literal> when that re-encodes (cbor2, canonical) to the same
    bytes, else the escaped bytes."""
    try:
        value = cbor.loads(bytes(payload))
        lit = repr(value)
        if cdump(stringutil.evalpythonliteral(lit)) == bytes(payload):
            return b'cbor:' + lit
    except Exception:
        pass
    return stringutil.escapestr(bytes(payload))


def _isplain(s):
    return all(0x20 <= ord(c) < 0x7f for c in s)


def humanframe(framebytes, original=None):
    framebytes = bytes(framebytes)
    if original is not None and _isplain(original):
        assert bytes(ffs(original)) == framebytes
        return original.decode('ascii')
    h = framing.parseheader(bytearray(framebytes))
    payload = framebytes[framing.FRAME_HEADER_SIZE:]
    if h.typeid not in framing.FRAME_TYPE_FLAGS or len(payload) > HUMAN_MAX_PAYLOAD:
        return None
    human = b'%d %d %s %s %s %s' % (
        h.requestid, h.streamid, _flagsstr(h.streamflags, _STREAMFLAGNAMES),
        _TYPENAMES[h.typeid], _flagsstr(h.flags, framing.FRAME_TYPE_FLAGS[h.typeid].items()),
        _payloadstr(payload))
    assert _isplain(human), human
    assert bytes(ffs(human)) == framebytes, human
    return human.decode('ascii')


def fmtexc(e):
    try:
        msg = u'%s' % (e,)
    except UnicodeDecodeError:
        msg = str(e).decode('utf-8', 'replace')
    return u'%s: %s' % (type(e).__name__, msg)


def reflectjson(obj):
    """debugreflect's rendering in 4.6/4.7 (wireprotov2server.py)."""
    return json.dumps(obj, sort_keys=True, separators=(', ', ': '))


def pyrepr(o):
    if isinstance(o, dict):
        return '{%s}' % ', '.join('%s: %s' % (pyrepr(k), pyrepr(v)) for k, v in sorted(o.items()))
    return repr(o)


class Stop(Exception):
    pass


def runcase(case):
    reactor = framing.serverreactor(deferoutput=case['deferoutput'])
    instreams = {}
    outstreams = {}
    state = {'lastout': None, 'lastgen': None}
    gens = {}
    labels = {}
    events, results = [], []

    def call(fn):
        try:
            return fn()
        except Exception as e:
            results.append(OD([('raises', fmtexc(e))]))
            raise Stop()

    def record_action(res, label=None):
        action, meta = res
        meta = dict(meta)
        gen = meta.pop('framegen', None)
        out = OD([('action', action)])
        try:
            out['json'] = reflectjson((action, meta))
        except Exception as e:
            out['json_raises'] = fmtexc(e)
        if action == 'sendframes':
            out['frames_hex'] = None
        idx = len(results)
        results.append(out)
        if gen is not None:
            gens[idx] = gen
            state['lastgen'] = idx
        if label:
            labels[label] = idx

    def feed(framebytes, event):
        events.append(event)
        header = framing.parseheader(framebytes)
        payload = framebytes[framing.FRAME_HEADER_SIZE:]
        assert len(payload) == header.length
        fr = framing.frame(header.requestid, header.streamid, header.streamflags,
                           header.typeid, header.flags, payload)
        record_action(call(lambda: reactor.onframerecv(fr)))

    def outstream(step):
        sid = step['stream'] if step['stream'] is not None else state['lastout']
        return outstreams[sid]

    try:
        for step in case['steps']:
            op = step['op']
            if op == 'ffs':
                fb = ffs(step['human'])
                feed(fb, OD([('event', 'frame'), ('hex', tohex(fb)), ('human', humanframe(fb, step['human']))]))
            elif op == 'command':
                sid = step['stream']
                if sid not in instreams:
                    instreams[sid] = framing.stream(sid)
                data = step['data']
                datafh = util.bytesio(data) if data is not None else None
                origin = 'createcommandframes(stream(%d), %d, %s, %s%s)' % (
                    sid, step['requestid'], pyrepr(step['command']), pyrepr(step['args']),
                    ', datafh=bytesio(%s)' % pyrepr(data) if data is not None else '')
                frames = framing.createcommandframes(instreams[sid], step['requestid'], step['command'],
                                                     step['args'], datafh)
                for n, fb in enumerate(frames):
                    feed(fb, OD([('event', 'frame'), ('hex', tohex(fb)), ('human', humanframe(fb)),
                                 ('origin', '%s frame %d' % (origin, n + 1))]))
            elif op == 'makeoutputstream':
                events.append(OD([('event', 'makeoutputstream')]))
                s = call(reactor.makeoutputstream)
                outstreams[s.streamid] = s
                state['lastout'] = s.streamid
                results.append(OD([('streamid', s.streamid)]))
            elif op == 'stream':
                events.append(OD([('event', 'stream'), ('streamid', step['streamid'])]))
                s = framing.stream(step['streamid'])
                outstreams[s.streamid] = s
                state['lastout'] = s.streamid
                results.append(OD([('streamid', s.streamid)]))
            elif op == 'response':
                s = outstream(step)
                events.append(OD([('event', 'response'), ('requestid', step['requestid']),
                                  ('streamid', s.streamid), ('data_hex', tohex(step['data']))]))
                record_action(call(lambda: reactor.oncommandresponseready(s, step['requestid'], step['data'])),
                              step['label'])
            elif op == 'responsegen':
                s = outstream(step)
                events.append(OD([('event', 'responsegen'), ('requestid', step['requestid']),
                                  ('streamid', s.streamid),
                                  ('chunks_hex', [tohex(c) for c in step['chunks']])]))
                record_action(call(lambda: reactor.oncommandresponsereadygen(
                    s, step['requestid'], iter(list(step['chunks'])))), step['label'])
            elif op == 'servererror':
                s = outstream(step)
                events.append(OD([('event', 'servererror'), ('requestid', step['requestid']),
                                  ('streamid', s.streamid), ('message_hex', tohex(step['msg']))]))
                record_action(call(lambda: reactor.onservererror(s, step['requestid'], step['msg'])),
                              step['label'])
            elif op == 'commanderror':
                s = outstream(step)
                cargs = step['cargs']
                events.append(OD([('event', 'commanderror'), ('requestid', step['requestid']),
                                  ('streamid', s.streamid), ('message_hex', tohex(step['msg'])),
                                  ('args_cbor_hex', tohex(cdump(cargs)) if cargs is not None else None)]))
                record_action(call(lambda: reactor.oncommanderror(s, step['requestid'], step['msg'], cargs)),
                              step['label'])
            elif op == 'eof':
                events.append(OD([('event', 'eof')]))
                record_action(call(reactor.oninputeof), step['label'])
            elif op == 'consume':
                of = labels[step['label']] if step['label'] else state['lastgen']
                assert of is not None and of in gens, case['name']
                events.append(OD([('event', 'consume'), ('of', of)]))
                frames = []
                try:
                    for fb in gens[of]:
                        frames.append(tohex(fb))
                except Exception as e:
                    results.append(OD([('raises', fmtexc(e)), ('frames_hex', frames)]))
                    raise Stop()
                results.append(OD([('frames_hex', frames)]))
            else:
                raise AssertionError('unknown step %r' % op)
            assert len(events) == len(results)
    except Stop:
        pass
    return events, results


def build():
    if util.version().split('+')[0] != RELEASE:
        sys.exit('need Mercurial %s, got %s' % (RELEASE, util.version()))
    names = [c['name'] for c in CASES]
    assert len(names) == len(set(names)), 'duplicate case names'
    cases = []
    for case in CASES:
        events, results = runcase(case)
        cases.append(OD([('name', case['name']), ('deferoutput', case['deferoutput']),
                         ('events', events), ('results', results)]))
    doc = OD([('generator', GENERATOR), ('mercurial', RELEASE), ('cases', cases)])
    return json.dumps(doc, indent=2, ensure_ascii=True, separators=(',', ': ')) + '\n'


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('-o', '--output', default=DEFAULT_OUTPUT)
    ap.add_argument('--check', action='store_true', help='exit 1 if the file is not up to date')
    opts = ap.parse_args()
    data = build()
    if opts.check:
        try:
            with open(opts.output, 'rb') as fh:
                current = fh.read()
        except IOError:
            current = None
        if current != data:
            sys.stderr.write('%s is out of date\n' % opts.output)
            return 1
        return 0
    d = os.path.dirname(os.path.abspath(opts.output))
    if not os.path.isdir(d):
        os.makedirs(d)
    with open(opts.output, 'wb') as fh:
        fh.write(data)
    sys.stderr.write('wrote %d cases to %s\n' % (len(CASES), opts.output))
    return 0


if __name__ == '__main__':
    sys.exit(main())
