#!/usr/bin/env bash
# What `hgframe proxy` costs a real clone: `hg clone` of the fixture
# repository (tests/support/mkrepo.py: 14 changesets, a 210 KB file, so a
# ~217 KB filesdata response) from a real `hg serve` 6.0, directly and
# through the proxy (release build, events to /dev/null, with --json and
# without), timed by hyperfine in the same run; then the proxy's peak RSS
# over those clones (VmHWM from /proc).
#
#   scripts/bench-proxy.sh            # 20 runs each
#   HGFRAME_BENCH_RUNS=50 scripts/bench-proxy.sh
#
# Needs hyperfine (Debian package) and Mercurial 6.0 (scripts/hg-venv.sh
# installs it); says what is missing and exits 1 otherwise. Everything it
# starts listens on 127.0.0.1 and is stopped by its pid at the end.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
runs="${HGFRAME_BENCH_RUNS:-20}"
command -v hyperfine >/dev/null || { echo "bench-proxy: MISSING: hyperfine (apt-get install hyperfine)" >&2; exit 1; }
hg=$(scripts/hg-venv.sh) || { echo "bench-proxy: MISSING: Mercurial 6.0 (scripts/hg-venv.sh failed)" >&2; exit 1; }
py="$(dirname "$hg")/python3"
out="${CARGO_TARGET_DIR:-$root/target}"
cargo build --release --quiet
bin="$out/release/hgframe"

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
export HGRCPATH= HGPLAIN=1

"$py" tests/support/mkrepo.py "$work/repo" >/dev/null
"$hg" serve -R "$work/repo" -a 127.0.0.1 -p 0 --pid-file "$work/hg.pid" -d \
  --config experimental.web.apiserver=true --config experimental.web.api.http-v2=true \
  >"$work/serve.out"
pids+=("$(cat "$work/hg.pid")")
port=$(grep -o '127.0.0.1:[0-9]*' "$work/serve.out" | head -1 | cut -d: -f2)
upstream="http://127.0.0.1:$port/"

start_proxy() { # $1: extra flag ("" or --json); prints the port
  "$bin" proxy --listen 127.0.0.1:0 --upstream "$upstream" $1 >/dev/null 2>"$work/proxy$1.err" &
  local pid=$!
  pids+=("$pid")
  echo "$pid" >"$work/proxy$1.pid"
  for _ in $(seq 50); do
    grep -q 'listening at' "$work/proxy$1.err" 2>/dev/null && break
    sleep 0.1
  done
  grep -o 'http://127.0.0.1:[0-9]*' "$work/proxy$1.err" | head -1 | grep -o '[0-9]*$'
}
ptext=$(start_proxy "")
pjson=$(start_proxy --json)

clone() { echo "rm -rf $work/c && $hg clone -q -U --config experimental.httppeer.advertise-v2=true http://127.0.0.1:$1/ $work/c"; }
hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/h.json" \
  -n direct "$(clone "$port")" -n 'through proxy' "$(clone "$ptext")" -n 'through proxy --json' "$(clone "$pjson")" \
  >/dev/null 2>&1 || hyperfine --warmup 3 --runs "$runs" --export-json "$work/h.json" \
  -n direct "$(clone "$port")" -n 'through proxy' "$(clone "$ptext")" -n 'through proxy --json' "$(clone "$pjson")" >/dev/null

hwm() { awk '/VmHWM/ {print $2}' "/proc/$(cat "$work/proxy$1.pid")/status"; }
"$py" - "$work/h.json" "$(hwm "")" "$(hwm --json)" "$runs" <<'EOF'
import json, sys
h = json.load(open(sys.argv[1]))["results"]
med = {r["command"]: r["median"] for r in h}
d = med["direct"]
print(f"hg clone of the fixture (a 217 KB filesdata response), {sys.argv[4]} runs each, medians:")
print("| clone | median | vs direct |")
print("|---|---|---|")
for name in ["direct", "through proxy", "through proxy --json"]:
    print(f"| {name} | {med[name]*1000:.1f} ms | {med[name]/d:.2f}x (+{(med[name]-d)*1000:.1f} ms) |")
print(f"proxy peak RSS over all its clones: {int(sys.argv[2])/1024:.1f} MiB (text), {int(sys.argv[3])/1024:.1f} MiB (--json)")
EOF
