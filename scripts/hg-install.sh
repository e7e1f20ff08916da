#!/usr/bin/env bash
# Installs Mercurial VERSION into a cache outside the clone, once, and prints
# the path of a runnable `hg` on its last stdout line. Re-runs are instant.
# Also fetches the release's sdist and extracts it next to the install
# (`mercurial-VERSION/`, with Mercurial's own `tests/`). Beside the `hg`
# wrapper there is a `python` one: that release's interpreter with its
# `mercurial` package importable (what the golden-data generators run on).
#
#   scripts/hg-install.sh 4.7.2          -> .../hg-4.7.2/hg        (Python 2.7)
#   scripts/hg-install.sh 4.8.2          -> .../hg-4.8.2/hg        (Python 2.7)
#   scripts/hg-install.sh 5.0.2          -> .../hg-5.0.2/hg        (Python 2.7)
#   HG_PYTHON3=1 scripts/hg-install.sh 5.0.2
#                                        -> .../hg-5.0.2-py3/hg    (Python 3.7, HGPYTHON3=1)
#   scripts/hg-install.sh 6.0            -> .../hg-6.0/bin/hg      (scripts/hg-venv.sh)
#
# Which Python:
#   4.x, 5.0.x, 5.1.x   Python 2.7 (a `pip install --prefix` of the sdist, C
#                       extensions built with gcc): $PYTHON2, else the newest
#                       2.7 under `pyenv root`/versions, else python2.7 on
#                       PATH. The `hg` printed is a small wrapper that sets
#                       PYTHONPATH to the prefix's site-packages.
#   5.0.x/5.1.x with HG_PYTHON3=1: Python 3 in a venv ($PYTHON3, else pyenv's
#                       3.7, then 3.6); these releases only run on 3 with
#                       HGPYTHON3=1 at build and run time, which the wrapper sets.
#   6.0                 delegates to scripts/hg-venv.sh (Python 3 venv).
#   5.2 ... 5.9         Python 3 venv ($PYTHON3, else pyenv's 3.8, 3.7).
# A missing Python or build tool is an error naming what is missing and how
# to get it; the script never pretends to have succeeded.
#
#   HGFRAME_CACHE   cache root (default: $XDG_CACHE_HOME/hgframe or ~/.cache/hgframe)
#   PYTHON2         the python2.7 to use
#   PYTHON3         the python3 to use (Python 3 installs other than 6.0)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
die() { echo "hg-install: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: hg-install.sh VERSION (e.g. 4.7.2, 4.8.2, 4.9.1, 5.0.2, 6.0)"
version="$1"
[[ "$version" =~ ^[0-9]+\.[0-9]+(\.[0-9]+)?$ ]] || die "not a release number: $version"

if [ "$version" = "6.0" ]; then
  exec "$here/hg-venv.sh"
fi

major=${version%%.*}
rest=${version#*.}
minor=${rest%%.*}
py3=0
case "$major" in
  4) ;;
  5) if [ "$minor" -ge 2 ]; then py3=1; elif [ "${HG_PYTHON3:-0}" = 1 ]; then py3=1; fi ;;
  6) py3=1 ;;
  *) die "Mercurial $version is not supported here (4.x ... 6.0)" ;;
esac

cache="${HGFRAME_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hgframe}"
name="hg-$version"
[ "$py3" = 1 ] && [ "$major" = 5 ] && [ "$minor" -lt 2 ] && name="hg-$version-py3"
dest="$cache/$name"
src="$cache/mercurial-$version"
marker="$dest/.hgframe-installed"

# Fast path: nothing to do (no lock, no Python started).
if [ -f "$marker" ] && [ -x "$dest/hg" ] && [ -x "$dest/python" ] && [ -d "$src/tests" ]; then
  echo "$dest/hg"
  exit 0
fi

pyenv_root() {
  if command -v pyenv >/dev/null 2>&1; then pyenv root 2>/dev/null && return 0; fi
  [ -d "${PYENV_ROOT:-$HOME/.pyenv}" ] && echo "${PYENV_ROOT:-$HOME/.pyenv}"
}

# Newest pyenv-installed CPython matching a prefix ("2.7", "3.7"), if any.
pyenv_python() {
  local root pfx="$1" exe="python$1" v best=""
  root=$(pyenv_root) || return 1
  [ -n "$root" ] || return 1
  for v in "$root"/versions/"$pfx".*; do
    [ -x "$v/bin/$exe" ] && best="$v/bin/$exe"
  done
  [ -n "$best" ] && echo "$best"
}

find_python2() {
  if [ -n "${PYTHON2:-}" ]; then
    [ -x "$PYTHON2" ] || command -v "$PYTHON2" >/dev/null 2>&1 ||
      die "PYTHON2=$PYTHON2 is not an executable"
    echo "$PYTHON2"; return
  fi
  pyenv_python 2.7 && return
  command -v python2.7 2>/dev/null && return
  die "Mercurial $version needs Python 2.7, and none was found: PYTHON2 is unset,
  there is no \$(pyenv root)/versions/2.7.*/bin/python2.7 and no python2.7 on PATH.
  Get one with 'pyenv install 2.7.18' (needs pyenv and the usual CPython
  build dependencies), or point PYTHON2 at a python2.7."
}

find_python3() {
  if [ -n "${PYTHON3:-}" ]; then echo "$PYTHON3"; return; fi
  local want
  if [ "$major" = 5 ] && [ "$minor" -lt 2 ]; then want="3.7 3.6"; else want="3.8 3.7"; fi
  for p in $want; do pyenv_python "$p" && return; done
  die "Mercurial $version on Python 3 needs CPython ${want// / or } (newer ones break it), none found:
  install one with 'pyenv install 3.7.16', or point PYTHON3 at one."
}

if [ "$py3" = 1 ]; then py=$(find_python3); else py=$(find_python2); fi
"$py" -c 'import sys' 2>/dev/null || die "$py does not run"

# What building Mercurial's C extensions needs.
command -v gcc >/dev/null 2>&1 || command -v cc >/dev/null 2>&1 ||
  die "no C compiler (gcc/cc) to build Mercurial's C extensions: apt-get install gcc"
inc=$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
[ -f "$inc/Python.h" ] ||
  die "$py has no headers ($inc/Python.h is missing): install its development files
  (a pyenv build has them; on Debian: apt-get install python2.7-dev / python3-dev)"
"$py" -m pip --version >/dev/null 2>&1 ||
  die "$py has no pip: run '$py -m ensurepip'"

mkdir -p "$cache"
# One installer per release at a time; callers may run in parallel.
exec 9>"$cache/.lock-$name"
flock 9

pip=("$py" -m pip --disable-pip-version-check --no-cache-dir --quiet)
[ "$py3" = 1 ] && export HGPYTHON3=1   # 5.0/5.1 refuse Python 3 without it; harmless later

# writewrappers DIR: DIR/hg and DIR/python, naming the final $dest paths.
writewrappers() {
  local d="$1" env
  if [ "$py3" = 1 ]; then
    env='HGPYTHON3=1; export HGPYTHON3'
    run="$dest/venv/bin/python"
    hgscript="$dest/venv/bin/hg"
  else
    local site
    site=$(cd "$d/prefix" && ls -d lib/python2.7/site-packages)
    env="PYTHONPATH=\"$dest/prefix/$site\${PYTHONPATH:+:\$PYTHONPATH}\"; export PYTHONPATH"
    run="$py"
    hgscript="$dest/prefix/bin/hg"
  fi
  printf '#!/bin/sh\n# Mercurial %s (written by hgframe'"'"'s scripts/hg-install.sh)\n%s\nexec "%s" "%s" "$@"\n' \
    "$version" "$env" "$run" "$hgscript" >"$d/hg"
  printf '#!/bin/sh\n# The Python that runs Mercurial %s, with its modules importable\n%s\nexec "%s" "$@"\n' \
    "$version" "$env" "$run" >"$d/python"
  chmod +x "$d/hg" "$d/python"
}

if ! { [ -f "$marker" ] && [ -x "$dest/hg" ]; }; then
  echo "hg-install: installing mercurial==$version with $py into $dest (once)" >&2
  start=$(date +%s)
  tmp="$dest.tmp"
  rm -rf "$tmp"
  mkdir -p "$tmp/sdist"
  "${pip[@]}" download --no-binary :all: --no-deps "mercurial==$version" -d "$tmp/sdist" >&2
  tarball=$(ls "$tmp"/sdist/mercurial-*.tar.gz)
  if [ "$py3" = 1 ]; then
    "$py" -m venv "$tmp/venv"
    "$tmp/venv/bin/python" -m pip --disable-pip-version-check --no-cache-dir --quiet \
      install "$tarball" >&2
    # venv scripts carry the temporary path in their shebang and config
    grep -rlF "$tmp" "$tmp/venv/bin" "$tmp/venv/pyvenv.cfg" 2>/dev/null |
      xargs -r sed -i "s|$tmp|$dest|g"
    got=$(cd / && HGRCPATH= HGPLAIN=1 "$tmp/venv/bin/python" "$tmp/venv/bin/hg" --version 2>&1 | head -n 1 || true)
  else
    "${pip[@]}" install --no-deps --prefix "$tmp/prefix" "$tarball" >&2
    site=$(cd "$tmp/prefix" && ls -d lib/python2.7/site-packages)
    [ -f "$tmp/prefix/$site/mercurial/__init__.py" ] || die "pip put no mercurial package in $tmp/prefix/$site"
    got=$(cd / && HGRCPATH= HGPLAIN=1 PYTHONPATH="$tmp/prefix/$site" "$py" "$tmp/prefix/bin/hg" --version 2>&1 | head -n 1 || true)
  fi
  # Check the result before publishing it.
  [[ "$got" == *"(version $version)"* ]] || die "installed mercurial does not report version $version: $got"
  writewrappers "$tmp"
  if [ ! -d "$src/tests" ]; then
    rm -rf "$src.tmp"
    mkdir -p "$src.tmp"
    tar -xzf "$tarball" -C "$src.tmp"
    rm -rf "$src"
    mv "$src.tmp/mercurial-$version" "$src"
    rm -rf "$src.tmp"
  fi
  rm -rf "$tmp/sdist"
  echo "$py" >"$tmp/.hgframe-installed"
  rm -rf "$dest"
  mv "$tmp" "$dest"
  echo "hg-install: mercurial $version installed in $(( $(date +%s) - start )) s" >&2
elif [ ! -x "$dest/python" ]; then
  writewrappers "$dest"   # an install made before the python wrapper existed
fi

if [ ! -d "$src/tests" ]; then
  echo "hg-install: fetching the mercurial $version sdist (for its tests)" >&2
  tmp=$(mktemp -d "$cache/.sdist-XXXXXX")
  "${pip[@]}" download --no-binary :all: --no-deps "mercurial==$version" -d "$tmp" >&2
  tar -xzf "$tmp"/mercurial-*.tar.gz -C "$tmp"
  rm -rf "$src"
  mv "$tmp/mercurial-$version" "$src"
  rm -rf "$tmp"
fi
echo "$dest/hg"
