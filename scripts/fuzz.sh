#!/usr/bin/env bash
# Run hgframe's libFuzzer targets, one at a time, one process each.
#
#   scripts/fuzz.sh [TARGET|all] [SECONDS]
#
# For each target (default: all, in the order of `cargo fuzz list`): fuzz for
# SECONDS (default 600) on fuzz/corpus-local/<target>/ (git-ignored, kept
# between runs) after adding the committed corpus fuzz/corpus/<target>/ to
# it; then minimise the local corpus (-set_cover_merge=1, the set-cover form
# of -merge=1), write it back capped (FUZZ_CORPUS_MAX_FILES files,
# FUZZ_CORPUS_MAX_KB KiB) as the committed corpus, and print one line:
# target, executions, seconds, corpus size, findings (files in
# fuzz/artifacts/<target>/, and how many are new). A run that stops on a
# finding (crash, timeout, OOM) is restarted for the rest of SECONDS, at most
# FUZZ_MAX_FINDINGS (default 5) times per target, so one known bug does not
# end the whole run. Exits 1 if any new finding appeared, 2 if something is
# missing or broke.
#
# Needs a nightly toolchain (cargo-fuzz builds with -Zsanitizer=address) and
# cargo-fuzz (installed here with `cargo install cargo-fuzz` if absent).
# Without nightly, FUZZ_BOOTSTRAP=1 builds with the stable compiler and
# RUSTC_BOOTSTRAP=1 instead (target dir fuzz/target-stable); see fuzz/README.md.
#
# Environment: FUZZ_MAX_FINDINGS, FUZZ_CORPUS_MAX_FILES (300),
# FUZZ_CORPUS_MAX_KB (2048), FUZZ_BOOTSTRAP, FUZZ_EXTRA (more libFuzzer flags).
# libFuzzer's output goes to fuzz/logs/<target>.log.

set -u -o pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2

target_arg=${1:-all}
seconds=${2:-600}
max_findings=${FUZZ_MAX_FINDINGS:-5}
corpus_max_files=${FUZZ_CORPUS_MAX_FILES:-300}
corpus_max_kb=${FUZZ_CORPUS_MAX_KB:-2048}

case $seconds in
'' | *[!0-9]*)
    echo "fuzz.sh: SECONDS must be a number, not '$seconds'" >&2
    echo "usage: scripts/fuzz.sh [TARGET|all] [SECONDS]" >&2
    exit 2
    ;;
esac

# The largest input per target: enough for every construct the target
# parses, small enough to keep executions fast.
max_len_of() {
    case $1 in
    decode) echo 8192 ;;
    human) echo 4096 ;;
    literal) echo 8192 ;;
    cbor) echo 65536 ;;     # deep nesting needs length
    reflect) echo 65536 ;;
    transcript) echo 16384 ;;
    serve_http) echo 16384 ;;
    *) echo 4096 ;;
    esac
}

# --- toolchain and cargo-fuzz ------------------------------------------------

# cargo-fuzz finds the target directory itself; a CARGO_TARGET_DIR set for
# the main crate's builds must not mix the sanitizer build into it.
unset CARGO_TARGET_DIR
cargo_fuzz=()
if [ "${FUZZ_BOOTSTRAP:-}" = 1 ]; then
    export RUSTC_BOOTSTRAP=1
    cargo_fuzz=(cargo fuzz)
    build_dir_args=(--target-dir fuzz/target-stable)
    echo "fuzz.sh: FUZZ_BOOTSTRAP=1: building with the stable compiler and RUSTC_BOOTSTRAP=1" >&2
elif rustup run nightly rustc --version >/dev/null 2>&1; then
    cargo_fuzz=(cargo +nightly fuzz)
    build_dir_args=()
else
    cat >&2 <<'EOF'
fuzz.sh: missing: a nightly Rust toolchain (cargo-fuzz builds with
-Zsanitizer=address, which stable rustc refuses). `rustup toolchain list`
shows none. Either
  rustup toolchain install nightly        # needs network access to rustup
or, where nightly cannot be installed, use the stable compiler's testing
escape hatch (same coverage-guided ASan build, separate target dir):
  FUZZ_BOOTSTRAP=1 scripts/fuzz.sh ...
Without either, the target bodies still run on stable, not coverage-guided:
  cargo run --release --manifest-path fuzz/Cargo.toml --example replay -- all --random 200000
EOF
    exit 2
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz.sh: missing: cargo-fuzz (no \`cargo fuzz\` subcommand); installing it: cargo install cargo-fuzz --locked (about 3 minutes)" >&2
    if ! cargo install cargo-fuzz --locked; then
        echo "fuzz.sh: could not install cargo-fuzz; install it by hand (cargo install cargo-fuzz) and run again" >&2
        exit 2
    fi
fi

all_targets=$("${cargo_fuzz[@]}" list 2>/dev/null)
if [ -z "$all_targets" ]; then
    echo "fuzz.sh: \`${cargo_fuzz[*]} list\` lists no targets (run from a checkout with fuzz/)" >&2
    exit 2
fi
if [ "$target_arg" = all ]; then
    targets=$all_targets
elif printf '%s\n' "$all_targets" | grep -qx -- "$target_arg"; then
    targets=$target_arg
else
    echo "fuzz.sh: unknown target '$target_arg'; targets: $(echo $all_targets) all" >&2
    exit 2
fi

mkdir -p fuzz/logs
echo "fuzz.sh: building $(echo $targets) (the first sanitizer build takes several minutes)" >&2
# shellcheck disable=SC2086
if ! "${cargo_fuzz[@]}" build "${build_dir_args[@]}" $( [ "$target_arg" = all ] || echo "$target_arg" ) \
    >fuzz/logs/build.log 2>&1; then
    tail -30 fuzz/logs/build.log >&2
    echo "fuzz.sh: the fuzz build failed; see fuzz/logs/build.log" >&2
    exit 2
fi

# --- helpers -----------------------------------------------------------------

# libFuzzer flags of one target besides the common ones. transcript and
# serve_http run threads (the replay runner's scoped reader thread, the
# server's runtime): LeakSanitizer's per-input check then reports the
# 32-byte TLS-destructor list of a thread still exiting, a false positive
# that does not reproduce, so leak checking is off for them.
flags_of() {
    case $1 in
    transcript | serve_http) echo -detect_leaks=0 ;;
    esac
}

count_files() { find "$1" -maxdepth 1 -type f 2>/dev/null | wc -l; }
apparent_kb() { du -s --apparent-size -k "$1" | cut -f1; }

# Keep the smallest files of a directory within the caps.
cap_corpus() {
    local dir=$1 n=0 kb=0 size path
    find "$dir" -maxdepth 1 -type f -printf '%s %p\n' | sort -n | while read -r size path; do
        n=$((n + 1))
        kb=$((kb + (size + 1023) / 1024))
        if [ "$n" -gt "$corpus_max_files" ] || [ "$kb" -gt "$corpus_max_kb" ]; then
            rm -f -- "$path"
        fi
    done
}

# merge OUT IN LOG [FLAGS...]: the inputs of IN that cover IN's features,
# into the empty directory OUT.
merge() {
    local out=$1 in=$2 log=$3 t=$4
    shift 4
    "${cargo_fuzz[@]}" run "${build_dir_args[@]}" "$t" "$out" "$in" -- \
        -set_cover_merge=1 -rss_limit_mb=2048 -timeout=10 -max_len="$(max_len_of "$t")" \
        -artifact_prefix="$tmp/merge-" $(flags_of "$t") "$@" >>"$log" 2>&1 &&
        [ "$(count_files "$out")" -gt 0 ]
}

total_new=0
broken=0
summary=()

for t in $targets; do
    corpus=fuzz/corpus/$t          # committed, capped
    work=fuzz/corpus-local/$t      # git-ignored, kept between runs, uncapped
    artifacts=fuzz/artifacts/$t
    log=fuzz/logs/$t.log
    mkdir -p "$corpus" "$work" "$artifacts"
    : >"$log"
    if [ "$(count_files "$corpus")" -eq 0 ]; then
        echo "fuzz.sh: $corpus is empty; writing the built-in seeds" >&2
        cargo run -q --manifest-path fuzz/Cargo.toml --example seeds -- "$t" >>"$log" 2>&1
    fi
    cp -p "$corpus"/* "$work"/ 2>/dev/null
    before=$(count_files "$artifacts")
    start=$(date +%s)
    execs=0
    runs=0
    while :; do
        elapsed=$(($(date +%s) - start))
        left=$((seconds - elapsed))
        [ "$left" -ge 5 ] || break
        runs=$((runs + 1))
        echo "=== run $runs: $left s left" >>"$log"
        # shellcheck disable=SC2046,SC2086
        "${cargo_fuzz[@]}" run "${build_dir_args[@]}" "$t" "$work" -- \
            -max_total_time="$left" -rss_limit_mb=2048 -timeout=10 \
            -max_len="$(max_len_of "$t")" -print_final_stats=1 $(flags_of "$t") \
            ${FUZZ_EXTRA:-} >>"$log" 2>&1
        rc=$?
        n=$(sed -n "/^=== run $runs:/,\$p" "$log" | sed -n 's/^stat::number_of_executed_units: *//p' | tail -1)
        execs=$((execs + ${n:-0}))
        [ "$rc" -eq 0 ] && break
        # (no grep -q: it would stop reading, and with pipefail sed's SIGPIPE
        # would count as "not found"; -a: inputs make the log binary)
        artifact=$(sed -n "/^=== run $runs:/,\$p" "$log" | grep -a -o 'Test unit written to .*' |
            tail -1 | sed 's/^Test unit written to //')
        if [ -z "$artifact" ]; then
            echo "fuzz.sh: $t: libFuzzer exited $rc without writing a finding; see $log" >&2
            broken=1
            break
        fi
        # An input of the corpus itself that fails (say the target got
        # stricter) would end every restart while loading: take it out.
        if [ -f "$artifact" ]; then
            asize=$(stat -c %s "$artifact")
            for f in "$work"/*; do
                if [ "$(stat -c %s "$f")" = "$asize" ] && cmp -s "$f" "$artifact"; then
                    rm -f -- "$f"
                    echo "=== $f is the finding: removed from the local corpus" >>"$log"
                fi
            done
        fi
        found=$(($(count_files "$artifacts") - before))
        [ "$found" -lt "$max_findings" ] || break
        # the same finding again and again
        [ "$runs" -lt $((2 * max_findings)) ] || break
    done
    secs=$(($(date +%s) - start))
    # Minimise the local corpus; the committed one is that, capped: if the
    # set cover is too big, cover edges only (no hit counts), then keep the
    # smallest files.
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/hgframe-fuzz-$t.XXXXXX")
    mkdir "$tmp/min" "$tmp/edges"
    echo "=== merge" >>"$log"
    if merge "$tmp/min" "$work" "$log" "$t"; then
        rm -rf "$work"
        mkdir -p "$work"
        cp -p "$tmp/min"/* "$work"/
        keep=$tmp/min
        if [ "$(count_files "$keep")" -gt "$corpus_max_files" ]; then
            echo "=== merge (edges only)" >>"$log"
            merge "$tmp/edges" "$tmp/min" "$log" "$t" -use_counters=0 && keep=$tmp/edges
        fi
        cap_corpus "$keep"
        rm -f "$corpus"/*
        cp -p "$keep"/* "$corpus"/
    else
        echo "fuzz.sh: $t: merge failed, $corpus left as it was; see $log" >&2
        broken=1
    fi
    rm -rf "$tmp"
    after=$(count_files "$artifacts")
    new=$((after - before))
    total_new=$((total_new + new))
    line="$t: executions=$execs seconds=$secs corpus=$(count_files "$corpus") files/$(apparent_kb "$corpus")K (local $(count_files "$work")) findings=$after new=$new runs=$runs"
    summary+=("$line")
    echo "$line"
done

if [ "${#summary[@]}" -gt 1 ]; then
    echo "--- summary"
    printf '%s\n' "${summary[@]}"
fi
[ "$broken" -eq 0 ] || exit 2
[ "$total_new" -eq 0 ] || {
    echo "fuzz.sh: $total_new new finding(s) in fuzz/artifacts/ (see fuzz/logs/)" >&2
    exit 1
}
exit 0
