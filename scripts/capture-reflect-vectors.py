#!/usr/bin/env python3
"""Capture debugreflect answers of a real Mercurial release, for ~70 bodies.

Starts `hg serve` of the given release on 127.0.0.1 (a fresh repo in a
temporary directory, the same config knobs as tests/common/mod.rs APICONFIG),
POSTs every request body below to its debugreflect endpoint, records what
comes back and stops the server by its pid.

    python3 scripts/capture-reflect-vectors.py --release 4.7.2 \\
        --out tests/data/hg47/reflect-vectors.jsonl

(HG_PYTHON3=1 with --release 5.0.2 runs 5.0.2 on Python 3, see hg-install.sh.)

(`--hg PATH` overrides the `hg` that `scripts/hg-install.sh RELEASE` gives.)

The bodies are the same bytes for every release, so the files of two
releases can be compared line by line. Frame headers are the 8-byte layout
shared by revisions 0005 and 0006; type numbers are written as numbers (8 is
sender-protocol-settings in 0006 but stream-settings in 0005). Inputs only
are written here; everything recorded is what the server answered.

One JSON object per line, in the order of CASES:

    {"name": ..., "note": ...,
     "url": "/api/exp-http-v2-0001/ro/debugreflect",
     "request_hex": ...,
     "status": 200, "content_type": "text/plain",
     "server": "<the Server: header, e.g. BaseHTTP/0.3 Python/2.7.18>",
     "body_hex": ..., "body": "<latin-1 text of the body>",
     "error": "<last line of the traceback the server logged>"}  (500s only)

Python 2 releases differ from 6.0 mostly in which bodies give HTTP 500
(json.dumps of bytes that are not UTF-8, of sets, ...): "error" says why.
"""

import argparse
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ADDRESS_RE = re.compile(r" at 0x[0-9a-fA-F]+")  # object reprs: differ per run

APICONFIG = [
    "experimental.web.apiserver=true",
    "experimental.web.api.http-v2=true",
    "experimental.web.api.debugreflect=true",
    "web.push_ssl=false",
    "web.allow-push=*",
]

# release prefix -> (API name, framing media type)
APIS = [
    (("4.6", "4.7"), "exp-http-v2-0001", "application/mercurial-exp-framing-0005"),
    (("4.8", "4.9", "5.", "6.0"), "exp-http-v2-0003", "application/mercurial-exp-framing-0006"),
]


# ---------------------------------------------------------------------------
# Building request bodies
# ---------------------------------------------------------------------------


class Raw(object):
    """CBOR bytes inserted verbatim."""

    def __init__(self, b):
        self.b = b


class Tag(object):
    def __init__(self, tag, value):
        self.tag, self.value = tag, value


def Set(items):
    return Tag(258, list(items))


def _head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    for ai, fmt in ((24, ">B"), (25, ">H"), (26, ">L"), (27, ">Q")):
        if n < 1 << (8 * struct.calcsize(fmt)):
            return bytes([major << 5 | ai]) + struct.pack(fmt, n)
    raise ValueError(n)


def cb(v):
    """Minimal CBOR encoder; dicts keep their insertion order (no sorting),
    so a case says exactly which key order goes on the wire."""
    if isinstance(v, Raw):
        return v.b
    if isinstance(v, Tag):
        return _head(6, v.tag) + cb(v.value)
    if v is None:
        return b"\xf6"
    if v is True:
        return b"\xf5"
    if v is False:
        return b"\xf4"
    if isinstance(v, int):
        if v >= 0:
            if v < 1 << 64:
                return _head(0, v)
            n = v.to_bytes((v.bit_length() + 7) // 8, "big")
            return b"\xc2" + _head(2, len(n)) + n
        if -v - 1 < 1 << 64:
            return _head(1, -v - 1)
        m = -v - 1
        n = m.to_bytes((m.bit_length() + 7) // 8, "big")
        return b"\xc3" + _head(2, len(n)) + n
    if isinstance(v, float):
        return b"\xfb" + struct.pack(">d", v)
    if isinstance(v, bytes):
        return _head(2, len(v)) + v
    if isinstance(v, str):
        b = v.encode("utf-8", "surrogatepass")
        return _head(3, len(b)) + b
    if isinstance(v, (list, tuple)):
        return _head(4, len(v)) + b"".join(cb(x) for x in v)
    if isinstance(v, dict):
        return _head(5, len(v)) + b"".join(cb(k) + cb(x) for k, x in v.items())
    raise TypeError(type(v))


def fr(rid, sid, sflags, typ, flags, payload):
    """One frame with a correct 24-bit little-endian length."""
    if not isinstance(payload, bytes):
        payload = cb(payload)
    return (
        struct.pack("<I", len(payload))[:3]
        + struct.pack("<HBB", rid, sid, sflags)
        + bytes([(typ << 4) | flags])
        + payload
    )


def cmd(payload, rid=1, sflags=1, flags=1):
    """A single command-request frame (type 1, flags new) on stream 1."""
    return fr(rid, 1, sflags, 1, flags, payload)


def named(name=b"x", **extra):
    d = {b"name": name}
    for k, v in extra.items():
        d[k.encode()] = v
    return d


def nested(depth):
    v = 0
    for _ in range(depth):
        v = [v]
    return v


ALLBYTES = bytes(range(256))

CASES = [
    # --- the inputs of tests/differential_hg.rs's hand-written cases --------
    ("empty-body", b"", "no frame at all"),
    ("heads", cmd(named(b"heads")), "the simplest command request"),
    ("cmd-args-R1", cmd({b"name": b"command1", b"args": {b"foo": b"val1", b"bar1": b"val"}}),
     "test-http-api-httpv2.t's debugreflect request (keys unsorted on the wire)"),
    ("args-set-1", cmd(named(args={b"a": Set([1])})), "a one-element CBOR set in args"),
    ("redirect", cmd(named(redirect={b"targets": [b"a"], b"hashes": [b"sha256"]})),
     "a redirect key (0006 reports it, 0005 ignores it)"),
    ("missing-name", cmd({b"args": {}}), "map without name"),
    ("list-with-name", cmd([b"name"]), "a CBOR array containing b'name'"),
    ("bytes-name-args", cmd(b"name args"), "a CBOR bytestring containing 'name' and 'args'"),
    ("bytes-xyz", cmd(b"xyz"), "a CBOR bytestring without 'name'"),
    ("int-42", cmd(42), "a CBOR int"),
    ("empty-payload", cmd(b""), "command request with an empty payload"),
    ("not-cbor-a", cmd(b"a"), "payload 'a' (0x61: a text string header)"),
    ("dup-request", cmd(named()) + fr(1, 1, 0, 1, 1, cb(named())), "same request id twice"),
    ("more-then-data", cmd(named(), flags=1 | 4) + fr(1, 1, 0, 2, 2, b"x"),
     "new|more, then command-data eos"),
    ("more-havedata-partial-then-data", cmd(b"\xa1Dname", flags=1 | 4 | 8) + fr(1, 1, 0, 2, 2, b"x"),
     "new|more|have-data with half a map, then command-data eos"),
    ("havedata-data-noflags", cmd(named(), flags=1 | 8) + fr(1, 1, 0, 2, 0, b"x"),
     "command-data without flags"),
    ("havedata-empty-data", cmd(named(), flags=1 | 8) + fr(1, 1, 0, 2, 1, b"") + fr(1, 1, 0, 2, 2, b""),
     "zero-length command-data frames"),
    ("stream-end-reuse", fr(1, 1, 3, 1, 1, cb(named())) + fr(3, 1, 0, 1, 1, cb(named(b"y"))),
     "stream-end, then the same stream without stream-begin"),
    ("stream-end-rebegin", fr(1, 1, 3, 1, 1, cb(named())) + fr(3, 1, 1, 1, 1, cb(named(b"y"))),
     "stream-end, then stream-begin again"),
    ("encoded-flag", fr(1, 1, 1 | 4, 1, 1, cb(named())), "the encoded stream flag"),
    ("even-stream", fr(1, 2, 1, 1, 1, cb(named())) + fr(1, 2, 1, 1, 1, cb(named())),
     "stream id 2, twice (second frame: already errored)"),
    ("data-first-then-even", fr(1, 1, 1, 2, 2, b"x") + fr(1, 2, 0, 2, 2, b"x"),
     "command-data first, then a frame on stream 2"),
    ("settings-zlib", fr(0, 1, 1, 8, 2, cb({b"contentencodings": [b"zlib"]})) + fr(1, 1, 0, 1, 1, cb(named())),
     "type 8 with eos and a contentencodings map, then a command"),
    ("settings-int", fr(0, 1, 1, 8, 2, cb(1)), "type 8 eos, CBOR 1"),
    ("settings-bytes", fr(0, 1, 1, 8, 2, cb(b"xcontentencodingsx")) + fr(1, 1, 0, 1, 1, cb(named())),
     "type 8 eos, a CBOR bytestring"),
    ("settings-badcbor", fr(0, 1, 1, 8, 2, b"badvalue"),
     "type 8 eos, not CBOR (test-wireproto-serverreactor.py testprotocolsettingsbadcbor)"),
    ("settings-indef-break", fr(0, 1, 1, 8, 2, b"\x5f\x41a\xff"), "type 8 eos, indefinite bytestring"),
    ("settings-split", fr(0, 1, 1, 8, 1, b"\xa1") + fr(0, 1, 0, 8, 1, b"") + fr(0, 1, 0, 8, 2, b"\x41a\x41b"),
     "type 8 over three frames"),
    ("settings-half-float", fr(0, 1, 1, 8, 2, b"\xf9\x00\x00"), "type 8 eos, a half float"),
    ("type-4", fr(1, 1, 1, 4, 0, b"x"), "frame type 4 (unassigned)"),
    ("type-7-progress", fr(1, 1, 1, 7, 0, b"x"), "frame type 7 (progress)"),
    ("type-15", fr(1, 1, 1, 15, 15, b"x"), "frame type 15, all flags"),
    ("flags-0", cmd(named(), flags=0), "command request with neither new nor continuation"),
    ("flags-new-cont", cmd(named(), flags=3), "command request with new and continuation"),
    ("cont-while-idle", cmd(named(), flags=2), "continuation without a previous new"),
    ("cont-other-request", cmd(named()) + fr(3, 1, 0, 1, 2, b"x"), "continuation for an unknown request"),
    ("requestdone-cont", cmd(named(), flags=1 | 8) + fr(1, 1, 0, 1, 2 | 8, b""),
     "continuation after the request frames were done"),
    ("more-cont-cont", cmd(named(), flags=1 | 4) + fr(1, 1, 0, 1, 2, b"x") + fr(1, 1, 0, 1, 2, b"y"),
     "more, continuation (done: trailing bytes), continuation again"),
    ("rid-0", cmd(named(b"zero"), rid=0), "request id 0"),
    ("rid-65535", cmd(named(b"max"), rid=65535), "request id 65535"),
    ("interleaved", cmd(b"\xa1Dname", rid=1, flags=1 | 4) + fr(3, 1, 0, 1, 1, cb(named(b"three")))
     + fr(1, 1, 0, 1, 2, b"Done"), "request 3 completes inside request 1"),
    # --- raw framing ---------------------------------------------------------
    ("truncated-header", bytes([0x0C, 0, 0, 1, 0]), "5 bytes"),
    ("truncated-payload", bytes([0x0C, 0, 0, 1, 0, 1, 1, 0x11, 0xA1]), "header says 12, 1 byte follows"),
    ("len-byte2-bug-16384", bytes([0, 0, 1, 1, 0, 1, 1, 0x21]) + b"x" * 16384,
     "length 0x010000 read as 16384 (b0 + 256*b1 + 16384*b2)"),
    # --- CBOR values JSON has to render ------------------------------------
    ("text-keys", cmd({"name": "x", "args": {"k": "v"}}), "every string a CBOR text string (major type 3)"),
    ("text-arg-value", cmd(named(args={b"k": "text"})), "one text string value"),
    ("text-name-and-bytes-name", cmd({"name": "t", b"name": b"b"}), "text 'name' and bytes 'name' keys"),
    ("text-invalid-utf8", cmd(named(args={b"k": Raw(b"\x62\xc3\x28")})), "text string that is not UTF-8"),
    ("floats", cmd(named(args={b"h": Raw(b"\xf9\x3c\x00"), b"s": Raw(b"\xfa\x3f\xc0\x00\x00"), b"d": 1.5,
                               b"nan": Raw(b"\xf9\x7e\x00"), b"inf": Raw(b"\xf9\x7c\x00")})),
     "half, single, double floats, NaN, infinity"),
    ("float-key", cmd(named(args={1.5: b"v"})), "a float map key"),
    ("int-key", cmd(named(args={1: b"int key"})), "an int map key"),
    ("none-key", cmd(named(args={b"k": {None: 1}})), "a null map key"),
    ("bool-keys", cmd(named(args={True: 1, False: 0})), "true and false map keys"),
    ("mixed-keys", cmd(named(args={b"b": 1, 2: 2, None: 3, b"a": 4})), "bytes, int and null keys together"),
    ("list-key", cmd(named(args=Raw(b"\xa1\x81\x01\x01"))), "a map whose key is an array"),
    ("name-is-map", cmd({b"name": {b"nested": [True, None]}}), "name is a map"),
    ("set-3", cmd(named(args={b"s": Set([3, 1, 2])})), "a three-element set"),
    ("set-bytes", cmd(named(args={b"s": Set([b"b", b"a"])})), "a set of bytestrings"),
    ("set-empty", cmd(named(args={b"s": Set([])})), "an empty set"),
    ("set-of-list", cmd(named(args={b"s": Set([[1]])})), "a set holding an array (unhashable)"),
    ("ints", cmd(named(args={b"i": [0, 23, 24, 255, 256, 65535, 65536, 2**32, 2**63 - 1, 2**63, 2**64 - 1,
                                   -1, -24, -25, -(2**63), -(2**63) - 1, -(2**64)]})), "ints of every width"),
    ("bignum", cmd(named(args={b"big": 2**64, b"neg": -(2**64) - 1})), "tag 2 and tag 3 bignums"),
    ("tag-datetime", cmd(named(args={b"t": Tag(0, "2018-01-01T00:00:00Z"), b"e": Tag(1, 0)})),
     "tags 0 and 1 (date/time)"),
    ("tag-unknown", cmd(named(args={b"t": Tag(999, b"x")})), "an unknown tag"),
    ("undefined", cmd(named(args={b"u": Raw(b"\xf7")})), "the undefined simple value"),
    ("simple-value", cmd(named(args={b"s": Raw(b"\xe0")})), "simple value 0"),
    ("indefinite", cmd(Raw(b"\xbf\x44name\x5f\x41a\x41b\xff\x44args\x9f\x01\xff\xff")),
     "indefinite map, bytestring and array"),
    ("trailing-bytes", cmd(cb(named()) + b"\x43foo\x01"), "trailing bytes after the map"),
    ("truncated-cbor", cmd(cb(named())[:-1]), "the map loses its last byte"),
    ("dup-keys", cmd(Raw(b"\xa3\x44name\x41a\x44name\x41b\x44args\xa0")), "name twice: which wins"),
    ("deep-100", cmd(named(args={b"d": nested(100)})), "arrays nested 100 deep"),
    ("big-map-300", cmd(named(args={b"k%03d" % i: b"v%03d" % i for i in reversed(range(300))})),
     "300 keys, reverse order on the wire"),
    # --- bytes JSON has to render ------------------------------------------
    ("utf8-nonascii", cmd(named("caf\u00e9 \u20ac \U0001d11e".encode())),
     "valid UTF-8: 2-, 3- and 4-byte sequences"),
    ("latin1-name", cmd(named(b"caf\xe9")), "name not UTF-8"),
    ("latin1-key", cmd(named(args={b"k\xe9": b"v"})), "an args key not UTF-8"),
    ("latin1-data", cmd(named(), flags=1 | 8) + fr(1, 1, 0, 2, 2, b"\xff\xfe"), "command data not UTF-8"),
    ("surrogates-utf8", cmd(named(b"\xed\xa0\x80\xed\xb0\x80")), "UTF-8-encoded surrogates"),
    ("control-chars", cmd(named(b"tab\tnl\ncr\rnul\x00del\x7f\\\"/\x08\x0c\x1f")), "C0 controls, DEL, quote, backslash"),
    ("html-chars", cmd(named(b"<a href=\"x\">&amp;</a>")), "<, >, & in a value"),
    ("all-bytes-data", cmd(named(), flags=1 | 8) + fr(1, 1, 0, 2, 2, ALLBYTES), "data holds bytes 0..255"),
    ("raw-payload-nonutf8", fr(1, 1, 1, 2, 2, b"\xff\n\xfe"),
     "a non-command frame whose raw payload (shown on the received: line) is not UTF-8"),
]


# ---------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------


def hg_for(release):
    out = subprocess.run([os.path.join(HERE, "hg-install.sh"), release], stdout=subprocess.PIPE, check=True)
    return out.stdout.decode().strip().splitlines()[-1]


class Server(object):
    def __init__(self, hg):
        self.dir = tempfile.mkdtemp(prefix="hgframe-reflect-")
        # PYTHONHASHSEED=0: a Python 3 server iterates a set of bytestrings
        # in hash order, random per process otherwise (case set-bytes).
        # Python 2 does not randomise by default, so 0 changes nothing there.
        self.env = dict(os.environ, HGRCPATH="", HGPLAIN="1", PYTHONHASHSEED="0")
        repo = os.path.join(self.dir, "repo")
        subprocess.run([hg, "init", repo], env=self.env, check=True)
        self.errlog = os.path.join(self.dir, "errors.log")
        args = [hg, "serve", "-a", "127.0.0.1", "-p", "0", "-E", self.errlog,
                "-A", os.path.join(self.dir, "access.log")]
        for c in APICONFIG:
            args += ["--config", c]
        self.proc = subprocess.Popen(args, cwd=repo, env=self.env, stdout=subprocess.PIPE)
        line = self.proc.stdout.readline().decode()
        # drain the rest so the server never blocks on a full pipe
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()
        m = re.search(r":(\d+)\)\s*$", line)
        if not m:
            self.stop()
            raise SystemExit("unexpected hg serve output: %r" % line)
        self.port = int(m.group(1))

    def errsize(self):
        try:
            return os.path.getsize(self.errlog)
        except OSError:
            return 0

    def errtail(self, start):
        with open(self.errlog, "rb") as fh:
            fh.seek(start)
            new = fh.read().decode("utf-8", "backslashreplace")
        # The exception line(s) after the last traceback entry; an Abort's
        # message may hold raw frame bytes, newlines included.
        found = list(re.finditer(r"(?m)^[A-Za-z_][\w.]*: ", new))
        if not found:
            return None
        return ADDRESS_RE.sub(" at 0x...", new[found[-1].start():].rstrip("\n"))

    def stop(self):
        self.proc.terminate()  # by pid: Popen sends SIGTERM to this child only
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def post(port, path, media, body):
    req = urllib.request.Request(
        "http://127.0.0.1:%d%s" % (port, path), data=body, method="POST",
        headers={"Accept": media, "Content-Type": media})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.headers.get("Content-Type"), r.headers.get("Server"), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.headers.get("Server"), e.read()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--release", required=True, help="e.g. 4.7.2, 4.8.2, 5.0.2, 6.0")
    ap.add_argument("--hg", help="the hg to run (default: scripts/hg-install.sh RELEASE)")
    ap.add_argument("--out", required=True)
    opts = ap.parse_args()
    api = media = None
    for prefixes, a, m in APIS:
        if opts.release.startswith(prefixes):
            api, media = a, m
    if api is None:
        raise SystemExit("no v2 API known for release %s" % opts.release)
    names = [c[0] for c in CASES]
    assert len(names) == len(set(names)), "duplicate case names"
    hg = opts.hg or hg_for(opts.release)
    ver = subprocess.run([hg, "--version"], stdout=subprocess.PIPE, env=dict(os.environ, HGRCPATH="", HGPLAIN="1"),
                         check=True).stdout.decode().splitlines()[0]
    if "(version %s)" % opts.release not in ver:
        raise SystemExit("%s is not Mercurial %s: %s" % (hg, opts.release, ver))
    path = "/api/%s/ro/debugreflect" % api
    server = Server(hg)
    records = []
    try:
        for name, body, note in CASES:
            before = server.errsize()
            status, ctype, software, rbody = post(server.port, path, media, body)
            rec = {"name": name, "note": note, "url": path, "request_hex": body.hex(),
                   "status": status, "content_type": ctype, "server": software, "body_hex": rbody.hex(),
                   "body": rbody.decode("latin-1")}
            if status >= 500:
                tail = None
                for _ in range(50):  # the traceback may land just after the answer
                    tail = server.errtail(before) if server.errsize() > before else None
                    if tail:
                        break
                    time.sleep(0.05)
                rec["error"] = tail
            records.append(rec)
    finally:
        server.stop()
    os.makedirs(os.path.dirname(os.path.abspath(opts.out)), exist_ok=True)
    with open(opts.out + ".tmp", "w", encoding="ascii", newline="\n") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=True) + "\n")
    os.replace(opts.out + ".tmp", opts.out)
    counts = {}
    for r in records:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    sys.stderr.write("%s: %d cases, statuses %s -> %s\n" % (ver, len(records), counts, opts.out))


if __name__ == "__main__":
    main()
