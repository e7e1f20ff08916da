#!/usr/bin/env bash
# Regenerates the shell completion scripts under completions/ from the
# current hgframe binary (`hgframe completions <shell>`). tests/completions.rs
# fails when a committed file differs from what the binary prints; run this
# script after changing the CLI (src/bin/hgframe/args.rs) and commit the result.
#
# The binary is built with `cargo build` (honouring CARGO_TARGET_DIR); set
# HGFRAME_BIN to use an already built binary instead.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -n "${HGFRAME_BIN:-}" ]]; then
    bin="$HGFRAME_BIN"
else
    cargo build --quiet --bin hgframe
    target_dir="${CARGO_TARGET_DIR:-$(cargo metadata --format-version 1 --no-deps |
        sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')}"
    bin="$target_dir/debug/hgframe"
fi
[[ -x "$bin" ]] || { echo "gen-completions.sh: no hgframe binary at $bin" >&2; exit 1; }

mkdir -p completions
# shell  file (the names each shell looks for)
while read -r shell file; do
    tmp="completions/.$file.tmp"
    "$bin" completions "$shell" >"$tmp"
    mv "$tmp" "completions/$file"
    echo "completions/$file"
done <<'EOF'
bash hgframe.bash
zsh _hgframe
fish hgframe.fish
elvish hgframe.elv
powershell _hgframe.ps1
EOF
