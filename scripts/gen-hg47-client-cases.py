#!/usr/bin/env python2.7
"""Exchanges a 4.7.2 client could have, decoded by Mercurial 4.7.2 itself.

Writes tests/data/hg47/client-cases/: for every case below, the request
body Mercurial 4.7.2's own client writes for the case's commands
(clientreactor + wireprotov2peer.clienthandler, as httppeer.sendv2request
sets them up), a response body built frame by frame with 4.7.2's
makeframefromhumanstring (or raw bytes), and NNN.json in the shape
tests/support/recproxy.py records (plus "case" and "about"); then
tests/support/hgdecode47.py writes each NNN.decoded.json. Nothing expected
is written by hand: what the client does with each response is what 4.7.2's
code does with it. The cases cover what a live 4.7.2 server does not send:
values split over frames, interleaved requests, shareable values referred
to from a later value, bad CBOR, error-response frames of every shape,
frame types and flags the 4.7.2 client refuses, frames of requests it did
not send, responses that end early, bodies cut inside a frame.

    "$(dirname "$(scripts/hg-install.sh 4.7.2)")/python" scripts/gen-hg47-client-cases.py
    ... --check      # exit 1 if the committed files differ
    ... -o DIR       # write elsewhere
"""

from __future__ import absolute_import, print_function

import argparse
import filecmp
import json
import os
import shutil
import sys
import tempfile

from mercurial import (
    pycompat,
    util,
    wireprotoframing as framing,
    wireprotov2peer,
)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, 'tests', 'support'))
import hgdecode47  # noqa: E402

DEFAULT_OUTPUT = os.path.join(ROOT, 'tests', 'data', 'hg47', 'client-cases')
FRAMING = 'application/mercurial-exp-framing-0005'
ffs = framing.makeframefromhumanstring

NODE = b'\x97\x9b\xe5\xfc\xca\x13\xe0\x14\xf2\xd6\xdaN\x93P2np\xfe\x11\x87'
OK = "cbor:{b'status': b'ok'}"


def raw(requestid, streamid, streamflags, typeid, flags, payload):
    return framing.makeframe(requestid, streamid, streamflags, typeid, flags,
                             payload)


def cbor(v):
    from mercurial.thirdparty import cbor as c
    return c.dumps(v, canonical=True)


# (name, about, [(command, args)], [frame: human string or bytes][, bytes
# cut off the end of the body])
CASES = [
    ('heads', 'one frame: the status map and the heads',
     [('heads', {})],
     [raw(1, 2, 1, 3, 2, cbor({b'status': b'ok'}) + cbor([NODE]))]),
    ('split-values', 'values split over continuation frames, mid-string',
     [('listkeys', {b'namespace': b'bookmarks'})],
     [raw(1, 2, 1, 3, 1, cbor({b'status': b'ok'})[:5]),
      raw(1, 2, 0, 3, 1, cbor({b'status': b'ok'})[5:] +
          cbor({b'bm': b'x' * 100})[:40]),
      raw(1, 2, 0, 3, 1, cbor({b'bm': b'x' * 100})[40:]),
      b'1 2 0 command-response eos ']),
    ('multirequest', 'three requests answered interleaved on one stream',
     [('heads', {}), ('listkeys', {b'namespace': b'phases'}),
      ('known', {b'nodes': [NODE, b'\x00' * 20]})],
     [b'3 2 stream-begin command-response continuation ' + OK,
      raw(1, 2, 0, 3, 1, cbor({b'status': b'ok'})),
      raw(5, 2, 0, 3, 2, cbor({b'status': b'ok'}) + cbor(b'10')),
      b"3 2 0 command-response eos cbor:{b'publishing': b'True'}",
      raw(1, 2, 0, 3, 2, cbor([NODE]))]),
    ('args', 'arguments of every type the request map carries',
     [('known', {b'nodes': [NODE], b'i': -7, b'big': 2 ** 70, b'f': 1.5,
                 b't': u'caf\xe9', b'n': None, b'b': True,
                 b'd': {b'k': [1, {}]}})],
     [b'1 2 stream-begin command-response eos ' + OK]),
    ('large-args', 'a request map over 32768 bytes: three request frames',
     [('known', {b'nodes': [b'%020d' % i for i in range(3300)]})],
     [b'1 2 stream-begin command-response eos ' + OK]),
    ('status-error', 'a command error: status error and its message',
     [('lookup', {b'key': b'nosuchrev'})],
     [b"1 2 stream-begin command-response eos cbor:{b'status': b'error', "
      b"b'error': {b'message': [{b'msg': b'unknown revision %s', "
      b"b'args': [b'nosuchrev']}]}}"]),
    ('error-response', 'an error-response frame: the 4.7.2 peer raises on it',
     [('heads', {}), ('branchmap', {})],
     [b"1 2 stream-begin error-response 0 cbor:{b'type': b'server', "
      b"b'message': [{b'msg': b'boom'}]}",
      b'3 2 0 command-response eos ' + OK,
      b'1 2 0 command-response eos ' + OK]),
    ('error-response-shapes', 'error-response payloads cbor.loads and '
     'm[type], m[message] raise on',
     [('heads', {})] * 7,
     [b'1 2 stream-begin error-response 0 ',
      b"3 2 0 error-response 0 cbor:[b'type']",
      b"5 2 0 error-response 0 cbor:{b'type': b'x'}",
      b"7 2 0 error-response 0 cbor:{u'type': 1, u'message': u'm'}",
      b'9 2 0 error-response 0 cbor:7',
      b"11 2 0 error-response 0 cbor:u'text'",
      raw(13, 2, 0, 5, 0, b'\xa2' + cbor(b'type') + b'\x01' +
          cbor(b'message') + b'\x02\xff\xff')]),
    ('refused-types', 'text-output, progress and stream-settings frames '
     'and the encoded flag: the 4.7.2 reactor raises',
     [('heads', {})],
     [b"1 2 stream-begin text-output 0 cbor:[{b'msg': b'hi'}]",
      b"1 2 0 progress 0 cbor:{b'pos': 1}",
      b"1 2 0 stream-settings 0 cbor:b'zlib'",
      b'1 2 encoded command-response continuation x',
      b'1 2 0 command-response eos ' + OK]),
    ('streams', 'odd stream, unknown stream, a stream ended then reused',
     [('heads', {})],
     [b'1 1 stream-begin command-response continuation ' + OK,
      b'1 4 0 command-response continuation ' + OK,
      b'1 2 stream-begin|stream-end command-response continuation ' + OK,
      b'1 2 0 command-response continuation x',
      b'1 2 stream-begin command-response eos ' + OK]),
    ('inactive', 'frames of requests not sent, and after eos',
     [('heads', {})],
     [b'2 2 stream-begin command-response eos ' + OK,
      b'3 2 0 command-response eos ' + OK,
      b'1 2 0 command-response eos ' + OK,
      b'1 2 0 command-response eos ' + OK]),
    ('bad-cbor', 'data that is not CBOR: the values before the error '
     'are read',
     [('capabilities', {}), ('heads', {}), ('branchmap', {})],
     [raw(1, 2, 1, 3, 2, cbor({b'status': b'ok'}) + b'\x1c'),
      raw(3, 2, 0, 3, 2, cbor({b'status': b'ok'}) + b'\x62\xc3'),
      raw(5, 2, 0, 3, 2, cbor({b'status': b'ok'}) + b'\x83\x01')]),
    ('shared', 'shareable values referred to from a later value; a '
     'shareable byte string is never filled; references by negative, bool, '
     'text and huge indexes',
     [('capabilities', {})] * 4,
     [raw(1, 2, 1, 3, 2, cbor({b'status': b'ok'}) +
          b'\xd8\x1c\x82\x01\x02' + b'\x82\xd8\x1d\x00\xd8\x1d\x00' +
          b'\xd8\x1c\x41a' + b'\xd8\x1d\x01'),
      raw(3, 2, 0, 3, 2, cbor({b'status': b'ok'}) +
          b'\xd8\x1c\x81\x01' + b'\xd8\x1d\x20' + b'\xd8\x1d\xf5'),
      raw(5, 2, 0, 3, 2, cbor({b'status': b'ok'}) + b'\xd8\x1d\x61x'),
      raw(7, 2, 0, 3, 2, cbor({b'status': b'ok'}) +
          b'\xd8\x1d\xc2\x49\x40' + b'\x00' * 8)]),
    ('lenient', 'what cbor2 reads that cborutil does not: text, floats, '
     'bignums, indefinite lengths, sets, simple values',
     [('capabilities', {})],
     [raw(1, 2, 1, 3, 2, cbor({b'status': b'ok'}) +
          b'\x63abc' + b'\xf9\x3e\x00' + b'\xfb\x3f\xb9\x99\x99\x99\x99'
          b'\x99\x9a' + b'\xc2\x41\x05' + b'\x5f\x41a\x41b\xff'
          + b'\x9f\x01\xff' + b'\xbf\x41k\x01\xff' + b'\xd9\x01\x02\x82\x01\x02'
          + b'\xf4\xf5\xf6')]),
    ('no-eos', 'responses that end before their eos frame',
     [('heads', {}), ('branchmap', {})],
     [b'1 2 stream-begin command-response continuation ' + OK,
      b'3 2 0 command-response continuation ' + OK]),
    ('empty-eos', 'an eos frame without data, after data',
     [('heads', {}), ('branchmap', {})],
     [b'1 2 stream-begin command-response continuation ' + OK,
      b'1 2 0 command-response eos ',
      b'3 2 0 command-response eos ']),
    ('truncated', 'a body that ends inside a frame payload: readframe '
     'aborts there',
     [('heads', {})],
     [b'1 2 stream-begin command-response continuation ' + OK,
      b'1 2 0 command-response eos ' + OK],
     5),
    ('truncated-header', 'a body that ends inside a frame header',
     [('heads', {})],
     [b'1 2 stream-begin command-response continuation ' + OK,
      b'1 2 0 command-response eos ' + OK],
     11 + 4),
]


def build(case):
    name, about, commands, frames = case[:4]
    cut = case[4] if len(case) > 4 else 0
    reactor = framing.clientreactor(hasmultiplesend=False, buffersends=True)
    handler = wireprotov2peer.clienthandler(None, reactor)
    for command, args in commands:
        list(handler.callcommand(command, args, pycompat.futures.Future()))
    req = b''.join(map(bytes, handler.flushcommands()))
    resp = b''.join(bytes(f if isinstance(f, bytearray) else ffs(f))
                    for f in frames)
    resp = resp[:len(resp) - cut]
    target = ('/api/exp-http-v2-0001/ro/%s' % commands[0][0]
              if len(commands) == 1
              else '/api/exp-http-v2-0001/ro/multirequest')
    meta = {
        'case': name,
        'about': about,
        'seq': 0,
        'method': 'POST',
        'target': target,
        'status': 200,
        'response_headers': [['Content-Type', FRAMING]],
    }
    return meta, req, resp


def write(outdir):
    if os.path.isdir(outdir):
        shutil.rmtree(outdir)
    os.makedirs(outdir)
    for i, case in enumerate(CASES):
        meta, req, resp = build(case)
        meta['seq'] = i + 1
        base = os.path.join(outdir, '%03d' % (i + 1))
        with open(base + '.json', 'w') as fh:
            fh.write(json.dumps(meta, indent=1, sort_keys=True,
                                separators=(',', ': ')) + '\n')
        with open(base + '.req.bin', 'wb') as fh:
            fh.write(req)
        with open(base + '.resp.bin', 'wb') as fh:
            fh.write(resp)
    hgdecode47.decodedir(outdir, quiet=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('-o', '--output', default=DEFAULT_OUTPUT)
    ap.add_argument('--check', action='store_true')
    opts = ap.parse_args()
    if util.version().split('+')[0] != '4.7.2':
        sys.exit('need Mercurial 4.7.2')
    if not opts.check:
        write(opts.output)
        print('%d cases written to %s' % (len(CASES), opts.output))
        return 0
    tmp = tempfile.mkdtemp()
    try:
        fresh = os.path.join(tmp, 'cases')
        write(fresh)
        names = sorted(os.listdir(fresh))
        cmp = filecmp.cmpfiles(fresh, opts.output, names, shallow=False)
        extra = set(os.listdir(opts.output)) - set(names)
        bad = cmp[1] + cmp[2] + sorted(extra)
        for n in bad:
            sys.stderr.write('%s is out of date\n'
                             % os.path.join(opts.output, n))
        return 1 if bad else 0
    finally:
        shutil.rmtree(tmp)


if __name__ == '__main__':
    sys.exit(main())
