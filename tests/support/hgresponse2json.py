"""Turn `hg debugwireproto --peer http2` output into JSON.

Reads the tool's output on stdin and prints a JSON list with one entry per
`response:` block, converting Python values the way hgframe's `send --json`
renders values: bytes of 20 that are not UTF-8 as 40-digit hex, UTF-8 bytes
as strings, other bytes as {"hex": ...}, sets as {"set": [...]}, dicts
with string keys as objects. Used by tests/remote_hg.rs to compare what
Mercurial's own client decodes with what hgframe decodes.
"""
import json
import sys


def conv(v):
    if isinstance(v, bool) or v is None or isinstance(v, int):
        return v
    if isinstance(v, bytes):
        try:
            s = v.decode('utf-8')
        except UnicodeDecodeError:
            return v.hex() if len(v) == 20 else {'hex': v.hex()}
        # a node id: 20 bytes that are not printable text
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


def main():
    text = sys.stdin.read()
    out = []
    blocks = text.split('\nresponse: ')[1:]
    for b in blocks:
        lines = b.split('\n')
        body = [lines[0]]
        for l in lines[1:]:
            if l.startswith(('  ', ']', '}', ')')) and not l.startswith('  s>'):
                body.append(l)
            else:
                break
        src = '\n'.join(body)
        if src.startswith('gen['):
            src = src[3:]
        val = eval(src, {'__builtins__': {}}, {'set': set})
        out.append(conv(val))
    json.dump(out, sys.stdout)


main()
