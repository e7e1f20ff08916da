#!/usr/bin/env bash
# Regenerates the golden data under tests/data/ from real Mercurial releases
# (each installed once into a cache by hg-venv.sh / hg-install.sh). One line
# per generator. The reflect vectors start a real `hg serve` of each release
# on 127.0.0.1 and stop it again.
set -euo pipefail
cd "$(dirname "$0")/.."
py="$(dirname "$(scripts/hg-venv.sh)")/python3"
tests="${HGFRAME_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hgframe}/mercurial-6.0/tests"
py47="$(dirname "$(scripts/hg-install.sh 4.7.2)")/python"
py48="$(dirname "$(scripts/hg-install.sh 4.8.2)")/python"

# Mercurial 6.0
"$py" scripts/gen-hg-humanstrings.py --tests "$tests" --out tests/data/hg60/humanstrings.jsonl
"$py" scripts/gen-hg-serverreactor.py -o tests/data/hg60/serverreactor.json
"$py" scripts/gen-hg-clientreactor.py -o tests/data/hg60/clientreactor.json
"$py" tests/support/hgdecode.py -q tests/data/hg60/clone-sample
python3 scripts/capture-reflect-vectors.py --release 6.0 --out tests/data/hg60/reflect-vectors.jsonl

# Mercurial 4.7.2 (revision 0005, Python 2.7)
"$py" scripts/gen-hg-release-humanstrings.py --release 4.7.2 --out tests/data/hg47/humanstrings.jsonl
PYTHONHASHSEED=0 "$py47" scripts/gen-hg47-serverreactor.py -o tests/data/hg47/serverreactor.json
python3 scripts/capture-reflect-vectors.py --release 4.7.2 --out tests/data/hg47/reflect-vectors.jsonl

# Mercurial 4.8.2 (revision 0006 on Python 2.7)
"$py" scripts/gen-hg-release-humanstrings.py --release 4.8.2 --out tests/data/hg48/humanstrings.jsonl
PYTHONHASHSEED=0 "$py48" scripts/gen-hg-serverreactor.py -o tests/data/hg48/serverreactor.json
python3 scripts/capture-reflect-vectors.py --release 4.8.2 --out tests/data/hg48/reflect-vectors.jsonl

# Mercurial 5.0.2 on Python 2.7 and on Python 3.7 (HGPYTHON3=1)
python3 scripts/capture-reflect-vectors.py --release 5.0.2 --out tests/data/hg50/reflect-vectors.jsonl
HG_PYTHON3=1 python3 scripts/capture-reflect-vectors.py --release 5.0.2 \
  --out tests/data/hg50/reflect-vectors-py3.jsonl
