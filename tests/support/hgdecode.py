#!/usr/bin/env python3
"""Decode a recproxy.py recording with Mercurial 6.0's own client code.

    "$(dirname "$(scripts/hg-venv.sh)")/python3" tests/support/hgdecode.py DIR
        [--out OUTDIR] [--json] [--check] [-q]

For every exchange NNN.json in DIR (written by tests/support/recproxy.py),
writes OUTDIR/NNN.decoded.json (OUTDIR defaults to DIR) and prints a
one-line summary (-q: no summary). --json prints one JSON array with all
decoded exchanges on stdout instead of writing files; --check writes
nothing and exits 1 if any existing NNN.decoded.json differs from what would
be written. Otherwise the exit status is 0, even when the client rejected
something (that is data, recorded in the output); 1 for unusable input.
The output is deterministic (same recording, same bytes).

How a body is decoded depends on the response Content-Type:

* application/mercurial-exp-framing-0006 (wire protocol v2 frames): the
  machinery a 6.0 client uses, fed exactly as httppeer.sendv2request() and
  httpv2executor._handleresponse() feed it:
  1. The request body's frames go through a real serverreactor, which yields
     each request's id, command, args and redirect, and the client's
     sender-protocol-settings (content encoders).
  2. A clientreactor(hasmultiplesend=False, buffersends=True,
     clientcontentencoders=<the encoders the request announced, or None>)
     wrapped in a wireprotov2peer.clienthandler issues the same commands in
     request-id order; "request.reproduced" says whether the frames it
     produces are byte-identical to the recorded request body (true for
     anything a 6.0 client sent). Request ids are allocated 1, 3, 5, ... by
     the reactor, so a body from another client may not line up.
  3. The response body is read with wireprotoframing.readframe() and each
     frame handed to clienthandler._processframe() (what readdata() does).
     Like the real client, processing stops at the first exception;
     "stopped" then holds it and "unprocessed_frames" the frames not fed.
     Content redirects are recorded, not followed.
* application/mercurial-cbor (the v1 capabilities answer of a v2 server):
  cborutil.decodeall(body).
* anything else (text/plain errors, application/mercurial-0.x, HTML): the
  body as text (conv of the bytes).

Values are rendered with hgresponse2json.py's conv(): None/bool/int as is;
bytes as text when valid UTF-8 (except 20 bytes containing control
characters: 40 hex digits), else 40 hex digits when 20 bytes long, else
{"hex": ...}; lists as arrays; sets as {"set": [...]} sorted by their JSON;
dicts with all-text keys as objects, else {"map": [[k, v], ...]}. Added
here: an indefinite-length byte string chunk (cborutil.bytestringchunk, what
rawstorefiledata's file data decodes to) is {"chunk": <conv of the bytes>,
"first": bool, "last": bool}.

NNN.decoded.json:

    {"seq", "method", "target", "status", "content_type",
     "body_size",                          # response body, de-chunked
     "kind": "frames" | "cbor" | "text" | "empty",
     # kind "cbor":
     "values": [conv, ...] | "raises": "...",
     # kind "text":
     "text": conv(body),
     # kind "frames":
     "request": {
        "frames": [FRAME, ...],            # the request body's frames
        "contentencodings": [str, ...] | null,
        "commands": [{"requestid", "command", "args": conv,
                      "redirect": conv, "data_size": int | null}, ...],
        "reproduced": bool,
        "raises": "..."                    # only if the request can't be read
     },
     "encodings": [str, ...],              # stream-settings names seen,
                                           # in order, without repeats
     "frames": [FRAME, ...],               # response frames, in order
     "responses": [RESPONSE, ...],         # one per request, id order
     "server_errors": [{"frame": i, "requestid", "type": conv,
                        "message": conv}, ...],
                             # error-response frames, as the reactor
                             # reports them (action "error" with the
                             # frame's type and message list; the request
                             # is finished and errored)
     "rejected": [{"frame": i, "message": conv} | {"frame": i,
                  "raises": "..."}, ...],
                             # frames the reactor refused: its own checks
                             # (action "error" without a request) and
                             # exceptions (e.g. text-output, progress)
     "stopped": null | {"frame": i | null, "raises": "..."},
     "unprocessed_frames": int}

FRAME: {"requestid", "streamid", "streamflags": [names], "type": name,
        "flags": [names], "size": payload size on the wire,
        "action": the clientreactor's action (response frames only),
        "decoded_size": size after stream decoding ("responsedata" only),
        "expectmore", "eos": as the reactor returns them (0/1, 0/2),
        "message": conv (action "error"),
        "errortype": conv (action "error" from an error-response frame),
        "payload": [conv, ...] (stream-settings, error-response,
                   text-output and progress frames that are not encoded:
                   their CBOR payload, decoded for display with
                   cborutil.decodeall; the 6.0 client itself raises on
                   text-output/progress; a stream-settings payload split
                   over frames usually shows payload_raises),
        "payload_raises": "..." if that payload is not valid CBOR}
Flag names come from wireprotoframing's tables; unknown bits are written
"0xNN", unknown types "type-N".

RESPONSE: {"requestid", "command",
           "objects": [conv, ...],  # every CBOR value decoded from the
                                    # response data, in order, the leading
                                    # status map included
           "status": "ok" | "error" | "redirect" | null,
           "complete": bool,        # end of stream seen (or error frame)
           "redirect": {url, mediatype, size, fullhashes, ...} | null,
           "outcome": {"value": conv}      # decoded result (heads, known,
                                           # branchmap, listkeys, lookup,
                                           # pushkey: COMMAND_DECODERS)
                    | {"objects": true}    # an objects() stream (others)
                    | {"raises": "..."}    # what result() raises
                    | {"unresolved": true},# future never resolved: 6.0
                                           # reports "unfulfilled command
                                           # response"
           "stream_error": "..." | null}   # error stored for objects()
"""

import argparse
import glob
import io
import json
import os
import sys

from mercurial import (
    pycompat,
    ui as uimod,
    util,
    wireprotoframing as framing,
    wireprotov2peer,
)
from mercurial.utils import cborutil, stringutil

FRAMING = 'application/mercurial-exp-framing-0006'


def conv(v):
    if isinstance(v, cborutil.bytestringchunk):
        return {'chunk': conv(bytes(v)), 'first': v.isfirst, 'last': v.islast}
    if isinstance(v, bool) or v is None or isinstance(v, int):
        return v
    if isinstance(v, (bytes, bytearray, memoryview)):
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
    return repr(v)


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


_TYPENAMES = {v: k for k, v in framing.FRAME_TYPES.items()}


def _names(value, mapping):
    names = []
    bit = 1
    inv = {v: k for k, v in mapping.items()}
    while value >= bit:
        if value & bit:
            names.append(pycompat.sysstr(inv[bit]) if bit in inv
                         else '0x%02x' % bit)
        bit <<= 1
    return names


def describe(fr, size):
    return {
        'requestid': fr.requestid,
        'streamid': fr.streamid,
        'streamflags': _names(fr.streamflags, framing.STREAM_FLAGS),
        'type': (pycompat.sysstr(_TYPENAMES[fr.typeid])
                 if fr.typeid in _TYPENAMES else 'type-%d' % fr.typeid),
        'flags': _names(fr.flags, framing.FRAME_TYPE_FLAGS.get(fr.typeid, {})),
        'size': size,
    }


def readframes(body):
    """All frames of a body; (frames, error) with error the exception
    readframe() raised on a malformed tail, or None."""
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


def decoderequest(ui, body):
    """The commands in a request body, parsed by a real serverreactor."""
    frames, err = readframes(body)
    info = {
        'frames': [describe(f, len(f.payload)) for f in frames],
        'contentencodings': None,
        'commands': [],
    }
    if err is not None:
        info['raises'] = fmtexc(err)
    server = framing.serverreactor(ui)
    for fr in frames:
        try:
            action, meta = server.onframerecv(fr)
        except Exception as e:
            info['raises'] = fmtexc(e)
            break
        if action == b'runcommand':
            info['commands'].append({
                'requestid': meta[b'requestid'],
                'command': meta[b'command'],
                'args': meta[b'args'],
                'redirect': meta[b'redirect'],
                'data': meta[b'data'],
            })
        elif action == b'error':
            info['raises'] = 'serverreactor error: %s' % pycompat.sysstr(
                meta[b'message'])
            break
    settings = [f for f in frames
                if f.typeid == framing.FRAME_TYPE_SENDER_PROTOCOL_SETTINGS]
    if settings:
        info['contentencodings'] = list(
            server._sendersettings[b'contentencodings'])
    info['commands'].sort(key=lambda c: c['requestid'])
    return info


class Tap(object):
    """Wraps a commandresponse's bufferingdecoder to keep every value."""

    def __init__(self, decoder, log):
        self._decoder = decoder
        self._log = log

    def decode(self, data):
        return self._decoder.decode(data)

    def getavailable(self):
        values = self._decoder.getavailable()
        self._log.extend(values)
        return values


class Opener(object):
    def open(self, req):
        raise AssertionError('hgdecode does not follow redirects')


def decodeframes(ui, reqbody, respbody):
    out = {'kind': 'frames'}
    req = decoderequest(ui, reqbody)
    encoders = req['contentencodings']
    reactor = framing.clientreactor(
        ui, hasmultiplesend=False, buffersends=True,
        clientcontentencoders=encoders)
    handler = wireprotov2peer.clienthandler(ui, reactor, opener=Opener())

    futures = {}
    logs = {}
    redirects = {}
    for c in req['commands']:
        f = pycompat.futures.Future()
        list(handler.callcommand(c['command'], c['args'], f,
                                 redirect=c['redirect']))
        rid = max(handler._requests)
        futures[c['requestid']] = (rid, f)
        logs[rid] = []
        resp = handler._responses[rid]
        resp._decoder = Tap(resp._decoder, logs[rid])
    produced = b''
    if req['commands']:
        produced = b''.join(map(bytes, handler.flushcommands()))
    req['reproduced'] = produced == reqbody and all(
        rid == orig for orig, (rid, f) in futures.items())

    def followredirect(requestid, redirect):
        redirects[requestid] = redirect

    handler._followredirect = followredirect

    # Record what the reactor answers for each frame.
    seen = []
    realrecv = reactor.onframerecv

    def onframerecv(frame):
        res = realrecv(frame)
        seen.append(res)
        return res

    reactor.onframerecv = onframerecv

    frames, readerr = readframes(respbody)
    out['frames'] = []
    out['server_errors'] = []
    out['rejected'] = []
    out['stopped'] = None
    out['unprocessed_frames'] = 0
    for i, fr in enumerate(frames):
        d = describe(fr, len(fr.payload))
        if fr.typeid in (framing.FRAME_TYPE_ERROR_RESPONSE,
                         framing.FRAME_TYPE_TEXT_OUTPUT,
                         framing.FRAME_TYPE_PROGRESS,
                         framing.FRAME_TYPE_STREAM_SETTINGS):
            try:
                raw = fr.payload
                if fr.streamflags & framing.STREAM_FLAG_ENCODING_APPLIED:
                    raw = None  # encoded: only the reactor can decode it
                if raw is not None:
                    d['payload'] = conv(cborutil.decodeall(bytes(raw)))
            except Exception as e:
                d['payload_raises'] = fmtexc(e)
        out['frames'].append(d)
        nseen = len(seen)
        try:
            handler._processframe(fr)
        except Exception as e:
            if len(seen) > nseen:
                action, meta = seen[-1]
                d['action'] = pycompat.sysstr(action)
            out['stopped'] = {'frame': i, 'raises': fmtexc(e)}
            out['rejected'].append({'frame': i, 'raises': fmtexc(e)})
            out['unprocessed_frames'] = len(frames) - i - 1
            break
        action, meta = seen[-1]
        d['action'] = pycompat.sysstr(action)
        if action == b'responsedata':
            d['decoded_size'] = len(meta[b'data'])
            d['expectmore'] = meta[b'expectmore']
            d['eos'] = meta[b'eos']
        elif action == b'error':
            d['message'] = conv(meta[b'message'])
            if b'type' in meta:  # an error-response frame from the server
                d['errortype'] = conv(meta[b'type'])
                out['server_errors'].append({
                    'frame': i,
                    'requestid': meta[b'request'].requestid,
                    'type': conv(meta[b'type']),
                    'message': conv(meta[b'message']),
                })
            else:
                out['rejected'].append({'frame': i,
                                        'message': conv(meta[b'message'])})
    else:
        if readerr is not None:
            out['stopped'] = {'frame': None, 'raises': fmtexc(readerr)}

    out['encodings'] = []
    for d in out['frames']:
        if d['type'] == 'stream-settings' and d.get('payload'):
            name = d['payload'][0]
            if name not in out['encodings']:
                out['encodings'].append(name)

    responses = []
    for c in req['commands']:
        rid, f = futures[c['requestid']]
        resp = handler._responses[rid]
        objs = logs[rid]
        status = None
        if objs and isinstance(objs[0], dict):
            status = objs[0].get(b'status')
        r = {
            'requestid': rid,
            'command': conv(c['command']),
            'objects': [conv(o) for o in objs],
            'status': conv(status),
            'complete': resp._inputcomplete,
            'redirect': None,
            'stream_error': (fmtexc(resp._pendingerror)
                             if resp._pendingerror else None),
        }
        redir = redirects.get(rid) or resp._redirect
        if redir is not None:
            r['redirect'] = {
                k: conv(getattr(redir, k))
                for k in ('url', 'mediatype', 'size', 'fullhashes',
                          'fullhashseed', 'serverdercerts',
                          'servercadercerts')
            }
        if not f.done():
            r['outcome'] = {'unresolved': True}
        elif f.exception() is not None:
            r['outcome'] = {'raises': fmtexc(f.exception())}
        else:
            value = f.result()
            if c['command'] in wireprotov2peer.COMMAND_DECODERS:
                r['outcome'] = {'value': conv(value)}
            else:
                r['outcome'] = {'objects': True}
        responses.append(r)
    out['responses'] = responses
    req['commands'] = [{
        'requestid': c['requestid'],
        'command': conv(c['command']),
        'args': conv(c['args']),
        'redirect': conv(c['redirect']),
        'data_size': len(c['data']) if c['data'] is not None else None,
    } for c in req['commands']]
    req['contentencodings'] = conv(encoders)
    out['request'] = req
    return out


def decodeexchange(ui, d, reqbody, respbody):
    ct = None
    for k, v in d.get('response_headers') or []:
        if k.lower() == 'content-type':
            ct = v
    out = {
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
        return out
    if ct == FRAMING:
        out.update(decodeframes(ui, reqbody, respbody))
        # keep the documented key order: request first
        out['request'] = out.pop('request')
        for k in ('encodings', 'frames', 'responses', 'server_errors',
                  'rejected',
                  'stopped', 'unprocessed_frames'):
            out[k] = out.pop(k)
    elif ct == 'application/mercurial-cbor':
        out['kind'] = 'cbor'
        try:
            out['values'] = conv(cborutil.decodeall(respbody))
        except Exception as e:
            out['raises'] = fmtexc(e)
    elif not respbody:
        out['kind'] = 'empty'
    else:
        out['kind'] = 'text'
        out['text'] = conv(respbody)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('dir')
    ap.add_argument('--out', help='where to write NNN.decoded.json '
                                  '(default: DIR)')
    ap.add_argument('--json', action='store_true',
                    help='print one JSON array on stdout, write no files')
    ap.add_argument('-q', '--quiet', action='store_true')
    ap.add_argument('--check', action='store_true',
                    help='write nothing; exit 1 if an existing '
                         'NNN.decoded.json differs from what would be written')
    opts = ap.parse_args()
    if util.version().split(b'+')[0] != b'6.0':
        sys.exit('need Mercurial 6.0')
    ui = uimod.ui()
    names = sorted(glob.glob(os.path.join(opts.dir, '[0-9]*.json')))
    names = [n for n in names if os.path.basename(n)[:-5].isdigit()]
    if not names:
        sys.stderr.write('no exchanges in %s\n' % opts.dir)
        return 1
    outdir = opts.out or opts.dir
    everything = []
    stale = []
    for name in names:
        with open(name) as fh:
            d = json.load(fh)
        base = name[:-5]

        def body(suffix):
            try:
                with open(base + suffix, 'rb') as fh:
                    return fh.read()
            except FileNotFoundError:
                return b''

        dec = decodeexchange(ui, d, body('.req.bin'), body('.resp.bin'))
        text = json.dumps(dec, indent=1, ensure_ascii=True) + '\n'
        target = os.path.join(outdir, os.path.basename(base)
                              + '.decoded.json')
        if opts.json:
            everything.append(dec)
        elif opts.check:
            try:
                with open(target) as fh:
                    same = fh.read() == text
            except FileNotFoundError:
                same = False
            if not same:
                sys.stderr.write('%s is out of date\n' % target)
                stale.append(target)
        else:
            os.makedirs(outdir, exist_ok=True)
            with open(target, 'w') as fh:
                fh.write(text)
        if not opts.quiet and not opts.json and not opts.check:
            line = '%03d %s %s -> %s %s' % (d['seq'], d['method'],
                                            d['target'], d['status'],
                                            dec['kind'])
            if dec['kind'] == 'frames':
                cmds = ','.join(r['command'] for r in dec['responses'])
                st = [r['status'] for r in dec['responses']]
                line += (' [%s] %s status=%s frames=%d server_errors=%d '
                         'rejected=%d%s') % (
                    cmds, ','.join(dec['encodings']) or '-',
                    ','.join(map(str, st)), len(dec['frames']),
                    len(dec['server_errors']), len(dec['rejected']),
                    '' if dec['request']['reproduced'] else ' NOT-REPRODUCED')
            print(line)
    if opts.json:
        json.dump(everything, sys.stdout, indent=1, ensure_ascii=True)
        sys.stdout.write('\n')
    return 1 if stale else 0


if __name__ == '__main__':
    sys.exit(main())
