#!/usr/bin/env python3
"""Identity sweep (perf6, issue 15): reflect (and decode) of two builds, stdout,
stderr and exit code compared byte for byte.

usage: scripts/identity-reflect.py REF_BIN NEW_BIN [BIG_INPUT...]
"""
import glob, os, subprocess, sys
from concurrent.futures import ThreadPoolExecutor

REF, NEW = sys.argv[1], sys.argv[2]
WT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REVS = [['--proto', '0001'], ['--proto', '0002'], ['--proto', '0005'],
        ['--proto', '0006'], ['--hg', '4.8'], ['--hg', '5.0']]
REFLECT_FMTS = [[], ['-v'], ['--color', 'always'], ['--color', 'always', '-v'],
                ['--format', 'json'], ['--format', 'json', '-v'], ['--format', 'raw']]
DECODE_FMTS = [[], ['-v'], ['--color', 'always'], ['--format', 'human'],
               ['--json'], ['--json', '-v']]

bins = sorted(glob.glob(WT + '/fuzz/corpus/reflect/*') + glob.glob(WT + '/fuzz/corpus/decode/*')
              + glob.glob(WT + '/fuzz/corpus/response/*')
              + glob.glob(WT + '/tests/data/**/*.bin', recursive=True))
texts = sorted(glob.glob(WT + '/fuzz/corpus/human/*'))

jobs = []
for b in bins:
    for r in REVS:
        for f in REFLECT_FMTS:
            jobs.append(('reflect', ['reflect', '--bin', b] + r + f))
        for f in DECODE_FMTS:
            jobs.append(('decode', ['decode', b] + r + f))
for t in texts:
    for r in REVS:
        for f in REFLECT_FMTS:
            jobs.append(('reflect-text', ['reflect', '--file', t] + r + f))
# Large inputs (e.g. the 200 k-frame file of scripts/bench-e2e.py) as
# further arguments.
for big in [a for a in sys.argv[3:] if not a.startswith('--')]:
    for r in REVS:
        for f in REFLECT_FMTS:
            jobs.append(('reflect-big', ['reflect', '--bin', big] + r + f))


def run(bin_, args):
    p = subprocess.run([bin_] + args, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=300)
    return p.returncode, p.stdout, p.stderr


def check(job):
    kind, args = job
    a = run(REF, args)
    b = run(NEW, args)
    return kind, args, a == b


counts, bad = {}, []
with ThreadPoolExecutor(2) as ex:
    for kind, args, same in ex.map(check, jobs):
        c = counts.setdefault(kind, [0, 0])
        c[0] += 1
        if not same:
            c[1] += 1
            bad.append(args)
for k, (n, d) in sorted(counts.items()):
    print(f'{k}: {n} runs, {d} differing')
print(f'total: {sum(c[0] for c in counts.values())} runs, {len(bad)} differing')
for a in bad[:20]:
    print('DIFF:', ' '.join(a))
sys.exit(1 if bad else 0)
