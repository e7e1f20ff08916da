#!/usr/bin/env bash
# Record real Mercurial 6.0 clones over wire protocol v2 (exp-http-v2-0003),
# once per client encoder order, through tests/support/recproxy.py, and
# decode the recordings with tests/support/hgdecode.py. See
# tests/support/clone-recipe.md for what it records and how long it takes.
#
#   tests/support/record-clone.sh OUT [ORDER ...]
#
# ORDER is a value for experimental.httppeer.v2-encoder-order (default: the
# four orders zstd-8mb,zlib,identity  zlib,zstd-8mb,identity  zlib,identity
# identity). Writes:
#
#   OUT/repo/                 the fixture (tests/support/mkrepo.py), reused
#                             if present
#   OUT/serve-errors.log      hg serve's error log
#   OUT/<ORDER with , -> +>/rec/NNN.{json,req.bin,resp.bin,decoded.json}
#   OUT/<...>/clone, stream   the clones (verified with hg verify)
#   OUT/<...>/debugwireproto.out, times
#
# Environment: HG (default: scripts/hg-venv.sh installs/finds 6.0),
# KEEP_CLONES=0 removes the clones after verifying them.
# Everything listens on 127.0.0.1 only; every process started here is
# stopped by its pid on exit.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
if [ $# -lt 1 ]; then
  sed -n '2,22p' "$0" >&2
  exit 2
fi
out=$1
shift
orders=("$@")
if [ ${#orders[@]} -eq 0 ]; then
  orders=(zstd-8mb,zlib,identity zlib,zstd-8mb,identity zlib,identity identity)
fi
hg=${HG:-$("$root/scripts/hg-venv.sh")}
py="$(dirname "$hg")/python3"
export HGRCPATH= HGPLAIN=1
unset HGUSER || true

mkdir -p "$out"
out=$(cd "$out" && pwd)

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

serverpid=""
proxypid=""
cleanup() {
  if [ -n "$proxypid" ]; then kill -TERM "$proxypid" 2>/dev/null || true; wait "$proxypid" 2>/dev/null || true; fi
  if [ -n "$serverpid" ]; then kill -TERM "$serverpid" 2>/dev/null || true; fi
}
trap cleanup EXIT

t=$(now)
if [ ! -d "$out/repo/.hg" ]; then
  "$py" "$here/mkrepo.py" "$out/repo" >/dev/null
fi
echo "fixture: $(elapsed "$t" "$(now)") s" >&2

# The server: the v2 API and nothing else (stream clone / rawstorefiledata is
# on by default: server.uncompressed=true).
t=$(now)
rm -f "$out/hg.pid"
"$hg" serve -R "$out/repo" -a 127.0.0.1 -p 0 -d --pid-file "$out/hg.pid" \
  -E "$out/serve-errors.log" \
  --config experimental.web.apiserver=true \
  --config experimental.web.api.http-v2=true >"$out/serve.out"
serverpid=$(cat "$out/hg.pid")
port=$(sed -n 's/.*bound to 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$out/serve.out")
echo "hg serve: pid $serverpid, port $port, $(elapsed "$t" "$(now)") s" >&2

node2=$("$hg" -R "$out/repo" log -r 2 -T '{node}')
pynode2=$(printf '%s' "$node2" | sed 's/../\\x&/g')

for order in "${orders[@]}"; do
  name=${order//,/+}
  d="$out/$name"
  rm -rf "$d"
  mkdir -p "$d/rec"
  "$py" "$here/recproxy.py" --upstream "http://127.0.0.1:$port" --dir "$d/rec" >"$d/proxy.port" &
  proxypid=$!
  for _ in $(seq 100); do [ -s "$d/proxy.port" ] && break; sleep 0.02; done
  url="http://127.0.0.1:$(head -n 1 "$d/proxy.port")/"
  cfg=(--config experimental.httppeer.advertise-v2=true
       --config "experimental.httppeer.v2-encoder-order=$order")

  t0=$(now)
  # 1. clone: capabilities (v1), multirequest [heads, known], changesetdata,
  #    manifestdata, filesdata
  "$hg" clone -q -U "${cfg[@]}" "$url" "$d/clone"
  t1=$(now)
  # 2. stream clone: rawstorefiledata, then multirequest, changesetdata,
  #    filesdata
  "$hg" clone -q -U --stream "${cfg[@]}" "$url" "$d/stream"
  t2=$(now)
  # 3. pull with -r and -b: branchmap, multirequest [listkeys, lookup,
  #    lookup], changesetdata
  "$hg" pull -q -R "$d/clone" -r tip -b stable "${cfg[@]}" "$url"
  t3=$(now)
  # 4. each command on its own URL via the real v2 peer; the last lookup
  #    fails (error-response frame) and makes debugwireproto exit 255
  rc=0
  "$hg" debugwireproto --peer http2 "${cfg[@]}" "$url" >"$d/debugwireproto.out" 2>&1 <<EOF || rc=$?
command capabilities
command heads
command known
    nodes eval:[b'$pynode2', b'\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\xcc\xdd\xee\xff\x00\x11\x22\x33']
command listkeys
    namespace bookmarks
command branchmap
command lookup
    key v1.0
command lookup
    key nosuchrev
EOF
  t4=$(now)
  if [ "$rc" != 255 ] || ! grep -q "unknown revision 'nosuchrev'" "$d/debugwireproto.out"; then
    echo "debugwireproto: unexpected exit $rc" >&2
    cat "$d/debugwireproto.out" >&2
    exit 1
  fi
  kill -TERM "$proxypid"
  wait "$proxypid" || { echo "recproxy exited with $?" >&2; exit 1; }
  proxypid=""

  "$hg" -R "$d/clone" verify -q
  "$hg" -R "$d/stream" verify -q
  t5=$(now)
  "$py" "$here/hgdecode.py" -q "$d/rec"
  t6=$(now)
  if [ "${KEEP_CLONES:-1}" = 0 ]; then rm -rf "$d/clone" "$d/stream"; fi
  {
    echo "order $order"
    echo "clone $(elapsed "$t0" "$t1") s"
    echo "stream-clone $(elapsed "$t1" "$t2") s"
    echo "pull $(elapsed "$t2" "$t3") s"
    echo "debugwireproto $(elapsed "$t3" "$t4") s"
    echo "record-total $(elapsed "$t0" "$t4") s"
    echo "verify $(elapsed "$t4" "$t5") s"
    echo "decode $(elapsed "$t5" "$t6") s"
  } >"$d/times"
  echo "$name: record $(elapsed "$t0" "$t4") s (clone $(elapsed "$t0" "$t1"), stream $(elapsed "$t1" "$t2"), pull $(elapsed "$t2" "$t3"), debugwireproto $(elapsed "$t3" "$t4")), verify $(elapsed "$t4" "$t5") s, decode $(elapsed "$t5" "$t6") s, $(ls "$d/rec"/[0-9]*.json | grep -vc decoded) exchanges, $(cat "$d/rec"/*.resp.bin | wc -c) response bytes" >&2
done

kill -TERM "$serverpid"
serverpid=""
