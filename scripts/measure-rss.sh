#!/usr/bin/env bash
# Peak memory of `hgframe decode --json` on a 1 GiB capture of small 0006
# frames: builds the release binary, writes the file into target/ (one
# 1 MiB block of whole frames, made by `hgframe encode -f raw`, repeated),
# runs the decoder with its output to /dev/null under /usr/bin/time -v
# (or, without it, polling VmHWM in /proc), prints peak RSS, elapsed time
# and frames/s, and deletes the file.
#
#   scripts/measure-rss.sh            # 1024 MiB
#   HGFRAME_RSS_MIB=64 scripts/measure-rss.sh   # a smaller file
#   HGFRAME_RSS_LIMIT_KIB=16384       # budget checked at the end (exit 1 if over)
#   HGFRAME_RSS_POLL=1                # poll /proc even if /usr/bin/time exists
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out="${CARGO_TARGET_DIR:-$root/target}"
mib="${HGFRAME_RSS_MIB:-1024}"
limit_kib="${HGFRAME_RSS_LIMIT_KIB:-16384}"
block_size=$((1024 * 1024))

cargo build --release --quiet
bin="$out/release/hgframe"

work=$(mktemp -d "$out/measure-rss.XXXXXX")
trap 'rm -rf "$work"' EXIT
block="$work/block.bin"
file="$work/frames-${mib}MiB.bin"

# One block of whole frames, exactly 1 MiB: ~58k frames of 8-byte header +
# 9..12-byte payload (CBOR command requests, command data, command
# responses), ids 1, 3, 5, ... on stream 1, then one padding frame that
# fills the block to the byte.
nframes=57190
awk -v n="$nframes" 'BEGIN {
  for (i = 0; i < n; i++) {
    id = (2 * i + 1) % 65536
    sf = (i == 0) ? "stream-begin" : "0"
    k = i % 3
    if (k == 0)      printf "%d 1 %s command-request new cbor:{b%cname%c: b%cheads%c}\n", id, sf, 39, 39, 39, 39
    else if (k == 1) printf "%d 1 %s command-data continuation 0123456789\n", id, sf
    else             printf "%d 1 %s command-response continuation \\x00\\x01\\x02\\x03fooba\n", id, sf
  }
}' | "$bin" --proto 0006 encode -f raw >"$block"
have=$(stat -c %s "$block")
pad=$((block_size - have - 8))
if [ "$pad" -lt 0 ]; then
  echo "measure-rss: block too large ($have bytes)" >&2
  exit 2
fi
"$bin" --proto 0006 encode -f raw "1 1 0 command-data continuation $(head -c "$pad" /dev/zero | tr '\0' x)" >>"$block"
[ "$(stat -c %s "$block")" -eq "$block_size" ] || { echo "measure-rss: block is not 1 MiB" >&2; exit 2; }
frames_per_block=$((nframes + 1))

for ((i = 0; i < mib; i++)); do cat "$block"; done >"$file"
rm -f "$block"
size=$(stat -c %s "$file")
frames=$((frames_per_block * mib))
echo "measure-rss: $file: $size bytes, $frames frames (0006)"

# Let the page cache settle the write so the run reads, not waits on writeback.
sync "$file" 2>/dev/null || sync

report="$work/time.txt"
if [ -x /usr/bin/time ] && [ "${HGFRAME_RSS_POLL:-}" != 1 ]; then
  /usr/bin/time -v "$bin" --proto 0006 decode --json "$file" >/dev/null 2>"$report"
  peak_kib=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$report")
  elapsed=$(awk -F': ' '/Elapsed \(wall clock\) time/ {print $2}' "$report")
  # h:mm:ss or m:ss.ss -> seconds
  secs=$(awk -v t="$elapsed" 'BEGIN { n = split(t, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }')
  user=$(awk -F': ' '/User time/ {print $2}' "$report")
  sys=$(awk -F': ' '/System time/ {print $2}' "$report")
  cpu="user ${user}s, sys ${sys}s"
else
  # No /usr/bin/time: poll the high-water mark while it runs.
  start=$(date +%s.%N)
  "$bin" --proto 0006 decode --json "$file" >/dev/null &
  pid=$!
  peak_kib=0
  while [ -r "/proc/$pid/status" ]; do
    hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    if [ -n "$hwm" ] && [ "$hwm" -gt "$peak_kib" ]; then peak_kib=$hwm; fi
    # stop polling once it has exited (a zombie has no VmHWM line)
    [ -z "$hwm" ] && break
    sleep 0.05
  done
  wait "$pid"
  end=$(date +%s.%N)
  secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
  cpu="(no /usr/bin/time: peak polled from /proc/$pid/status VmHWM every 50 ms)"
fi

awk -v kib="$peak_kib" -v s="$secs" -v f="$frames" -v b="$size" -v cpu="$cpu" 'BEGIN {
  printf "measure-rss: decode --json: peak RSS %d KiB (%.2f MiB), elapsed %.2f s, %.2f M frames/s, %.0f MiB/s; %s\n",
    kib, kib / 1024, s, f / s / 1e6, b / s / 1048576, cpu
}'
if [ "$peak_kib" -ge "$limit_kib" ]; then
  echo "measure-rss: peak RSS is over the budget of $limit_kib KiB" >&2
  exit 1
fi
