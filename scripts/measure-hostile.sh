#!/usr/bin/env bash
# Peak memory and time of `hgframe decode --side response` on hostile
# response bodies (decompression bombs, a 2**63-byte string, an endless
# map, endless stream settings) and on a large honest one, with the default
# bound (--max-value 64M) or HGFRAME_MAX_VALUE. The bodies come from
# scripts/hostile-responses.py (run with Mercurial 6.0's Python, for zstd);
# each run is measured with /usr/bin/time -v. Prints one line per body:
# exit code, peak RSS, wall time, and the first line of stderr.
#
#   scripts/measure-hostile.sh
#   HGFRAME_MAX_VALUE=16M scripts/measure-hostile.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out="${CARGO_TARGET_DIR:-$root/target}"
cargo build --release --quiet
bin="$out/release/hgframe"
hg=$("$root/scripts/hg-venv.sh")
py="$(dirname "$hg")/python3"
[ -x /usr/bin/time ] || { echo "measure-hostile: needs /usr/bin/time (GNU time)" >&2; exit 2; }

work=$(mktemp -d "$out/measure-hostile.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$py" "$root/scripts/hostile-responses.py" "$work"

for f in zstd-bomb zlib-bomb huge-string endless-map endless-settings honest-256MiB; do
  file="$work/$f.bin"
  set +e
  /usr/bin/time -v "$bin" decode --side response --json --max-value "${HGFRAME_MAX_VALUE:-64M}" "$file" \
    >/dev/null 2>"$work/err.txt"
  set -e
  code=$(awk -F': ' '/Exit status/ {print $2}' "$work/err.txt")
  kib=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/err.txt")
  wall=$(awk -F': ' '/Elapsed \(wall clock\) time/ {print $2}' "$work/err.txt")
  msg=$(grep -m1 -v '^\s' "$work/err.txt" | grep -v 'Command being timed' | cut -c1-150 || true)
  printf '%-18s %9s bytes  exit %s  peak RSS %6.1f MiB  %s  %s\n' "$f" "$(stat -c %s "$file")" \
    "$code" "$(awk -v k="$kib" 'BEGIN { print k / 1024 }')" "$wall" "$msg"
done
