#!/usr/bin/env bash
# Regenerates the shell completion scripts under completions/ and the man
# pages under man/ from the current hgframe binary (`hgframe completions
# <shell>`, `hgframe man [SUBCOMMAND]`). tests/completions.rs fails when a
# committed file differs from what the binary prints; run this script after
# changing the CLI (src/bin/hgframe/args.rs) and commit the result.
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

mkdir -p man
rm -f man/*.1 man/.*.tmp
"$bin" man >man/.hgframe.1.tmp && mv man/.hgframe.1.tmp man/hgframe.1
echo man/hgframe.1
for sub in $(COLUMNS=1000 "$bin" --help | sed -n '/^Commands:/,/^$/p' | awk 'NR>1 && $1 != "help" && NF {print $1}'); do
    "$bin" man "$sub" >"man/.hgframe-$sub.1.tmp"
    mv "man/.hgframe-$sub.1.tmp" "man/hgframe-$sub.1"
    echo "man/hgframe-$sub.1"
done
