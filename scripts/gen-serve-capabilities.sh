#!/usr/bin/env bash
# Captures what Mercurial 6.0 answers to a client's version-1 handshake
# (`GET /?cmd=capabilities` with `X-HgUpgrade-1: exp-http-v2-0003` and
# `X-HgProto-1: cbor`) for a fresh repository served with the API enabled,
# into src/server/hg60-capabilities.cbor: `hgframe serve` answers stock
# clients with it. Starts `hg serve` on 127.0.0.1 and stops it by its pid.
set -euo pipefail
cd "$(dirname "$0")/.."
hg="$(scripts/hg-venv.sh)"
tmp=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
HGRCPATH= HGPLAIN=1 "$hg" init --config format.revlog-compression=zlib "$tmp/repo"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
HGRCPATH= HGPLAIN=1 "$hg" -R "$tmp/repo" serve -a 127.0.0.1 -p "$port" \
  --config experimental.web.apiserver=true --config experimental.web.api.http-v2=true \
  --config experimental.web.api.debugreflect=true --config web.push_ssl=false \
  --config 'web.allow-push=*' >/dev/null 2>&1 &
pid=$!
for _ in $(seq 50); do
  curl -s -o /dev/null "http://127.0.0.1:$port/" && break
  sleep 0.1
done
curl -sf -H 'X-HgUpgrade-1: exp-http-v2-0003' -H 'X-HgProto-1: cbor' \
  -H 'Accept: application/mercurial-0.1' "http://127.0.0.1:$port/?cmd=capabilities" \
  -o src/server/hg60-capabilities.cbor
echo "src/server/hg60-capabilities.cbor: $(wc -c <src/server/hg60-capabilities.cbor) bytes"
