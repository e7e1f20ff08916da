#!/usr/bin/env python2.7
"""Decode a recproxy.py recording with Mercurial 4.7.2's own client code.

    "$(dirname "$(scripts/hg-install.sh 4.7.2)")/python" tests/support/hgdecode47.py DIR
        [--check] [-q]

The 4.6/4.7 (revision 0005) counterpart of hgdecode.py (6.0): for every
exchange NNN.json in DIR (written by tests/support/recproxy.py, or by
scripts/gen-hg47-client-cases.py), writes DIR/NNN.decoded.json and prints a
one-line summary (-q: none). --check writes nothing and exits 1 if an
existing NNN.decoded.json differs from what would be written. The output is
deterministic (keys sorted). Python 2.7 with Mercurial 4.7.2 importable.

A body of Content-Type application/mercurial-exp-framing-0005 is decoded
with the machinery a 4.7.2 client uses, fed as httppeer.sendv2request() and
httpv2executor._handleresponse() feed it:

1. The request body's frames go through a real serverreactor, which yields
   each request's id, command, args and data.
2. A clientreactor(hasmultiplesend=False, buffersends=True) wrapped in a
   wireprotov2peer.clienthandler issues the same commands in request-id
   order; "request.reproduced" says whether the frames it produces are
   byte-identical to the recorded request body (true for anything a 4.7.2
   client sent).
3. The response body is read with wireprotoframing.readframe() and each
   frame handed to clienthandler._processframe(). Two departures from the
   real client, so that every frame gets a verdict:
   * the real client's response thread ends at the first exception; here
     the exception is recorded ("stopped": the first one) and the next
     frame is fed to the same handler and reactor;
   * wireprotov2peer.COMMAND_DECODERS is emptied while frames are fed, so
     that the handler resolves every request with its commandresponse at
     eos (the real one also decodes heads, known, ... then, and raises from
     _processframe if that fails); the decoders are applied afterwards
     ("outcome").
   Each request's objects are what commandresponse.cborobjects() yields
   when iterated to the end, once its eos frame was seen (the 4.7.2 client
   decodes nothing before): one cbor2 CBORDecoder over the joined payloads.

Anything else: kind "cbor" (application/mercurial-cbor: cbor2 values read
to the end of the body), "text" or "empty", as hgdecode.py.

Values are rendered by conv() below, which unlike hgdecode.py's tells
every Python type apart (bytes from text, a float's exact bits, bytearray,
objects cbor2 makes): 4.7.2's cbor2 decodes all of them.

NNN.decoded.json (the hgdecode.py schema where it applies; see there):

    {"mercurial": "4.7.2", "seq", "method", "target", "status",
     "content_type", "body_size", "kind",
     "request": {"frames", "contentencodings": null,
                 "commands": [{"requestid", "command", "args",
                               "data_size"}], "reproduced", "raises"?},
     "encodings": [],                     # 4.7.2 decodes no streams
     "frames": [FRAME, ...],
     "responses": [RESPONSE, ...],
     "server_errors": [...], "rejected": [...],
     "stopped": null | {"frame": i | null, "raises": "..."},
     "unprocessed_frames": 0}

FRAME as hgdecode.py's, plus "raises" when the reactor raised on it and
"peer_raises" when clienthandler._processframe raised after the reactor
returned (4.7.2 does after every "error" action). "rejected" lists frames
the *reactor* refused ("error" without a request, or an exception of its
own); the handler's exceptions are in "stopped" only.

RESPONSE: {"requestid", "command", "objects", "status", "complete"
           (eos or error-response seen), "data_error": "..." | null (what
           iterating cborobjects() raised; objects holds what came
           before), "outcome": {"value"} | {"objects": true} |
           {"raises"} | {"unresolved": true}}
"""

from __future__ import absolute_import, print_function

import argparse
import warnings
import binascii
import glob
import io
import json
import os
import struct
import sys

from mercurial import (
    pycompat,
    util,
    wireprotoframing as framing,
    wireprotov2peer,
)
from mercurial.thirdparty import cbor
from mercurial.thirdparty.cbor.cbor2.types import (
    CBORSimpleValue,
    CBORTag,
    UndefinedType,
)

FRAMING = 'application/mercurial-exp-framing-0005'

# cbor2 compares text and non-UTF-8 bytes keys; Python 2 warns, and the
# warning is no finding.
warnings.simplefilter('ignore', UnicodeWarning)


def hexof(b):
    return binascii.hexlify(bytes(b)).decode('ascii')


def convbytes(v):
    """bytes as hgdecode.py renders them: text when UTF-8 (but 40 hex
    digits for 20 bytes with control characters), else hex."""
    try:
        s = v.decode('utf-8')
        # Python 2 lets encoded surrogates through; hgdecode.py's Python 3
        # (and hgframe) do not take them for text.
        if any(0xd800 <= ord(c) <= 0xdfff for c in s):
            raise UnicodeDecodeError('utf-8', v, 0, 1, 'surrogate')
    except UnicodeDecodeError:
        return hexof(v) if len(v) == 20 else {'hex': hexof(v)}
    if len(v) == 20 and any(c < u' ' or u'\x7f' <= c <= u'\x9f' for c in s):
        return hexof(v)
    return s


def opaque(v):
    """What hgframe's Value::Opaque holds for an object cbor2 decodes."""
    if isinstance(v, CBORTag):
        return u'CBORTag(%d, ...)' % v.tag
    if isinstance(v, CBORSimpleValue):
        return u'CBORSimpleValue(%d)' % v.value
    if isinstance(v, UndefinedType):
        return u'undefined'
    if type(v) is object:
        return u'<object object>'
    return u'<%s>' % type(v).__name__


def conv(v, _path=()):
    """A value as JSON, every Python type told apart (so that a comparison
    sees bytes against text, a float's exact bits, a bytearray...):
    None/bool/int (outside [-2**63, 2**64): {"int": "digits"}) as is;
    bytes as convbytes(); unicode {"text": s} ({"text-cp": [code points]}
    when it holds surrogates, which Python 2's UTF-8 codec lets through);
    float {"float": 16 hex digits of its IEEE bits}; bytearray
    {"bytearray": convbytes}; lists as arrays; sets {"set": [...]} sorted
    by their JSON; dicts as objects when every key renders as a JSON
    string, else {"map": [[k, v], ...]} sorted by their JSON; anything else
    {"opaque": what hgframe shows} ("<cyclic>" for a container met again
    inside itself, what a shared reference to an open container makes)."""
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, (int, long)):
        if -2 ** 63 <= v < 2 ** 64:
            return v
        return {'int': str(v)}
    if isinstance(v, float):
        return {'float': '%016x' % struct.unpack('>Q', struct.pack('>d', v))[0]}
    if isinstance(v, unicode):
        if any(0xd800 <= ord(c) <= 0xdfff for c in v):
            return {'text-cp': [ord(c) for c in v]}
        return {'text': v}
    if isinstance(v, bytearray):
        return {'bytearray': convbytes(bytes(v))}
    if isinstance(v, bytes):
        return convbytes(v)
    if not isinstance(v, (list, tuple, set, frozenset, dict)):
        return {'opaque': opaque(v)}
    if id(v) in _path:
        return {'opaque': u'<cyclic>'}
    path = _path + (id(v),)
    if isinstance(v, (list, tuple)):
        return [conv(x, path) for x in v]
    if isinstance(v, (set, frozenset)):
        return {'set': sorted((conv(x, path) for x in v),
                              key=lambda j: json.dumps(j, sort_keys=True))}
    items = [(conv(k, path), conv(x, path)) for k, x in v.items()]
    if all(isinstance(k, unicode) for k, _ in items):
        return dict(items)
    items.sort(key=lambda kv: json.dumps(kv, sort_keys=True))
    return {'map': [[k, x] for k, x in items]}


def fmtexc(e):
    t = type(e)
    name = t.__name__
    if t.__module__ != 'exceptions' and not t.__module__.startswith(
            'mercurial'):
        name = '%s.%s' % (t.__module__, name)
    if len(e.args) == 1 and isinstance(e.args[0], bytes):
        msg = e.args[0].decode('utf-8', 'replace')
    elif len(e.args) == 1 and isinstance(e.args[0], unicode):
        msg = e.args[0]
    else:
        try:
            msg = str(e).decode('utf-8', 'replace')
        except UnicodeError:
            msg = unicode(e)
    # Python 2's codec lets encoded surrogates through; JSON cannot carry
    # them alone (and hgframe's strings cannot hold them).
    msg = u''.join(u'\ufffd' if 0xd800 <= ord(c) <= 0xdfff else c
                   for c in msg)
    return u'%s: %s' % (name, msg)


_TYPENAMES = dict((v, k) for k, v in framing.FRAME_TYPES.items())


def _names(value, mapping):
    names = []
    bit = 1
    inv = dict((v, k) for k, v in mapping.items())
    while value >= bit:
        if value & bit:
            names.append(inv[bit] if bit in inv else '0x%02x' % bit)
        bit <<= 1
    return names


def describe(fr):
    return {
        'requestid': fr.requestid,
        'streamid': fr.streamid,
        'streamflags': _names(fr.streamflags, framing.STREAM_FLAGS),
        'type': (_TYPENAMES[fr.typeid] if fr.typeid in _TYPENAMES
                 else 'type-%d' % fr.typeid),
        'flags': _names(fr.flags, framing.FRAME_TYPE_FLAGS.get(fr.typeid, {})),
        'size': len(fr.payload),
    }


def readframes(body):
    fh = io.BytesIO(body)
    out = []
    while True:
        try:
            fr = framing.readframe(fh)
        except Exception as e:
            return out, e
        if fr is None:
            return out, None
        out.append(fr)


def decoderequest(body):
    frames, err = readframes(body)
    info = {
        'frames': [describe(f) for f in frames],
        'contentencodings': None,
        'commands': [],
    }
    if err is not None:
        info['raises'] = fmtexc(err)
    server = framing.serverreactor()
    for fr in frames:
        try:
            action, meta = server.onframerecv(fr)
        except Exception as e:
            info['raises'] = fmtexc(e)
            break
        if action == 'runcommand':
            info['commands'].append({
                'requestid': meta['requestid'],
                'command': meta['command'],
                'args': meta['args'],
                'data': meta['data'],
            })
        elif action == 'error':
            info['raises'] = 'serverreactor error: %s' % meta['message']
            break
    info['commands'].sort(key=lambda c: c['requestid'])
    return info


class Ui(object):
    def note(self, *args):
        pass


def allobjects(response):
    """commandresponse.cborobjects() to the end: (objects, error)."""
    objs = []
    try:
        for o in response.cborobjects():
            objs.append(o)
    except Exception as e:
        return objs, fmtexc(e)
    return objs, None


def decodeframes(reqbody, respbody):
    out = {'kind': 'frames'}
    req = decoderequest(reqbody)
    reactor = framing.clientreactor(hasmultiplesend=False, buffersends=True)
    handler = wireprotov2peer.clienthandler(Ui(), reactor)

    futures = {}
    for c in req['commands']:
        f = pycompat.futures.Future()
        list(handler.callcommand(c['command'], c['args'], f))
        rid = max(handler._requests)
        futures[c['requestid']] = (rid, f)
    produced = b''
    if req['commands']:
        produced = b''.join(map(bytes, handler.flushcommands()))
    req['reproduced'] = produced == reqbody and all(
        rid == orig for orig, (rid, f) in futures.items())

    seen = []
    realrecv = reactor.onframerecv

    def onframerecv(frame):
        try:
            res = realrecv(frame)
        except Exception as e:
            seen.append(('raises', e))
            raise
        seen.append(('returns', res))
        return res

    reactor.onframerecv = onframerecv

    frames, readerr = readframes(respbody)
    out['frames'] = []
    out['server_errors'] = []
    out['rejected'] = []
    out['stopped'] = None
    out['unprocessed_frames'] = 0
    eos = set()
    errored = set()
    decoders = dict(wireprotov2peer.COMMAND_DECODERS)
    wireprotov2peer.COMMAND_DECODERS.clear()
    try:
        for i, fr in enumerate(frames):
            d = describe(fr)
            if fr.typeid in (framing.FRAME_TYPE_ERROR_RESPONSE,
                             framing.FRAME_TYPE_TEXT_OUTPUT,
                             framing.FRAME_TYPE_PROGRESS,
                             framing.FRAME_TYPE_STREAM_SETTINGS):
                try:
                    d['payload'] = conv(cbor.loads(bytes(fr.payload)))
                except Exception as e:
                    d['payload_raises'] = fmtexc(e)
            out['frames'].append(d)
            nseen = len(seen)
            try:
                handler._processframe(fr)
                raised = None
            except Exception as e:
                raised = e
            kind, res = seen[nseen] if len(seen) > nseen else (None, None)
            if kind == 'raises':
                d['raises'] = fmtexc(res)
                out['rejected'].append({'frame': i, 'raises': fmtexc(res)})
            elif kind == 'returns':
                action, meta = res
                d['action'] = action
                if action == 'responsedata':
                    d['decoded_size'] = len(meta['data'])
                    d['expectmore'] = meta['expectmore']
                    d['eos'] = meta['eos']
                    if meta['eos']:
                        eos.add(fr.requestid)
                elif action == 'error':
                    d['message'] = conv(meta['message'])
                    if 'type' in meta:
                        d['errortype'] = conv(meta['type'])
                        errored.add(fr.requestid)
                        out['server_errors'].append({
                            'frame': i,
                            'requestid': meta['request'].requestid,
                            'type': conv(meta['type']),
                            'message': conv(meta['message']),
                        })
                    else:
                        out['rejected'].append(
                            {'frame': i, 'message': conv(meta['message'])})
                if raised is not None:
                    d['peer_raises'] = fmtexc(raised)
            if raised is not None and out['stopped'] is None:
                out['stopped'] = {'frame': i, 'raises': fmtexc(raised)}
    finally:
        wireprotov2peer.COMMAND_DECODERS.update(decoders)
    if readerr is not None and out['stopped'] is None:
        out['stopped'] = {'frame': None, 'raises': fmtexc(readerr)}
    out['encodings'] = []

    responses = []
    for c in req['commands']:
        rid, f = futures[c['requestid']]
        resp = handler._responses[rid]
        objs, dataerr = [], None
        if rid in eos:
            objs, dataerr = allobjects(resp)
        status = None
        if objs and isinstance(objs[0], dict):
            status = objs[0].get(b'status')
        r = {
            'requestid': rid,
            'command': conv(c['command']),
            'objects': [conv(o) for o in objs],
            'status': conv(status),
            'complete': rid in eos or rid in errored,
            'data_error': dataerr,
        }
        if not f.done():
            r['outcome'] = {'unresolved': True}
        elif f.exception() is not None:
            r['outcome'] = {'raises': fmtexc(f.exception())}
        elif c['command'] in decoders:
            try:
                it = resp.cborobjects()
                overall = next(it)
                if overall['status'] == 'ok':
                    r['outcome'] = {'value': conv(decoders[c['command']](it))}
                else:
                    r['outcome'] = {'raises': 'RepoError: %s' % (
                        wireprotov2peer.formatrichmessage(
                            overall['error']['message']))}
            except Exception as e:
                r['outcome'] = {'raises': fmtexc(e)}
        else:
            r['outcome'] = {'objects': True}
        responses.append(r)
    out['responses'] = responses
    req['commands'] = [{
        'requestid': c['requestid'],
        'command': conv(c['command']),
        'args': conv(c['args']),
        'data_size': (len(c['data'].getvalue()) if c['data'] is not None
                      else None),
    } for c in req['commands']]
    out['request'] = req
    return out


def decodeexchange(d, reqbody, respbody):
    ct = None
    for k, v in d.get('response_headers') or []:
        if k.lower() == 'content-type':
            ct = v
    out = {
        'mercurial': '4.7.2',
        'seq': d['seq'],
        'method': d['method'],
        'target': d['target'],
        'status': d['status'],
        'content_type': ct,
        'body_size': len(respbody),
    }
    if d['status'] is None:
        out['kind'] = 'empty'
        out['error'] = d.get('error')
    elif ct == FRAMING:
        out.update(decodeframes(reqbody, respbody))
    elif ct == 'application/mercurial-cbor':
        out['kind'] = 'cbor'
        fh = io.BytesIO(respbody)
        dec = cbor.CBORDecoder(fh)
        vals = []
        try:
            while fh.tell() < len(respbody):
                vals.append(conv(dec.decode()))
            out['values'] = vals
        except Exception as e:
            out['raises'] = fmtexc(e)
    elif not respbody:
        out['kind'] = 'empty'
    else:
        out['kind'] = 'text'
        out['text'] = conv(respbody)
    return out


def render(dec):
    return json.dumps(dec, indent=1, ensure_ascii=True, sort_keys=True,
                      separators=(',', ': ')) + '\n'


def decodedir(path, check=False, quiet=False):
    """Decode (or check) every exchange of a directory; the stale files."""
    names = sorted(glob.glob(os.path.join(path, '[0-9]*.json')))
    names = [n for n in names if os.path.basename(n)[:-5].isdigit()]
    if not names:
        raise SystemExit('no exchanges in %s' % path)
    stale = []
    for name in names:
        with open(name) as fh:
            d = json.load(fh)
        base = name[:-5]

        def body(suffix):
            try:
                with open(base + suffix, 'rb') as fh:
                    return fh.read()
            except IOError:
                return b''

        dec = decodeexchange(d, body('.req.bin'), body('.resp.bin'))
        text = render(dec)
        target = base + '.decoded.json'
        if check:
            try:
                with open(target) as fh:
                    same = fh.read() == text
            except IOError:
                same = False
            if not same:
                sys.stderr.write('%s is out of date\n' % target)
                stale.append(target)
        else:
            with open(target, 'w') as fh:
                fh.write(text)
        if not quiet and not check:
            line = '%03d %s %s -> %s %s' % (d['seq'], d['method'],
                                            d['target'], d['status'],
                                            dec['kind'])
            if dec['kind'] == 'frames':
                line += ' [%s] status=%s frames=%d rejected=%d%s%s' % (
                    ','.join(r['command'] for r in dec['responses']),
                    ','.join(str(r['status']) for r in dec['responses']),
                    len(dec['frames']), len(dec['rejected']),
                    ' stopped' if dec['stopped'] else '',
                    '' if dec['request']['reproduced']
                    else ' NOT-REPRODUCED')
            print(line)
    return stale


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('dir')
    ap.add_argument('-q', '--quiet', action='store_true')
    ap.add_argument('--check', action='store_true')
    opts = ap.parse_args()
    if util.version().split('+')[0] != '4.7.2':
        sys.exit('need Mercurial 4.7.2')
    return 1 if decodedir(opts.dir, opts.check, opts.quiet) else 0


if __name__ == '__main__':
    sys.exit(main())
