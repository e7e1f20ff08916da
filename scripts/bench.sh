#!/usr/bin/env bash
# Runs hgframe's criterion benches (benches/codec.rs, benches/reactor.rs),
# times Mercurial 6.0's Python framing code on the same workloads
# (scripts/bench-mercurial.py, in the venv of scripts/hg-venv.sh), and prints
# a summary table: median throughput per bench, Mercurial's measured figure
# and the ratio, the ratio against the reference figures quoted for
# Mercurial 6.0 (84k human lines/s, 1M decoded frames/s, 100k reactor
# frames/s), and the project's targets.
#
#   scripts/bench.sh                 # whole suite (about a minute of benches)
#   scripts/bench.sh human           # extra arguments go to criterion (a filter, flags)
#   HGFRAME_BENCH_NO_HG=1 scripts/bench.sh    # skip the Mercurial timings
#   HGFRAME_BENCH_HG_SECONDS=2                # seconds per Mercurial figure
#   HGFRAME_BENCH_SUMMARY_ONLY=1 scripts/bench.sh  # table from the last run only
#
# Criterion's results stay in target/criterion/ (estimates in ns per
# iteration; every bench sets Throughput::Elements, read back from its
# benchmark.json).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out="${CARGO_TARGET_DIR:-$root/target}"
crit="$out/criterion"
mkdir -p "$crit"
stamp="$crit/.bench-sh-stamp"
hgjson="$crit/mercurial-6.0.jsonl"

if [ "${HGFRAME_BENCH_SUMMARY_ONLY:-}" != 1 ]; then
  touch "$stamp"
  # criterion 0.5 without default features has no plotting backend; --noplot
  # also keeps it from looking for gnuplot.
  cargo bench --bench codec --bench reactor -- --noplot "$@"

  rm -f "$hgjson"
  if [ "${HGFRAME_BENCH_NO_HG:-}" != 1 ]; then
    if hg=$(scripts/hg-venv.sh); then
      echo "bench: timing Mercurial 6.0's wireprotoframing (scripts/bench-mercurial.py)" >&2
      "$(dirname "$hg")/python3" scripts/bench-mercurial.py \
        --seconds "${HGFRAME_BENCH_HG_SECONDS:-2}" >"$hgjson" ||
        { echo "bench: scripts/bench-mercurial.py failed; no Mercurial figures" >&2; rm -f "$hgjson"; }
    else
      echo "bench: no Mercurial 6.0 venv; no measured Mercurial figures" >&2
    fi
  fi
fi

py=python3
command -v "$py" >/dev/null || py=$(dirname "$(scripts/hg-venv.sh)")/python3
"$py" - "$crit" "$stamp" "$hgjson" <<'EOF'
import json, os, sys

crit, stamp, hgjson = sys.argv[1:4]
since = os.path.getmtime(stamp) if os.path.exists(stamp) else 0

# Reference figures quoted for Mercurial 6.0's Python implementation, and
# the project's targets, by bench group.
REF = {'human': 84e3, 'decode-slice': 1e6, 'decode-chunked-4k': 1e6, 'reactor': 100e3}
TARGET = {'human': 2e6, 'decode-slice': 20e6, 'reactor/0006/single': 5e6}

rows = []
for dirpath, dirs, files in os.walk(crit):
    if os.path.basename(dirpath) != 'new' or 'estimates.json' not in files:
        continue
    bj = os.path.join(dirpath, 'benchmark.json')
    ej = os.path.join(dirpath, 'estimates.json')
    if not os.path.exists(bj) or os.path.getmtime(ej) < since:
        continue  # left over from an older run
    b = json.load(open(bj))
    e = json.load(open(ej))
    ns = e['median']['point_estimate']
    lo = e['median']['confidence_interval']['lower_bound']
    hi = e['median']['confidence_interval']['upper_bound']
    elems = (b.get('throughput') or {}).get('Elements')
    rows.append((b['full_id'], b['group_id'], ns, lo, hi, elems))
rows.sort()
if not rows:
    sys.exit('bench: no criterion results found in ' + crit)

hg = {}
if os.path.exists(hgjson):
    for line in open(hgjson):
        line = line.strip()
        if line:
            d = json.loads(line)
            hg[d['id']] = d['elements_per_s']

def si(x):
    if x is None:
        return '-'
    for div, unit in ((1e9, 'G'), (1e6, 'M'), (1e3, 'k')):
        if x >= div:
            return '%.3g%s' % (x / div, unit)
    return '%.3g' % x

def ratio(a, b):
    if not a or not b:
        return '-'
    r = a / b
    return ('%.1fx' if r < 10 else '%.0fx') % r

def t(ns):
    for div, unit in ((1e6, 'ms'), (1e3, 'us')):
        if ns >= div:
            return '%.3g %s' % (ns / div, unit)
    return '%.3g ns' % ns

hdr = ('bench', 'median/iter', 'elem/s', '(95% CI)', 'hg6.0 meas', 'x meas', 'hg6.0 ref', 'x ref', 'target')
table = []
for full, group, ns, lo, hi, elems in rows:
    rate = elems * 1e9 / ns if elems else None
    ci = '%s..%s' % (si(elems * 1e9 / hi), si(elems * 1e9 / lo)) if elems else '-'
    m = hg.get(full)
    ref = REF.get(group)
    tgt = TARGET.get(full, TARGET.get(group))
    verdict = '-'
    if tgt and rate:
        verdict = '%s %s' % (si(tgt), 'ok' if rate >= tgt else 'MISSED')
    table.append((
        full, t(ns), si(rate), ci, si(m),
        ratio(rate, m),
        si(ref), ratio(rate, ref),
        verdict,
    ))
w = [max(len(str(r[i])) for r in table + [hdr]) for i in range(len(hdr))]
fmt = lambda r: '  '.join(str(c).ljust(w[i]) if i == 0 else str(c).rjust(w[i]) for i, c in enumerate(r))
print()
print('Summary (median of criterion samples; elem/s = lines/s or frames/s)')
print(fmt(hdr))
print(fmt(['-' * x for x in w]))
for r in table:
    print(fmt(r))
extra = sorted(k for k in hg if k not in {r[0] for r in rows})
for k in extra:
    print('  (Mercurial 6.0 %s: %s/s)' % (k, si(hg[k])))
if not hg:
    print('  (no measured Mercurial figures: HGFRAME_BENCH_NO_HG set, or no venv)')
print("  hg6.0 meas: Mercurial 6.0's Python on the same workload, measured now (0006 only);")
print('  hg6.0 ref: quoted reference figure; x: our median over theirs.')
EOF
