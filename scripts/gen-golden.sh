#!/usr/bin/env bash
# Regenerates the golden data under tests/data/ from a real Mercurial 6.0
# (installed once into a cache by hg-venv.sh). One line per generator.
set -euo pipefail
cd "$(dirname "$0")/.."
py="$(dirname "$(scripts/hg-venv.sh)")/python3"
tests="${HGFRAME_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hgframe}/mercurial-6.0/tests"

"$py" scripts/gen-hg-humanstrings.py --tests "$tests" --out tests/data/hg60/humanstrings.jsonl
"$py" scripts/gen-hg-serverreactor.py -o tests/data/hg60/serverreactor.json
"$py" scripts/gen-hg-clientreactor.py -o tests/data/hg60/clientreactor.json
"$py" tests/support/hgdecode.py -q tests/data/hg60/clone-sample
