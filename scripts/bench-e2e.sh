#!/usr/bin/env bash
# End-to-end benchmarks: the hgframe release binary against Mercurial 6.0
# (its Python, with C extensions, from scripts/hg-venv.sh) on the same
# generated inputs, side by side in one run. Prints a markdown table of
# medians and ratios (>1 = hgframe better) with the exact commands, and
# writes every raw sample as JSON lines (the path is printed). The rows are
# those of issue 15 ("Performance"):
#
#   start    cold start: `hgframe encode FRAME` vs python3 importing
#            mercurial.wireprotoframing and encoding the same frame
#            (hyperfine); peak RSS of `hgframe --version` and of the encode
#   decode   `hgframe decode` of 200k small 0006 frames (requests and
#            responses, CBOR payloads with binary node ids) in each format
#            (default blocks, --format human, --json): input MB/s, output
#            MB/s, peak RSS; vs Mercurial's bare readframe loop over the file
#   reflect  `hgframe reflect --bin` of 200k frames (50k requests of 4
#            frames), pretty, --format json, --format raw: frames/s, output
#            MB/s, peak RSS, raw's peak RSS / body size (target <= 1.2x); vs
#            Mercurial's debugreflect code (readframe, serverreactor,
#            templatefilters.json, the body joined) on the first 40k frames
#   human    `hgframe encode` (human strings -> hex) of 1M mixed lines and
#            of 1M `cbor:` command requests with arguments: lines/s; vs
#            makeframefromhumanstring (+ hex) on the first 20k lines
#   replay   `hgframe replay` of a 100k-request transcript (3 frames each):
#            time, requests/s, peak RSS; vs the same work in a Python loop
#            (human string, readframe, a fresh serverreactor per request,
#            JSON compared with the expected lines) on the first 5k requests
#   serve    `hgframe serve` and `hg serve` (API v2 + debugreflect) under
#            wrk (keep-alive, a 20-byte debugreflect POST) at 1, 16, 200 and
#            1000 connections, 2 wrk threads (1 for 1 connection), one
#            bounded run each (hgframe 10 s, hg 5 s), a fresh server per
#            run: req/s, p99 latency, peak RSS (VmHWM), peak thread count,
#            RSS before the load and 3 s after it (polled from /proc)
#
# Mercurial rates are timed inside its Python process (interpreter start
# and imports excluded: they are the `start` row) and, where it would take
# minutes, on a prefix of the same input (rates per frame/line/request);
# hgframe figures are whole-process wall time. Each timed run is a fresh
# process; peak RSS is ru_maxrss from wait4 (what /usr/bin/time -f %M
# prints). Output sizes come from one extra untimed run to a file; timed
# runs write to /dev/null.
#
#   scripts/bench-e2e.sh                          # everything (~5 min on 2 cores)
#   HGFRAME_E2E_ONLY=decode,reflect scripts/bench-e2e.sh   # some rows
#                   (start, decode, reflect, human, replay, serve)
#   HGFRAME_E2E_RUNS=5                            # runs per median
#   HGFRAME_E2E_DECODE_FRAMES=200000              # decode input
#   HGFRAME_E2E_REFLECT_FRAMES=200000             # reflect input (multiple of 4, <= 262140)
#   HGFRAME_E2E_HG_REFLECT_FRAMES=40000           # ... of which Mercurial runs
#   HGFRAME_E2E_HUMAN_LINES=1000000               # human-string inputs
#   HGFRAME_E2E_HG_HUMAN_LINES=20000              # ... of which Mercurial runs
#   HGFRAME_E2E_REPLAY_REQUESTS=100000            # replay transcript
#   HGFRAME_E2E_HG_REPLAY_REQUESTS=5000           # ... of which Mercurial runs
#   HGFRAME_E2E_SERVE_CONNS=1,16,200,1000         # connection counts
#   HGFRAME_E2E_HG_SERVE_CONNS=...                # for hg serve (default: the same)
#   HGFRAME_E2E_SERVE_SECONDS=10 HGFRAME_E2E_HG_SERVE_SECONDS=5
#   HGFRAME_E2E_SETTLE_SECONDS=3                  # wait before the after-load RSS
#   HGFRAME_E2E_NO_HG=1                           # hgframe only (Mercurial cells: MISSING)
#   HGFRAME_E2E_BIN=PATH                          # this hgframe binary instead of building one
#
# Needs: cargo, python3, /proc; hyperfine (start row) and wrk (serve row)
# from Debian (`apt-get install hyperfine wrk`); Mercurial 6.0 is installed
# into ~/.cache/hgframe by scripts/hg-venv.sh on first use. Whatever is
# missing is named: its cells say "MISSING: <what>" and the script exits 1
# at the end. Inputs are generated into a temporary directory under
# $CARGO_TARGET_DIR (default target/) and deleted at the end; the samples
# and the table stay in $CARGO_TARGET_DIR/bench-e2e/. Servers listen on
# 127.0.0.1 (port 0 / a free port) and are stopped by PID when the script
# ends, however it ends.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out="${CARGO_TARGET_DIR:-$root/target}"
mkdir -p "$out/bench-e2e"

if [ -n "${HGFRAME_E2E_BIN:-}" ]; then
  # Another build (e.g. the one before a change), to compare runs.
  bin=$(realpath "$HGFRAME_E2E_BIN")
  [ -x "$bin" ] || { echo "bench-e2e: MISSING: $HGFRAME_E2E_BIN is not an executable" >&2; exit 2; }
else
  cargo build --release --quiet --bin hgframe
  bin="$out/release/hgframe"
fi

hg=""
if [ "${HGFRAME_E2E_NO_HG:-}" != 1 ]; then
  hg=$(scripts/hg-venv.sh) || { echo "bench-e2e: MISSING: Mercurial 6.0 (scripts/hg-venv.sh failed)" >&2; hg=""; }
fi
py=python3
[ -n "$hg" ] && py="$(dirname "$hg")/python3"

work=$(mktemp -d "$out/bench-e2e.XXXXXX")
trap 'rm -rf "$work"' EXIT
stamp=$(date +%Y%m%d-%H%M%S)
samples="$out/bench-e2e/samples-$stamp.jsonl"
table="$out/bench-e2e/table-$stamp.md"

ulimit -n 8192 2>/dev/null || true
# The driver runs in the background so that a signal to this script
# reaches it: it then stops its servers (by PID) before exiting.
"$py" scripts/bench-e2e.py drive --bin "$bin" --hg "$hg" --work "$work" --samples "$samples" >"$table" &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null || true' INT TERM
rc=0
wait "$pid" || rc=$?
while kill -0 "$pid" 2>/dev/null; do wait "$pid" || rc=$?; done
cat "$table"
echo "bench-e2e: table saved in $table" >&2
exit "$rc"
