#!/usr/bin/env python3
"""Compare `hgframe encode` of two builds: stdout, stderr and exit code.

    scripts/identity-encode.py REF_BIN NEW_BIN [BIG_INPUT...]

Runs, for both binaries:
- every fuzz/corpus/human file as stdin, and its first line as an argument,
  x --proto 0001/0002/0005/0006, --hg 4.8, --hg 5.0 x hex/escaped/raw;
- every fuzz/corpus/literal file as the payload of a `cbor:` command
  request (stdin), x the same revisions x hex/escaped;
- each BIG_INPUT file (e.g. 1M `cbor:` lines) as stdin, x hex/escaped/raw
  (default revision), compared by SHA-256 of stdout.
Prints the number of runs and of differences; exits 1 on any difference.
"""
import hashlib
import os
import subprocess
import sys

ref, new = sys.argv[1], sys.argv[2]
big = sys.argv[3:]
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
revs = [['--proto', '0001'], ['--proto', '0002'], ['--proto', '0005'],
        ['--proto', '0006'], ['--hg', '4.8'], ['--hg', '5.0']]
runs = diffs = 0


def run(binp, args, data):
    p = subprocess.run([binp, *args], input=data, capture_output=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def check(what, args, data):
    global runs, diffs
    a = run(ref, args, data)
    b = run(new, args, data)
    runs += 1
    if a != b:
        diffs += 1
        if diffs <= 10:
            print(f'DIFF {what} {args}: exit {a[0]} vs {b[0]}\n  ref err {a[2][:300]!r}\n  new err {b[2][:300]!r}\n  ref out {a[1][:200]!r}\n  new out {b[1][:200]!r}')


def files(d):
    d = os.path.join(root, 'fuzz', 'corpus', d)
    for n in sorted(os.listdir(d)):
        with open(os.path.join(d, n), 'rb') as f:
            yield n, f.read()


for name, data in files('human'):
    first = data.split(b'\n', 1)[0]
    for r in revs:
        for fmt in ['hex', 'escaped', 'raw']:
            check(f'human/{name}', ['encode', *r, '-f', fmt], data)
        if first and b'\0' not in first:
            check(f'human/{name} (argument)', ['encode', *r, os.fsdecode(first)], b'')

for name, data in files('literal'):
    for prefix in [b'1 1 stream-begin command-request new cbor:', b'command-request new cbor:']:
        line = prefix + data
        for r in revs:
            for fmt in ['hex', 'escaped']:
                check(f'literal/{name}', ['encode', *r, '-f', fmt], line)

for path in big:
    for fmt in ['hex', 'escaped', 'raw']:
        outs = []
        for binp in (ref, new):
            with open(path, 'rb') as f:
                p = subprocess.Popen([binp, 'encode', '-f', fmt], stdin=f,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                h = hashlib.sha256()
                for chunk in iter(lambda: p.stdout.read(1 << 20), b''):
                    h.update(chunk)
                err = p.stderr.read()
                outs.append((p.wait(), h.hexdigest(), err))
        runs += 1
        if outs[0] != outs[1]:
            diffs += 1
            print(f'DIFF {path} -f {fmt}: {outs[0]} vs {outs[1]}')

print(f'{runs} runs, {diffs} differing')
sys.exit(1 if diffs else 0)
