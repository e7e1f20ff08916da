#!/usr/bin/env bash
# Installs Mercurial 6.0 (the last release that serves the exp-http-v2 API
# and debugreflect) into a cache outside the clone, once, and prints the
# path of its `hg`. Re-runs are instant. Also fetches the sdist (for
# Mercurial's own tests) next to it.
#
#   HGFRAME_CACHE   cache root (default: $XDG_CACHE_HOME/hgframe or ~/.cache/hgframe)
set -euo pipefail
cache="${HGFRAME_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hgframe}"
venv="$cache/hg-6.0"
mkdir -p "$cache"
# One installer at a time (tests and scripts may call this in parallel).
exec 9>"$cache/.lock"
flock 9
have=""
[ -x "$venv/bin/hg" ] && have=$(HGRCPATH= HGPLAIN=1 "$venv/bin/hg" --version 2>/dev/null | head -n 1 || true)
if [[ "$have" != *"(version 6.0)"* ]]; then
  echo "hg-venv: installing mercurial==6.0 into $venv (once)" >&2
  rm -rf "$venv.tmp"
  python3 -m venv "$venv.tmp"
  "$venv.tmp/bin/pip" install --quiet --disable-pip-version-check mercurial==6.0 >&2
  rm -rf "$venv"
  mv "$venv.tmp" "$venv"
  # the venv's scripts carry the temporary path in their shebang: fix them
  sed -i "1s|$venv.tmp|$venv|" "$venv"/bin/hg "$venv"/bin/pip* 2>/dev/null || true
  sed -i "s|$venv.tmp|$venv|g" "$venv"/bin/activate* "$venv"/pyvenv.cfg 2>/dev/null || true
fi
if [ ! -d "$cache/mercurial-6.0/tests" ]; then
  echo "hg-venv: fetching the mercurial 6.0 sdist (for its tests)" >&2
  tmp=$(mktemp -d)
  "$venv/bin/pip" download --quiet --disable-pip-version-check --no-binary :all: --no-deps mercurial==6.0 -d "$tmp" >&2
  tar -xzf "$tmp"/mercurial-6.0.tar.gz -C "$cache"
  rm -rf "$tmp"
fi
echo "$venv/bin/hg"
