#!/usr/bin/env python3
"""Golden data for the server reactor, computed by Mercurial 6.0 itself
(and by 4.8.2, the same revision-0006 reactor on Python 2).

Every test method of Mercurial 6.0's tests/test-wireproto-serverreactor.py is
restated below as DATA (a list of dicts, one per test method, keeping the
method name), followed by extra cases (prefix ``extra_``) for reactor paths the
unit tests don't reach. Nothing expected is written by hand: each case's event
sequence is rebuilt and fed to the real ``wireprotoframing.serverreactor``, and
whatever it returns is recorded in tests/data/hg60/serverreactor.json, so a
Rust port of the reactor can be checked against it.

Run it with the Python of the Mercurial 6.0 venv, from anywhere:

    "$(dirname "$(scripts/hg-venv.sh)")/python3" scripts/gen-hg-serverreactor.py
    ... scripts/gen-hg-serverreactor.py --check     # exit 1 if the file differs
    ... scripts/gen-hg-serverreactor.py -o OUT.json # write elsewhere

or with the Python 2.7 of a 4.8.2 install (scripts/hg-install.sh), which
writes tests/data/hg48/serverreactor.json; 4.8.2's test file has the same 33
methods (it builds its CBOR with the bundled cbor2, which gives the same
bytes for those inputs) and its wireprotoframing.py is 6.0's but for
formatting:

    PYTHONHASHSEED=0 "$(dirname "$(scripts/hg-install.sh 4.8.2)")/python" scripts/gen-hg-serverreactor.py

Under 4.8.2 "json" is what 4.8/4.9 debugreflect prints: Python 2
json.dumps((action, meta), sort_keys=True, separators=(', ', ': ')), not
templatefilters.json; "origin" strings show Python 2 reprs; and JSON keys of
the output objects come in Python 2 dict order (stable, but not the order
they are listed in below).

Output (one JSON object, pretty-printed, keys in a fixed order):

    {"generator": ..., "mercurial": "6.0", "cases": [
      {"name": ..., "deferoutput": bool, "events": [...], "results": [...]}]}

Events (what is fed to the reactor, in order):

    {"event": "frame", "hex", "human", ["origin"]}
        onframerecv(); "human" is a string that
        wireprotoframing.makeframefromhumanstring turns into exactly "hex"
        (verified here), or null if the frame has no such form or is large;
        "origin" says which createcommandframes() call produced the frame
    {"event": "makeoutputstream"}
    {"event": "response", "requestid", "streamid", "objects_cbor_hex"}
        oncommandresponsereadyobjects(stream, requestid, [objects]); each
        object is given as its cborutil.streamencode() encoding, and the
        object passed to the reactor is the one that encoding decodes to
    {"event": "servererror", "requestid", "streamid", "message_hex"}
    {"event": "commanderror", "requestid", "streamid", "message_hex",
     "args_cbor_hex"}   (args_cbor_hex is null when args is None)
    {"event": "consume", "of": <index of the event whose framegen is drained>}
    {"event": "eof"}    oninputeof()

"streamid" is the id of the output stream (from makeoutputstream) passed in.

Results (one per event, same index):

    frame/response/servererror/commanderror/eof:
        {"action": "...", "json": templatefilters.json((action, meta))}
        (4.8.2: json.dumps as above) with meta's b'framegen' removed before
        rendering (it is a generator);
        sendframes results add "frames_hex": null, since frames are produced
        lazily and recorded at the "consume" event instead.
    consume:          {"frames_hex": [...]}
    makeoutputstream: {"streamid": N}
    any call that raises: {"raises": "<ExceptionType>: <message>"} and the
        case stops there (a consume that raises also keeps the frames it
        produced before raising in "frames_hex").
    If templatefilters.json() (json.dumps) itself fails on meta, "json" is replaced by
    "json_raises" (the reactor call succeeded, so the case goes on).
"""

from __future__ import absolute_import, print_function

import argparse
import binascii
import hashlib
import json
import os
import sys

from mercurial import (
    pycompat,
    templatefilters,
    ui as uimod,
    util,
    wireprotoframing as framing,
)
from mercurial.utils import cborutil, stringutil

GENERATOR = 'scripts/gen-hg-serverreactor.py'
HERE = os.path.dirname(os.path.abspath(__file__))
# release this runs on -> its folder under tests/data
RELEASES = {b'6.0': 'hg60', b'4.8.2': 'hg48'}
RELEASE = util.version().split(b'+')[0]
DEFAULT_OUTPUT = os.path.join(
    os.path.dirname(HERE), 'tests', 'data', RELEASES.get(RELEASE, 'hg60'),
    'serverreactor.json'
)


def reflectjson(obj):
    """An (action, meta) result as the release's debugreflect renders it."""
    if RELEASE == b'4.8.2':  # 4.8/4.9: wireprotov2server uses json.dumps
        return json.dumps(obj, sort_keys=True, separators=(', ', ': '))
    return templatefilters.json(obj).decode('ascii')

ffs = framing.makeframefromhumanstring


def cbor(o):
    return b''.join(cborutil.streamencode(o))


# Same constant as the test file.
OK = cbor({b'status': b'ok'})


# ---------------------------------------------------------------------------
# Step constructors. A case is a dict {name, deferoutput, steps}; each step is
# a small dict describing one call (a createcommandframes() step expands into
# one "frame" event per frame it yields).
# ---------------------------------------------------------------------------


def F(human):
    """One frame built by ffs(human), exactly as the test builds it."""
    return {'op': 'ffs', 'human': human}


def CMD(stream, requestid, cmd, args, data=None):
    """sendcommandframes(reactor, stream, requestid, cmd, args, datafh).

    ``stream`` is the id of a framing.stream() object. Like the tests, a case
    keeps ONE object per id, so a second CMD on the same stream continues it
    (no stream-begin flag on its frames).
    ``data`` is the content of the util.bytesio() passed as datafh (or None).
    """
    return {
        'op': 'command',
        'stream': stream,
        'requestid': requestid,
        'command': cmd,
        'args': args,
        'data': data,
    }


def MOS():
    """reactor.makeoutputstream()"""
    return {'op': 'makeoutputstream'}


def RESP(requestid, objs, stream=None, label=None):
    """reactor.oncommandresponsereadyobjects(stream, requestid, objs).

    ``stream`` is an output stream id (default: the latest one made).
    ``label`` names the event so CONSUME can refer to it.
    """
    return {
        'op': 'response',
        'requestid': requestid,
        'objs': objs,
        'stream': stream,
        'label': label,
    }


def SERR(requestid, msg, stream=None, label=None):
    """reactor.onservererror(stream, requestid, msg)"""
    return {
        'op': 'servererror',
        'requestid': requestid,
        'msg': msg,
        'stream': stream,
        'label': label,
    }


def CERR(requestid, msg, args=None, stream=None, label=None):
    """reactor.oncommanderror(stream, requestid, msg, args)"""
    return {
        'op': 'commanderror',
        'requestid': requestid,
        'msg': msg,
        'cargs': args,
        'stream': stream,
        'label': label,
    }


def EOF(label=None):
    """reactor.oninputeof()"""
    return {'op': 'eof', 'label': label}


def CONSUME(label=None):
    """list(result[1][b'framegen']) of a labelled event, or by default of the
    latest event that returned a framegen."""
    return {'op': 'consume', 'label': label}


def CASE(name, steps, deferoutput=False):
    return {'name': name, 'deferoutput': deferoutput, 'steps': steps}


# ---------------------------------------------------------------------------
# The 33 test methods of tests/test-wireproto-serverreactor.py (6.0), in file
# order. Comments note assertions on reactor internals that the results
# cannot show.
# ---------------------------------------------------------------------------

_CBOR1 = cbor({b'name': b'command1', b'args': {b'foo': b'bar', b'key1': b'val'}})
_CBOR3 = cbor({b'name': b'command3', b'args': {b'biz': b'baz', b'key': b'val'}})
_SETTINGS2 = cbor({b'contentencodings': [b'value1', b'value2']})

UPSTREAM_CASES = [
    CASE('test1framecommand', [
        CMD(1, 1, b'mycommand', {}),
        EOF(),
    ]),
    CASE('test1argument', [
        CMD(1, 41, b'mycommand', {b'foo': b'bar'}),
    ]),
    CASE('testmultiarguments', [
        CMD(1, 1, b'mycommand', {b'foo': b'bar', b'biz': b'baz'}),
    ]),
    CASE('testsimplecommanddata', [
        CMD(1, 1, b'mycommand', {}, data=b'data!'),
    ]),
    CASE('testmultipledataframes', [
        F(b'1 1 stream-begin command-request new|have-data '
          b"cbor:{b'name': b'mycommand'}"),
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
    CASE('testnewandcontinuation', [
        F(b'1 1 stream-begin command-request new|continuation '),
    ]),
    CASE('testneithernewnorcontinuation', [
        F(b'1 1 stream-begin command-request 0 '),
    ]),
    CASE('testunexpectedcommanddata', [
        F(b'1 1 stream-begin command-data 0 ignored'),
    ]),
    CASE('testunexpectedcommanddatareceiving', [
        F(b'1 1 stream-begin command-request new|more '
          b"cbor:{b'name': b'ignored'}"),
        F(b'1 1 0 command-data eos ignored'),
    ]),
    CASE('testconflictingrequestidallowed', [
        MOS(),  # the test makes the output stream before any frame
        F(b"1 1 stream-begin command-request new cbor:{b'name': b'command'}"),
        RESP(1, [b'response1']),
        CONSUME(),
        F(b"1 1 stream-begin command-request new cbor:{b'name': b'command'}"),
        RESP(1, [b'response2']),
        CONSUME(),
        F(b"1 1 stream-begin command-request new cbor:{b'name': b'command'}"),
        RESP(1, [b'response3']),
        CONSUME(),
    ]),
    CASE('testconflictingrequestid', [
        F(b'1 1 stream-begin command-request new|more '
          b"cbor:{b'name': b'command'}"),
        F(b"1 1 0 command-request new cbor:{b'name': b'command1'}"),
    ]),
    CASE('testinterleavedcommands', [
        # raw CBOR slices spliced into the human strings, as the test does
        F(b'1 1 stream-begin command-request new|more %s' % _CBOR1[0:6]),
        F(b'3 1 0 command-request new|more %s' % _CBOR3[0:10]),
        F(b'1 1 0 command-request continuation|more %s' % _CBOR1[6:9]),
        F(b'3 1 0 command-request continuation|more %s' % _CBOR3[10:13]),
        F(b'3 1 0 command-request continuation %s' % _CBOR3[13:]),
        F(b'1 1 0 command-request continuation %s' % _CBOR1[9:]),
    ]),
    CASE('testmissingcommanddataframe', [
        F(b'1 1 stream-begin command-request new|have-data '
          b"cbor:{b'name': b'command1'}"),
        F(b"3 1 0 command-request new cbor:{b'name': b'command2'}"),
    ]),
    CASE('testmissingcommanddataframeflags', [
        F(b'1 1 stream-begin command-request new|have-data '
          b"cbor:{b'name': b'command1'}"),
        F(b'1 1 0 command-data 0 data'),
    ]),
    CASE('testframefornonreceivingrequest', [
        F(b"1 1 stream-begin command-request new cbor:{b'name': b'command1'}"),
        F(b'3 1 0 command-request new|have-data '
          b"cbor:{b'name': b'command3'}"),
        F(b'5 1 0 command-data eos ignored'),
    ]),
    CASE('testsimpleresponse', [
        CMD(1, 1, b'mycommand', {}),
        MOS(),
        RESP(1, [b'response']),
        CONSUME(),  # assertframesequal(result[1][b'framegen'], ...)
    ]),
    CASE('testmultiframeresponse', [
        CMD(1, 1, b'mycommand', {}),
        MOS(),
        RESP(1, [b'x' * framing.DEFAULT_MAX_FRAME_SIZE + b'y' * 100]),
        CONSUME(),
    ]),
    CASE('testservererror', [
        CMD(1, 1, b'mycommand', {}),
        MOS(),
        SERR(1, b'some message'),
        CONSUME(),
    ]),
    CASE('test1commanddeferresponse', deferoutput=True, steps=[
        CMD(1, 1, b'mycommand', {}),
        MOS(),
        RESP(1, [b'response']),
        EOF(),
        CONSUME(),
    ]),
    CASE('testmultiplecommanddeferresponse', deferoutput=True, steps=[
        CMD(1, 1, b'command1', {}),
        CMD(1, 3, b'command2', {}),  # same stream object: no stream-begin
        MOS(),
        RESP(1, [b'response1']),
        RESP(3, [b'response2']),
        EOF(),
        CONSUME(),
    ]),
    CASE('testrequestidtracking', deferoutput=True, steps=[
        CMD(1, 1, b'command1', {}),
        CMD(1, 3, b'command2', {}),
        CMD(1, 5, b'command3', {}),
        MOS(),
        RESP(3, [b'response3']),
        RESP(1, [b'response1']),
        RESP(5, [b'response5']),
        EOF(),
        CONSUME(),
    ]),
    CASE('testduplicaterequestonactivecommand', [
        CMD(1, 1, b'command1', {}),
        CMD(1, 1, b'command1', {}),
    ]),
    CASE('testduplicaterequestonactivecommandnosend', [
        CMD(1, 1, b'command1', {}),
        MOS(),
        RESP(1, [b'response']),  # never consumed: request stays active
        CMD(1, 1, b'command1', {}),
    ]),
    CASE('testduplicaterequestaftersend', [
        CMD(1, 1, b'command1', {}),
        MOS(),
        RESP(1, [b'response']),
        CONSUME(),
        CMD(1, 1, b'command1', {}),
    ]),
    CASE('testprotocolsettingsnoflags', [
        F(b'0 1 stream-begin sender-protocol-settings 0 '),
    ]),
    CASE('testprotocolsettingsconflictflags', [
        F(b'0 1 stream-begin sender-protocol-settings continuation|eos '),
    ]),
    CASE('testprotocolsettingsemptypayload', [
        F(b'0 1 stream-begin sender-protocol-settings eos '),
    ]),
    CASE('testprotocolsettingsmultipleobjects', [
        F(b'0 1 stream-begin sender-protocol-settings eos '
          b'\x46foobar\x43foo'),
    ]),
    # The test also asserts reactor._state == b'idle' (visible here in the
    # wantframe meta) and reactor._sendersettings[b'contentencodings'] ==
    # [b'a', b'b'] (internal; see extra_unknownencodingsonly for its effect).
    CASE('testprotocolsettingscontentencodings', [
        F(b'0 1 stream-begin sender-protocol-settings eos '
          b'cbor:{b"contentencodings": [b"a", b"b"]}'),
    ]),
    # Also asserts _state/_sendersettings, as above.
    CASE('testprotocolsettingsmultipleframes', [
        F(b'0 1 stream-begin sender-protocol-settings continuation %s'
          % _SETTINGS2[0:5]),
        F(b'0 1 0 sender-protocol-settings eos %s' % _SETTINGS2[5:]),
    ]),
    CASE('testprotocolsettingsbadcbor', [
        F(b'0 1 stream-begin sender-protocol-settings eos badvalue'),
    ]),
    CASE('testprotocolsettingsnoninitial', [
        CMD(1, 1, b'mycommand', {}),
        F(b'0 1 0 sender-protocol-settings eos '),
    ]),
]


# ---------------------------------------------------------------------------
# Extra cases: reactor paths the upstream tests don't exercise.
# ---------------------------------------------------------------------------


def _noise(n):
    """n deterministic, incompressible bytes (sha256 in counter mode)."""
    out = bytearray()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(b'hgframe-%d' % i).digest()
        i += 1
    return bytes(out[:n])


_NAMEX = cbor({b'name': b'x'})
_BIGLIST = list(range(20000))  # ~59 KB of CBOR in many small chunks
_BIGDICT = {b'key%05d' % i: b'value%05d' % i for i in range(3000)}
_NESTED = {
    b'a': [{b'b': [1, -1, {b'c': None}]}, True, False, -1000000, 2 ** 40],
    b'deep': [[[[[[[[[[[[[[[[[[[[b'bottom']]]]]]]]]]]]]]]]]]]],
    b'empty': [{}, [], b''],
    b'neg': -(2 ** 63),
}
_TEXTMAP = binascii.unhexlify('a1') + cbor(b'name') + binascii.unhexlify('6474657874')
_INDEFBYTES = binascii.unhexlify('5f') + cbor(b'ab') + cbor(b'c') + binascii.unhexlify('ff')
_SETTINGSZLIB = b"cbor:{b'contentencodings': [b'zlib']}"

EXTRA_CASES = [
    # --- error state -------------------------------------------------------
    CASE('extra_frameaftererror', [
        F(b'1 1 stream-begin command-data 0 x'),
        F(b"1 1 0 command-request new cbor:{b'name': b'x'}"),
    ]),
    CASE('extra_evenstreamwhileerrored', [
        F(b'1 1 stream-begin command-data 0 x'),
        F(b"1 2 stream-begin command-request new cbor:{b'name': b'x'}"),
        F(b"3 1 0 command-request new cbor:{b'name': b'x'}"),
    ]),
    CASE('extra_evenstreaminitial', [
        F(b"1 2 stream-begin command-request new cbor:{b'name': b'x'}"),
    ]),
    # --- stream flags ------------------------------------------------------
    CASE('extra_nostreambegin', [
        F(b"1 1 0 command-request new cbor:{b'name': b'x'}"),
    ]),
    CASE('extra_streamendreuse', [
        F(b"1 1 stream-begin|stream-end command-request new "
          b"cbor:{b'name': b'x'}"),
        F(b"3 1 0 command-request new cbor:{b'name': b'y'}"),
    ]),
    CASE('extra_streamendrebegin', [
        F(b"1 1 stream-begin|stream-end command-request new "
          b"cbor:{b'name': b'x'}"),
        F(b"3 1 stream-begin command-request new cbor:{b'name': b'y'}"),
    ]),
    CASE('extra_encodedflag', [
        F(b"1 1 stream-begin|encoded command-request new "
          b"cbor:{b'name': b'x'}"),
    ]),
    # --- command-request flags / ids ---------------------------------------
    CASE('extra_continuationunknownrequest', [
        F(b'1 1 stream-begin command-request new|more %s' % _NAMEX[0:3]),
        F(b'3 1 0 command-request continuation %s' % _NAMEX[3:]),
    ]),
    CASE('extra_continuationwhileidle', [
        F(b"1 1 stream-begin command-request continuation "
          b"cbor:{b'name': b'x'}"),
    ]),
    CASE('extra_havedatamore_dataeosfirst', [
        F(b'1 1 stream-begin command-request new|more|have-data %s'
          % _NAMEX[0:3]),
        F(b'1 1 0 command-data eos data'),
    ]),
    CASE('extra_expectdatamismatch', [
        F(b'1 1 stream-begin command-request new|more|have-data %s'
          % _NAMEX[0:3]),
        F(b'1 1 0 command-request continuation %s' % _NAMEX[3:]),
    ]),
    CASE('extra_requestdonecontinuation', [
        F(b"1 1 stream-begin command-request new|have-data "
          b"cbor:{b'name': b'x'}"),
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
    CASE('extra_requestid0', [
        CMD(1, 0, b'zero', {b'k': b'v'}, data=b'payload'),
        MOS(),
        RESP(0, [b'r0']),
        CONSUME(),
    ]),
    CASE('extra_requestid65535', [
        CMD(1, 65535, b'max', {}),
        MOS(),
        RESP(65535, [b'rmax']),
        CONSUME(),
    ]),
    CASE('extra_interleaved3', [
        F(b'1 1 stream-begin command-request new|more %s' % _CBOR1[0:4]),
        F(b'3 1 0 command-request new|more|have-data %s' % _NAMEX[0:2]),
        F(b'5 1 0 command-request new|more %s' % _CBOR3[0:7]),
        F(b'3 1 0 command-request continuation|have-data %s' % _NAMEX[2:]),
        F(b'1 1 0 command-request continuation|more %s' % _CBOR1[4:20]),
        F(b'3 1 0 command-data continuation d1'),
        F(b'5 1 0 command-request continuation %s' % _CBOR3[7:]),
        F(b'1 1 0 command-request continuation %s' % _CBOR1[20:]),
        F(b'3 1 0 command-data eos d2'),
    ]),
    CASE('extra_zerolengthdata', [
        F(b"1 1 stream-begin command-request new|have-data "
          b"cbor:{b'name': b'x'}"),
        F(b'1 1 0 command-data continuation '),
        F(b'1 1 0 command-data eos '),
    ]),
    # --- command request CBOR ----------------------------------------------
    CASE('extra_cborempty', [
        F(b'1 1 stream-begin command-request new '),
    ]),
    CASE('extra_cbornotmap', [
        F(b'1 1 stream-begin command-request new cbor:42'),
    ]),
    CASE('extra_cborlistwithname', [
        F(b"1 1 stream-begin command-request new cbor:[b'name']"),
    ]),
    CASE('extra_cbormissingname', [
        F(b"1 1 stream-begin command-request new cbor:{b'args': {}}"),
        F(b"3 1 0 command-request new cbor:{b'name': b'x'}"),
    ]),
    CASE('extra_cbortruncated', [
        F(b'1 1 stream-begin command-request new %s' % _NAMEX[:-1]),
    ]),
    CASE('extra_cbortrailing', [
        F(b'1 1 stream-begin command-request new %s\x43foo\x01' % _NAMEX),
    ]),
    CASE('extra_cbortextstring', [
        F(b'1 1 stream-begin command-request new %s' % _TEXTMAP),
    ]),
    CASE('extra_cborredirect', [
        F(b"1 1 stream-begin command-request new cbor:{b'name': b'x', "
          b"b'args': {b'a': [1, 2]}, b'redirect': {b'targets': [b't1']}}"),
    ]),
    # --- sender protocol settings ------------------------------------------
    CASE('extra_settings3frames', [
        F(b'0 1 stream-begin sender-protocol-settings continuation %s'
          % _SETTINGS2[0:3]),
        F(b'0 1 0 sender-protocol-settings continuation %s'
          % _SETTINGS2[3:12]),
        F(b'0 1 0 sender-protocol-settings eos %s' % _SETTINGS2[12:]),
        F(b"1 1 0 command-request new cbor:{b'name': b'x'}"),
    ]),
    CASE('extra_settingsnonmap_int', [
        F(b'0 1 stream-begin sender-protocol-settings eos cbor:1'),
    ]),
    CASE('extra_settingsnonmap_bytes', [
        F(b"0 1 stream-begin sender-protocol-settings eos cbor:b'foo'"),
        F(b"1 1 0 command-request new cbor:{b'name': b'x'}"),
    ]),
    CASE('extra_settingsnonmap_list', [
        F(b"0 1 stream-begin sender-protocol-settings eos "
          b"cbor:[b'contentencodings']"),
    ]),
    CASE('extra_settingsindefinitebytes', [
        F(b'0 1 stream-begin sender-protocol-settings eos %s' % _INDEFBYTES),
    ]),
    CASE('extra_settingsthencommandrequest', [
        F(b'0 1 stream-begin sender-protocol-settings continuation %s'
          % _SETTINGS2[0:5]),
        F(b"1 1 0 command-request new cbor:{b'name': b'x'}"),
    ]),
    CASE('extra_settingswhilereceiving_rid0', [
        F(b'1 1 stream-begin command-request new|more %s' % _NAMEX[0:3]),
        F(b'0 1 0 sender-protocol-settings eos '
          b"cbor:{b'contentencodings': [b'zlib']}"),
    ]),
    CASE('extra_settingswhilereceiving_samerid', [
        F(b'1 1 stream-begin command-request new|more %s' % _NAMEX[0:3]),
        F(b'1 1 0 sender-protocol-settings eos '
          b"cbor:{b'contentencodings': [b'zlib']}"),
    ]),
    # --- responses ---------------------------------------------------------
    CASE('extra_deferred2plusservererror', deferoutput=True, steps=[
        CMD(1, 1, b'command1', {}),
        CMD(1, 3, b'command2', {}),
        CMD(1, 5, b'command3', {}),
        MOS(),
        RESP(1, [b'response1']),
        RESP(3, [b'response2']),
        SERR(5, b'server failure'),
        EOF(),
        CONSUME(),
    ]),
    CASE('extra_deferredeofempty', deferoutput=True, steps=[
        CMD(1, 1, b'command1', {}),
        EOF(),
    ]),
    CASE('extra_consumeoutoforder', [
        CMD(1, 1, b'command1', {}),
        CMD(1, 3, b'command2', {}),
        MOS(),
        RESP(1, [b'response1'], label='first'),
        RESP(3, [b'response2'], label='second'),
        CONSUME('second'),  # lazy: stream-begin lands on request 3's frames
        CONSUME('first'),
    ]),
    CASE('extra_twooutputstreams', [
        CMD(1, 1, b'command1', {}),
        CMD(1, 3, b'command2', {}),
        MOS(),
        MOS(),
        RESP(1, [b'on4'], stream=4),
        CONSUME(),
        RESP(3, [b'on2'], stream=2),
        CONSUME(),
    ]),
    CASE('extra_multipleobjects', [
        CMD(1, 1, b'command1', {}),
        MOS(),
        RESP(1, [b'a', 1, -2, None, True, False, [b'x'], {b'k': b'v'}]),
        CONSUME(),
    ]),
    CASE('extra_emptyresponse', [
        CMD(1, 1, b'command1', {}),
        MOS(),
        RESP(1, []),
        CONSUME(),
        CMD(1, 1, b'command1', {}),
    ]),
    CASE('extra_responsenotactive', [
        MOS(),
        RESP(7, [b'x']),
        CONSUME(),
    ]),
    CASE('extra_commanderror', [
        CMD(1, 1, b'command1', {}),
        MOS(),
        CERR(1, b'bad thing: %s', [b'arg1']),
        CONSUME(),
        CMD(1, 1, b'command1', {}),
    ]),
    CASE('extra_commanderrornoargs', [
        CMD(1, 1, b'command1', {}),
        MOS(),
        CERR(1, b'plain failure'),
        CONSUME(),
    ]),
    CASE('extra_servererrortoolong', [
        CMD(1, 1, b'command1', {}),
        MOS(),
        SERR(1, b'e' * (framing.DEFAULT_MAX_FRAME_SIZE + 1)),
        CONSUME(),
    ]),
    CASE('extra_largelist', [
        CMD(1, 1, b'command1', {}),
        MOS(),
        RESP(1, [_BIGLIST]),
        CONSUME(),
    ]),
    CASE('extra_largedict', [
        CMD(1, 1, b'command1', {}),
        MOS(),
        RESP(1, [_BIGDICT]),
        CONSUME(),
    ]),
    CASE('extra_nested', [
        CMD(1, 1, b'command1', {}),
        MOS(),
        RESP(1, [_NESTED]),
        CONSUME(),
    ]),
    CASE('extra_bytes32768', [
        CMD(1, 1, b'command1', {}),
        MOS(),
        RESP(1, [_noise(32768)]),
        CONSUME(),
    ]),
    CASE('extra_bytes32767', [
        CMD(1, 1, b'command1', {}),
        MOS(),
        RESP(1, [_noise(32767)]),
        CONSUME(),
    ]),
    # --- content encodings (server picks its preferred of the client's) ----
    CASE('extra_zlib_bytes32768', [
        F(b'0 1 stream-begin sender-protocol-settings eos ' + _SETTINGSZLIB),
        CMD(1, 1, b'command1', {}),
        MOS(),
        RESP(1, [_noise(32768)]),
        CONSUME(),
    ]),
    CASE('extra_zlib_bytes32767', [
        F(b'0 1 stream-begin sender-protocol-settings eos ' + _SETTINGSZLIB),
        CMD(1, 1, b'command1', {}),
        MOS(),
        RESP(1, [_noise(32767)]),
        CONSUME(),
    ]),
    CASE('extra_zlib_twoobjects_nested', [
        F(b'0 1 stream-begin sender-protocol-settings eos ' + _SETTINGSZLIB),
        CMD(1, 1, b'command1', {}),
        MOS(),
        RESP(1, [b'response', _NESTED]),
        CONSUME(),
    ]),
    CASE('extra_zstdpreferred', [
        F(b'0 1 stream-begin sender-protocol-settings eos '
          b"cbor:{b'contentencodings': [b'identity', b'zlib', b'zstd-8mb']}"),
        CMD(1, 1, b'command1', {}),
        MOS(),
        RESP(1, [b'response']),
        CONSUME(),
    ]),
    CASE('extra_unknownencodingsonly', [
        F(b'0 1 stream-begin sender-protocol-settings eos '
          b'cbor:{b"contentencodings": [b"a", b"b"]}'),
        CMD(1, 1, b'command1', {}),
        MOS(),
        RESP(1, [b'response']),
        CONSUME(),
    ]),
]

CASES = UPSTREAM_CASES + EXTRA_CASES


# ---------------------------------------------------------------------------
# Rendering helpers
# ---------------------------------------------------------------------------

_STREAMFLAGNAMES = sorted(framing.STREAM_FLAGS.items(), key=lambda kv: kv[1])
_TYPENAMES = {v: k for k, v in framing.FRAME_TYPES.items()}
HUMAN_MAX_PAYLOAD = 1024  # bigger frames get "human": null


def _flagsstr(value, names):
    """Flags as ffs() reads them: known names joined by |, rest as int."""
    parts = []
    for name, bit in sorted(names, key=lambda kv: kv[1]):
        if value & bit:
            parts.append(name)
            value &= ~bit
    if value or not parts:
        parts.append(b'%d' % value)
    return b'|'.join(parts)


def _payloadstr(payload):
    """Payload as ffs() reads it: cbor:<python literal> when that re-encodes
    to the same bytes, else an escaped byte string."""
    try:
        values = cborutil.decodeall(payload)
        if len(values) == 1:
            lit = pyrepr(values[0]).encode('ascii')
            if cbor(stringutil.evalpythonliteral(lit)) == payload:
                return b'cbor:' + lit
    except Exception:
        pass
    return stringutil.escapestr(payload)


def _isplain(s):
    return all(0x20 <= c < 0x7F for c in bytearray(s))


def humanframe(framebytes, original=None):
    """A string ffs() turns into exactly ``framebytes`` (None if there is
    none or the payload is big). Prefers the test's own string when it is
    printable ASCII; otherwise escapes the payload of a canonical rendering."""
    framebytes = bytes(framebytes)
    if original is not None and _isplain(original):
        assert bytes(ffs(original)) == framebytes
        return original.decode('ascii')
    h = framing.parseheader(bytearray(framebytes))
    payload = framebytes[framing.FRAME_HEADER_SIZE:]
    if h.typeid not in framing.FRAME_TYPE_FLAGS:
        return None  # ffs() cannot express unknown frame types
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
    """"<ExceptionType>: <message>". A lone bytes argument (Mercurial's usual
    style, e.g. CBORDecodeError(b'...')) is shown as text, not as b'...'."""
    if len(e.args) == 1 and isinstance(e.args[0], bytes):
        msg = _decode(e.args[0])
    else:
        msg = _decode(stringutil.forcebytestr(e))
    return '%s: %s' % (type(e).__name__, msg)


def _decode(b):
    try:
        return b.decode('utf-8', 'backslashreplace')
    except TypeError:  # Python 2: no backslashreplace when decoding
        return b.decode('utf-8', 'replace')


def tohex(b):
    return binascii.hexlify(bytes(b)).decode('ascii')


def pyrepr(o):
    """Python literal syntax, b'' prefixes included (on Python 2 too, so the
    human strings stay valid for the Python 3 grammar of 5.x/6.0)."""
    if pycompat.ispy3:
        return repr(o)
    return pycompat.sysstr(stringutil.pprint(o, bprefix=True))


# ---------------------------------------------------------------------------
# Running a case against the real reactor
# ---------------------------------------------------------------------------


class Stop(Exception):
    """A reactor call raised: the case ends there."""


def runcase(case):
    reactor = framing.serverreactor(
        uimod.ui(), deferoutput=case['deferoutput']
    )
    instreams = {}  # stream id -> framing.stream used by createcommandframes
    outstreams = {}  # stream id -> outputstream from makeoutputstream()
    state = {'lastout': None, 'lastgen': None}
    gens = {}  # event index -> framegen returned by the reactor
    labels = {}  # step label -> event index
    events, results = [], []

    def call(fn):
        try:
            return fn()
        except Exception as e:
            results.append({'raises': fmtexc(e)})
            raise Stop()

    def record_action(res, label=None):
        """Record an (action, meta) result; keep its framegen for CONSUME."""
        action, meta = res
        meta = dict(meta)
        gen = meta.pop(b'framegen', None)
        out = {'action': pycompat.sysstr(action)}
        try:
            out['json'] = reflectjson((action, meta))
        except Exception as e:
            out['json_raises'] = fmtexc(e)
        if action == b'sendframes':
            out['frames_hex'] = None
        idx = len(results)
        results.append(out)
        if gen is not None:
            gens[idx] = gen
            state['lastgen'] = idx
        if label:
            labels[label] = idx

    def feed(framebytes, event):
        """sendframes() from the test: parse the header, rebuild a frame with
        the payload slice, and hand it to onframerecv()."""
        events.append(event)
        header = framing.parseheader(framebytes)
        payload = framebytes[framing.FRAME_HEADER_SIZE:]
        assert len(payload) == header.length
        fr = framing.frame(
            header.requestid,
            header.streamid,
            header.streamflags,
            header.typeid,
            header.flags,
            payload,
        )
        record_action(call(lambda: reactor.onframerecv(fr)))

    def outstream(step):
        sid = step['stream'] if step['stream'] is not None else state['lastout']
        return outstreams[sid]

    try:
        for step in case['steps']:
            op = step['op']
            if op == 'ffs':
                fb = ffs(step['human'])
                feed(fb, {
                    'event': 'frame',
                    'hex': tohex(fb),
                    'human': humanframe(fb, step['human']),
                })
            elif op == 'command':
                sid = step['stream']
                if sid not in instreams:
                    instreams[sid] = framing.stream(sid)
                data = step['data']
                datafh = util.bytesio(data) if data is not None else None
                origin = 'createcommandframes(stream(%d), %d, %s, %s%s)' % (
                    sid,
                    step['requestid'],
                    pyrepr(step['command']),
                    pyrepr(step['args']),
                    ', datafh=bytesio(%s)' % pyrepr(data) if data is not None
                    else '',
                )
                frames = framing.createcommandframes(
                    instreams[sid],
                    step['requestid'],
                    step['command'],
                    step['args'],
                    datafh,
                )
                # Lazily, frame by frame, like list(sendcommandframes(...)).
                for n, fb in enumerate(frames):
                    feed(fb, {
                        'event': 'frame',
                        'hex': tohex(fb),
                        'human': humanframe(fb),
                        'origin': '%s frame %d' % (origin, n + 1),
                    })
            elif op == 'makeoutputstream':
                events.append({'event': 'makeoutputstream'})
                s = call(reactor.makeoutputstream)
                outstreams[s.streamid] = s
                state['lastout'] = s.streamid
                results.append({'streamid': s.streamid})
            elif op == 'response':
                objs = step['objs']
                encoded = [cbor(o) for o in objs]
                # The Rust side rebuilds the objects from their CBOR: make sure
                # that gives back exactly what the reactor is handed here.
                for o, enc in zip(objs, encoded):
                    assert cborutil.decodeall(enc) == [o]
                s = outstream(step)
                events.append({
                    'event': 'response',
                    'requestid': step['requestid'],
                    'streamid': s.streamid,
                    'objects_cbor_hex': [tohex(e) for e in encoded],
                })
                record_action(call(lambda: reactor.oncommandresponsereadyobjects(
                    s, step['requestid'], list(objs))), step['label'])
            elif op == 'servererror':
                s = outstream(step)
                events.append({
                    'event': 'servererror',
                    'requestid': step['requestid'],
                    'streamid': s.streamid,
                    'message_hex': tohex(step['msg']),
                })
                record_action(call(lambda: reactor.onservererror(
                    s, step['requestid'], step['msg'])), step['label'])
            elif op == 'commanderror':
                s = outstream(step)
                cargs = step['cargs']
                events.append({
                    'event': 'commanderror',
                    'requestid': step['requestid'],
                    'streamid': s.streamid,
                    'message_hex': tohex(step['msg']),
                    'args_cbor_hex': tohex(cbor(cargs)) if cargs is not None
                    else None,
                })
                record_action(call(lambda: reactor.oncommanderror(
                    s, step['requestid'], step['msg'], cargs)), step['label'])
            elif op == 'eof':
                events.append({'event': 'eof'})
                record_action(call(reactor.oninputeof), step['label'])
            elif op == 'consume':
                of = labels[step['label']] if step['label'] else state['lastgen']
                assert of is not None and of in gens, case['name']
                events.append({'event': 'consume', 'of': of})
                frames = []
                try:
                    for fb in gens[of]:
                        frames.append(tohex(fb))
                except Exception as e:
                    results.append({'raises': fmtexc(e), 'frames_hex': frames})
                    raise Stop()
                results.append({'frames_hex': frames})
            else:
                raise AssertionError('unknown step %r' % op)
            assert len(events) == len(results)

    except Stop:
        pass  # the raising call's result is already recorded

    return events, results


def build():
    if RELEASE not in RELEASES:
        sys.exit('need Mercurial 6.0 or 4.8.2, got %s' % pycompat.sysstr(util.version()))
    names = [c['name'] for c in CASES]
    assert len(names) == len(set(names)), 'duplicate case names'
    cases = []
    for case in CASES:
        events, results = runcase(case)
        cases.append({
            'name': case['name'],
            'deferoutput': case['deferoutput'],
            'events': events,
            'results': results,
        })
    doc = {
        'generator': GENERATOR,
        'mercurial': pycompat.sysstr(RELEASE),
        'cases': cases,
    }
    return (json.dumps(doc, indent=2, ensure_ascii=True, separators=(',', ': '))
            + '\n').encode('ascii')


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
        except (IOError, OSError):
            current = None
        if current != data:
            sys.stderr.write('%s is out of date\n' % opts.output)
            return 1
        return 0
    outdir = os.path.dirname(os.path.abspath(opts.output))
    if not os.path.isdir(outdir):
        os.makedirs(outdir)
    with open(opts.output, 'wb') as fh:
        fh.write(data)
    sys.stderr.write('wrote %d cases to %s\n' % (len(CASES), opts.output))
    return 0


if __name__ == '__main__':
    sys.exit(main())
