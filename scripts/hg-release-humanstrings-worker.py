# -*- coding: utf-8 -*-
"""Worker of scripts/gen-hg-release-humanstrings.py; runs on the Python of an
old Mercurial release (Python 2.7 for 4.x; any release 4.6 ... 6.0 works).

Reads a JSON list of hex strings on stdin, feeds each decoded byte string to
that release's wireprotoframing.makeframefromhumanstring and writes a JSON
list of results on stdout, one per input, in order:

    {"ok": true, "frame_hex": "..."}
    {"ok": false, "error": "<ExceptionType>: <message>"}
    + "warnings": [...] when Python warned during the call

Exception types outside Python's builtins are qualified by module
(`struct.error`, `mercurial.thirdparty.cbor.cbor2.encoder.CBOREncodeError`).
Memory addresses in messages become `0x...`, so re-runs give the same bytes.
"""

from __future__ import absolute_import, print_function

import binascii
import json
import re
import sys
import warnings

from mercurial import util
from mercurial import wireprotoframing as framing

ADDRESS_RE = re.compile(r" at 0x[0-9a-fA-F]+")
BUILTIN_MODULES = ("exceptions", "builtins", "__builtin__")


def text(x):
    """An exception message or warning as text, whatever Python made it."""
    if isinstance(x, bytes):
        return x.decode("utf-8", "replace")
    try:
        return u"%s" % (x,)
    except UnicodeDecodeError:
        return str(x).decode("utf-8", "replace")


def run(s):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            frame = framing.makeframefromhumanstring(s)
            result = {"ok": True, "frame_hex": binascii.hexlify(bytes(frame)).decode("ascii")}
        except Exception as e:  # every failure is data
            name = type(e).__name__
            if type(e).__module__ not in BUILTIN_MODULES:
                name = "%s.%s" % (type(e).__module__, name)
            msg = ADDRESS_RE.sub(" at 0x...", text(e))
            result = {"ok": False, "error": u"%s: %s" % (name, msg)}
    msgs = []
    for w in caught:
        m = u"%s: %s" % (w.category.__name__, text(w.message))
        if m not in msgs:
            msgs.append(m)
    if msgs:
        result["warnings"] = msgs
    return result


def main():
    data = sys.stdin.read()
    inputs = json.loads(data)
    out = [run(binascii.unhexlify(h)) for h in inputs]
    sys.stdout.write(json.dumps({"version": util.version().decode("ascii") if isinstance(util.version(), bytes)
                                 else util.version(), "results": out}))


if __name__ == "__main__":
    main()
