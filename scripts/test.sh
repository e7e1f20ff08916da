#!/usr/bin/env bash
# The whole test suite, as CI runs it. Installs what it needs itself:
# Rust crates through cargo, Mercurial 6.0 from PyPI into a cache outside
# the clone (scripts/hg-venv.sh; once, then reused). Tests that need a real
# server start `hg serve` on 127.0.0.1 themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/hg-venv.sh >/dev/null
cargo test --locked --all-targets "$@"
