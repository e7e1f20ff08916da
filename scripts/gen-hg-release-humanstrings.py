#!/usr/bin/env python3
"""Golden human-string data produced by an older Mercurial release itself.

The companion of scripts/gen-hg-humanstrings.py (Mercurial 6.0) for the
releases that run on Python 2: 4.7.2 (revision 0005: bundled cbor2 with
canonical=True, Python 2 ast.literal_eval) and 4.8.2 (revision 0006 on
Python 2: cborutil, Python 2 literals and sort order).

Which strings: the union, deduplicated on the exact bytes, of

 1. the release's own sdist tests: `ffs(...)`/`makeframefromhumanstring(...)`
    arguments in tests/test-wireproto-*.py and `frame ...` lines of the .t
    files, collected with gen-hg-humanstrings.py's collectors (same AST
    evaluator, same shell/heredoc emulation; nothing is executed);
    source "tests/<file>:<line>" (paths in the release's sdist);
 2. every line of tests/data/hg60/humanstrings.jsonl (the 6.0 list: its
    tests, shared notes and vectors, edge cases); source "hg60/<its source>",
    its "note" and "raw"/"raw_hex" kept;
 3. EXTRA below (source "edge"): cbor2 canonical ordering (map keys by
    encoded length, then encoded bytes), Python 2 literals (str is bytes,
    u'' is text, long, octal 017, no set literals), floats, big ints.

Each distinct string is handed to the release's
wireprotoframing.makeframefromhumanstring by
scripts/hg-release-humanstrings-worker.py running on the release's own
Python (`python` beside the `hg` of scripts/hg-install.sh RELEASE). Output:
one JSON object per line, the schema of tests/data/hg60/humanstrings.jsonl:

    {"source", "line_hex", "line" (latin-1), "ok": true, "frame_hex"}
    {"source", "line_hex", "line", "ok": false, "error": "<Type>: <message>"}
    optional: "raw", "raw_hex", "warnings", "note", "also"

Lines that use 0006-only names fail in 4.7.2 (e.g. KeyError on
sender-protocol-settings): that failure is the data.

Run with the Python of the 6.0 venv (it imports the collectors, which import
Mercurial 6.0), from anywhere:

    "$(dirname "$(scripts/hg-venv.sh)")/python3" scripts/gen-hg-release-humanstrings.py \\
        --release 4.7.2 --out tests/data/hg47/humanstrings.jsonl
"""

import argparse
import importlib.util
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

if os.environ.get("PYTHONHASHSEED") != "0":  # as gen-hg-humanstrings.py
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)


def load_collectors():
    spec = importlib.util.spec_from_file_location("gen_hg_humanstrings", os.path.join(HERE, "gen-hg-humanstrings.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def teach_cbor2(g, sdist):
    """4.6/4.7 tests build payloads with the bundled cbor2:
    `cbor.dumps(x)` / `cbor.dumps(x, canonical=True)`. The 6.0 venv ships the
    pure-Python cbor2 runs on Python 3 as well, so let the evaluator compute
    those calls with the copy in the release's own sdist."""
    import ast

    sys.path.insert(0, os.path.join(sdist, "mercurial", "thirdparty", "cbor"))
    try:
        import cbor2 as cbor
    finally:
        del sys.path[0]

    plain = g.Evaluator._call

    def _call(self, node):
        f = node.func
        if (isinstance(f, ast.Attribute) and f.attr == "dumps" and isinstance(f.value, ast.Name)
                and f.value.id == "cbor" and len(node.args) == 1):
            kw = {}
            for k in node.keywords:
                if k.arg != "canonical":
                    raise g.Unevaluable("cbor.dumps keyword %s" % k.arg)
                kw["canonical"] = self.eval(k.value)
            return cbor.dumps(self.eval(node.args[0]), **kw)
        return plain(self, node)

    g.Evaluator._call = _call


# (string, what it probes). Inputs only: what Mercurial makes of them is
# recorded, never written here.
EXTRA = [
    # --- map key order: cbor2 canonical = (len(encoded key), encoded key) --
    (b"1 1 0 1 0 cbor:{b'aa': 1, b'b': 2}", "shorter key first (cborutil: bytewise, aa first)"),
    (b"1 1 0 1 0 cbor:{b'zz': 1, b'a': 2, b'bbb': 3, b'': 4}", "keys of four lengths"),
    (b"1 1 0 1 0 cbor:{b'b': 1, b'B': 2, b'a': 3}", "same length: bytewise"),
    (b"1 1 0 1 0 cbor:{b'x' * 30: 1}", "an expression is not a literal"),
    (b"1 1 0 1 0 cbor:{b'xxxxxxxxxxxxxxxxxxxxxxxx': 1, b'y': 2}", "24-byte key: 2-byte head sorts after 1-byte keys"),
    (b"1 1 0 1 0 cbor:{1: b'a', b'b': 2}", "int key (1 byte) vs bytes key (2 bytes)"),
    (b"1 1 0 1 0 cbor:{100: 1, 2: 2, -1: 3, 24: 4}", "int keys: encoded length first (2, -1 before 24, 100)"),
    (b"1 1 0 1 0 cbor:{-1: 1, 1: 2, 0: 3}", "0x00 < 0x01 < 0x20"),
    (b"1 1 0 1 0 cbor:{None: 1, True: 2, False: 3, 0: 4}", "simple values as keys (0xf4..0xf6 after 0x00)"),
    (b"1 1 0 1 0 cbor:{(1, 2): 1, (1,): 2, 5: 3}", "tuple keys encode as arrays"),
    (b"1 1 0 1 0 cbor:{u'a': 1, b'b': 2}", "text key 0x61 vs bytes key 0x41"),
    (b"1 1 0 1 0 cbor:{b'a': 1, u'a': 2}", "b'a' and u'a' are one Python 2 key"),
    (b"1 1 0 1 0 cbor:{1.5: 1, 1: 2}", "float key"),
    (b"1 1 0 1 0 cbor:{b'k': {b'bb': [1, {b'd': 1, b'cc': 2}], b'a': ()}}", "nested maps are sorted too"),
    (b"1 1 0 1 0 cbor:[{b'bb': 1, b'a': 2}, {b'c': 3}]", "maps inside an array"),
    # --- sets: no set literal in Python 2 ----------------------------------
    (b"1 1 0 1 0 cbor:{3, 1, 2}", "set literal (Python 2 literal_eval: malformed)"),
    (b"1 1 0 1 0 cbor:set([1])", "set() call"),
    (b"1 1 0 1 0 cbor:frozenset([1])", "frozenset() call"),
    # --- ints --------------------------------------------------------------
    (b"1 1 0 1 0 cbor:[0, 23, 24, 255, 256, 65535, 65536, 4294967295, 4294967296]", "uint head sizes"),
    (b"1 1 0 1 0 cbor:9223372036854775807", "2**63-1 (Python 2 int)"),
    (b"1 1 0 1 0 cbor:9223372036854775808", "2**63 (Python 2 long)"),
    (b"1 1 0 1 0 cbor:10L", "a long literal"),
    (b"1 1 0 1 0 cbor:017", "Python 2 octal literal"),
    (b"1 1 0 1 0 cbor:0o17", "0o octal"),
    (b"1 1 0 1 0 cbor:0x7fffffffffffffffffff", "big hex literal"),
    (b"1 1 0 1 0 cbor:[-1, -24, -25, -256, -257, -65536, -65537, -4294967296, -4294967297]", "negint head sizes"),
    (b"1 1 0 1 0 cbor:-9223372036854775808", "-2**63"),
    (b"1 1 0 1 0 cbor:-9223372036854775809", "-2**63-1"),
    (b"1 1 0 1 0 cbor:18446744073709551616", "2**64: cbor2 writes a tag 2 bignum"),
    (b"1 1 0 1 0 cbor:-18446744073709551617", "-2**64-1: cbor2 writes a tag 3 bignum"),
    (b"1 1 0 1 0 cbor:340282366920938463463374607431768211456", "2**128"),
    (b"1 1 0 1 0 cbor:{18446744073709551616: 1, 1: 2}", "a bignum key sorts last"),
    # --- str / unicode / bytes --------------------------------------------
    (b"1 1 0 1 0 cbor:'abc'", "Python 2 '' literal is bytes"),
    (b"1 1 0 1 0 cbor:u'abc'", "u'' is text"),
    (b"1 1 0 1 0 cbor:u'caf\\xe9 \\u20ac'", "text with escapes"),
    (b"1 1 0 1 0 cbor:u'\\U0001d11e'", "non-BMP text"),
    (b"1 1 0 1 0 cbor:u'caf\xc3\xa9'", "raw UTF-8 bytes inside u''"),
    (b"1 1 0 1 0 cbor:'caf\xe9'", "raw latin-1 byte inside ''"),
    (b"1 1 0 1 0 cbor:b'\\x00\\xff'", "escaped bytes"),
    (b"1 1 0 1 0 cbor:r'\\n'", "raw string"),
    (b"1 1 0 1 0 cbor:ur'\\n'", "ur prefix (Python 2 only)"),
    (b"1 1 0 1 0 cbor:[b'a', u'a', 'a']", "bytes, text and str together"),
    # --- True/False/None, floats, other -------------------------------------
    (b"1 1 0 1 0 cbor:[True, False, None]", "simple values"),
    (b"1 1 0 1 0 cbor:[1.0, 1.5, 0.5, -2.0, 65504.0, 65505.0, 100000.0]", "floats that fit half or single"),
    (b"1 1 0 1 0 cbor:[0.0, -0.0]", "zeroes"),
    (b"1 1 0 1 0 cbor:[0.1, 1.1, 3.14159]", "floats that need a double"),
    (b"1 1 0 1 0 cbor:5.960464477539063e-08", "smallest half subnormal"),
    (b"1 1 0 1 0 cbor:1e-40", "single subnormal"),
    (b"1 1 0 1 0 cbor:1e39", "above single range"),
    (b"1 1 0 1 0 cbor:1e300", "far above single range"),
    (b"1 1 0 1 0 cbor:1e400", "infinity from a literal"),
    (b"1 1 0 1 0 cbor:-1e400", "negative infinity from a literal"),
    (b"1 1 0 1 0 cbor:1j", "complex"),
    (b"1 1 0 1 0 cbor:(1+2j)", "complex sum"),
    (b"1 1 0 1 0 cbor:()", "empty tuple"),
    (b"1 1 0 1 0 cbor:{}", "empty dict"),
    (b"1 1 0 1 0 cbor:[[]] ", "trailing space after the literal"),
    # --- 0005 names --------------------------------------------------------
    (b"1 2 stream-begin stream-settings 0 cbor:b'identity'", "stream-settings by name (8 in 0005, 9 in 0006)"),
    (b"1 2 0 stream-settings eos ", "stream-settings has no flag names in 0005"),
    (b"1 1 0 8 0 ", "type 8 by number"),
    (b"1 1 0 9 0 ", "type 9 by number (unknown in 0005)"),
    (b"1 1 0 sender-protocol-settings eos ", "a 0006-only type name"),
    (b"1 1 0 command-response eos cbor:{b'status': b'ok'}", "a 0005 response frame"),
    (b"1 1 0 error-response 0 cbor:{b'type': b'server', b'message': [{b'msg': b'x'}]}", "error-response"),
    (b"1 1 0 1 1 x y", "payload with a space"),
    (b"1 1 0 1 1", "five fields: Python 2 unpack message"),
    (b"1_0 1 0 1 1 ", "no underscores in Python 2 int()"),
    (b"1 1 0 1 1 \\u00e9", "\\u is not an escape in bytes"),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--release", required=True, help="e.g. 4.7.2 or 4.8.2")
    ap.add_argument("--out", required=True)
    ap.add_argument("--hg60", default=os.path.join(ROOT, "tests", "data", "hg60", "humanstrings.jsonl"))
    opts = ap.parse_args()

    hgpath = subprocess.run([os.path.join(HERE, "hg-install.sh"), opts.release], stdout=subprocess.PIPE,
                            check=True).stdout.decode().strip().splitlines()[-1]
    python = os.path.join(os.path.dirname(hgpath), "python")
    cache = os.path.dirname(os.path.dirname(hgpath))
    tests = os.path.join(cache, "mercurial-%s" % opts.release, "tests")
    if not os.path.isdir(tests):
        raise SystemExit("missing: %s" % tests)

    g = load_collectors()
    if os.path.isdir(os.path.join(tests, "..", "mercurial", "thirdparty", "cbor")):
        teach_cbor2(g, os.path.join(tests, ".."))
    stats = {}
    occ = []
    occ += g.collect_py(tests, stats)
    occ += g.collect_t(tests, stats)
    for o in occ:
        o.kind = "rel"
    with open(opts.hg60, "r", encoding="ascii") as fh:
        for line in fh:
            rec = json.loads(line)
            src = rec["source"]
            path, _, lineno = src.rpartition(":")
            if not path or not lineno.isdigit():
                path, lineno = src, "0"
            o = g.Occurrence("hg60", "hg60/" + path, int(lineno), bytes.fromhex(rec["line_hex"]),
                             raw=bytes.fromhex(rec["raw_hex"]) if "raw_hex" in rec else None, note=rec.get("note"))
            occ.append(o)
    occ += [g.Occurrence("edge", "edge", 0, s, note=n) for s, n in EXTRA]
    priority = {"rel": 0, "hg60": 1, "edge": 2}

    def source(o):
        return o.path if o.lineno == 0 else "%s:%d" % (o.path, o.lineno)

    by_string = {}
    for o in sorted(occ, key=lambda o: (priority[o.kind],) + o.sortkey()):
        by_string.setdefault(o.s, []).append(o)
    strings = list(by_string)

    env = dict(os.environ, PYTHONHASHSEED="0", HGRCPATH="", HGPLAIN="1")
    env.pop("PYTHONPATH", None)
    proc = subprocess.run([python, os.path.join(HERE, "hg-release-humanstrings-worker.py")],
                          input=json.dumps([s.hex() for s in strings]).encode(), stdout=subprocess.PIPE,
                          env=env, check=True)
    answer = json.loads(proc.stdout)
    if answer["version"] != opts.release:
        raise SystemExit("worker ran Mercurial %s, not %s" % (answer["version"], opts.release))

    records = []
    for s, res in zip(strings, answer["results"]):
        group = by_string[s]
        first = group[0]
        rec = {"source": source(first), "line_hex": s.hex(), "line": s.decode("latin-1")}
        rec.update(res)
        if first.raw is not None and first.raw != s:
            rec["raw"] = first.raw.decode("latin-1")
            rec["raw_hex"] = first.raw.hex()
        note = first.note or next((o.note for o in group if o.note), None)
        if note:
            rec["note"] = note
        also = []
        for o in group[1:]:
            if source(o) not in also and source(o) != rec["source"]:
                also.append(source(o))
        if also:
            rec["also"] = also
        records.append((first.sortkey(), rec))
    records.sort(key=lambda r: r[0])
    os.makedirs(os.path.dirname(os.path.abspath(opts.out)), exist_ok=True)
    with open(opts.out + ".tmp", "w", encoding="ascii", newline="\n") as fh:
        for _, rec in records:
            fh.write(json.dumps(rec, ensure_ascii=True) + "\n")
    os.replace(opts.out + ".tmp", opts.out)

    err = sys.stderr
    print("release %s tests: found / evaluated / skipped" % opts.release, file=err)
    for label in sorted(stats):
        st = stats[label]
        print("  %-50s %4d %4d %4d" % (label, st["found"], st["evaluated"], len(st["skipped"])), file=err)
        for lineno, why, what in st["skipped"]:
            what = what if isinstance(what, str) else what.decode("latin-1")
            print("      skipped :%d (%s): %s" % (lineno, why, what[:100]), file=err)
    nok = sum(1 for _, r in records if r["ok"])
    print("records: %d (ok %d, error %d) -> %s" % (len(records), nok, len(records) - nok, opts.out), file=err)


if __name__ == "__main__":
    main()
