#!/usr/bin/env bash
# The whole test suite, as CI runs it. Installs what it needs itself:
# Rust crates through cargo; Mercurial 6.0 from PyPI, and the older releases
# the release tests serve (4.7.2, 4.8.2, 5.0.2 on the Python 2.7 that pyenv
# provides), into a cache outside the clone (scripts/hg-venv.sh,
# scripts/hg-install.sh; once, then reused: a re-run takes under a second).
# Tests that need a real server start `hg serve` on 127.0.0.1 themselves.
# A missing Python 2.7 (or compiler, or Python.h) stops here with a message
# naming it: those tests fail rather than skip.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/hg-venv.sh >/dev/null
# The Python 2 builds run in parallel (about 100 s the first time, on 2 CPUs).
pids=()
for v in 4.7.2 4.8.2 5.0.2; do
  scripts/hg-install.sh "$v" >/dev/null &
  pids+=($!)
done
for p in "${pids[@]}"; do
  wait "$p"
done
cargo test --locked --all-targets "$@"
