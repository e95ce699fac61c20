#!/usr/bin/env bash
# The complete test suite, set-up included: the README's test command, and what
# .ci/run calls. Safe to re-run; everything slow is cached under ~/.cache/sparkwire.
#
#   SPARKWIRE_FUZZ_SECONDS  seconds per fuzz target in the smoke run (default 15)
set -euo pipefail
cd "$(dirname "$0")/.."
cache="${SPARKWIRE_CACHE:-$HOME/.cache/sparkwire}"
step() { printf '\n== %s\n' "$*"; }

step "set-up (pyspark venvs, Java 17, cargo-fuzz)"
eval "$(scripts/setup.sh)"
# Every oracle must be there: a differential test that compared nothing is no pass.
scripts/check-oracles.sh
# Build outputs live in the cache too, so a fresh clone does not rebuild the world.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$cache/target}"
export CARGO_TERM_COLOR=never

step "formatting"
cargo fmt --all -- --check
cargo fmt --manifest-path fuzz/Cargo.toml -- --check

step "module structure (no file-level import cycles)"
for src in framing/src serializers/src worker/src inspect/src gateway/src testkit/src src; do
  python3 scripts/check-module-cycles.py "$src"
done

step "clippy"
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings

step "tests (oracles: pyspark $SPARKWIRE_PYSPARK_VERSIONS)"
log=$(mktemp)
scratch=$(mktemp -d)
trap 'rm -rf "$log" "$scratch"' EXIT
# Each oracle process records how many requests it answered here.
export SPARKWIRE_ORACLE_COUNTS="$scratch/oracle-counts"
cargo test --workspace --all-features --locked 2>&1 | tee "$log"

step "differential comparisons answered by each oracle"
# Oracle processes outlive their test binary by a moment; let them write.
sleep 1
summary=$(for f in "$SPARKWIRE_ORACLE_COUNTS"/*; do
  [ -f "$f" ] && printf '%s %s\n' "$(basename "${f%.*}")" "$(cat "$f")"
done | awk '{n[$1] += $2} END {for (k in n) printf "%-18s %9d\n", k, n[k]}' | sort)
echo "$summary"
for v in $SPARKWIRE_PYSPARK_VERSIONS; do
  for oracle in pyspark pyrolite; do
    if ! printf '%s\n' "$summary" | awk -v k="$oracle-$v" '$1 == k && $2 > 0 {found = 1} END {exit !found}'; then
      echo "the $oracle oracle of pyspark $v answered no request: its differential tests compared nothing"
      exit 1
    fi
  done
done

step "README main job"
main_job=$(grep -m1 '^cargo run --release -- ' README.md)
echo "$main_job"
eval "$main_job"

step "examples"
# The host example: a pandas UDF over an Arrow batch on the newest pinned release.
newest=$(printf '%s\n' $SPARKWIRE_PYSPARK_VERSIONS | tail -n 1)
newest_py="SPARKWIRE_PY_$(echo "$newest" | tr . _)"
out=$(cargo run --quiet --locked -p sparkwire-worker --example pandas_udf -- "${!newest_py}")
echo "$out"
printf '%s\n' "$out" | grep -q '^4  51$' || { echo "the pandas_udf example did not compute 5 * 10 + 1"; exit 1; }
# The README's submit example: word count of a bundled text, no JVM.
out=$(cargo run --quiet --release --locked -- submit --master 'local[2]' --driver-python "${!newest_py}" examples/wordcount.py)
echo "$out"
printf '%s\n' "$out" | grep -q '^the 7$' || { echo "sparkwire submit examples/wordcount.py did not count 'the' 7 times"; exit 1; }

step "fuzz smoke run (${SPARKWIRE_FUZZ_SECONDS:-15}s per target, memory limits of scripts/fuzz-limits.sh)"
. scripts/fuzz-limits.sh
# shellcheck disable=SC2046
fuzz_targets=$(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^sparkwire-fuzz$')
for t in $fuzz_targets; do
  mkdir -p "$scratch/$t"
  # New inputs go to a scratch directory; the checked-in seeds stay untouched.
  if ! CARGO_TARGET_DIR="$cache/fuzz-target" RUSTC_BOOTSTRAP=1 \
    cargo fuzz run -O "$t" "$scratch/$t" "fuzz/corpus/$t" -- \
      -max_total_time="${SPARKWIRE_FUZZ_SECONDS:-15}" -print_final_stats=1 $(fuzz_limits) \
      >"$scratch/$t.log" 2>&1; then
    tail -n 60 "$scratch/$t.log"
    echo "fuzz target $t FAILED (crash input under fuzz/artifacts/$t)"
    exit 1
  fi
  awk -v t="$t" '/^stat::number_of_executed_units/ {n=$2} /^stat::average_exec_per_sec/ {r=$2}
    END {printf "%-16s %10d execs, %7d execs/s, no crash\n", t, n, r}' "$scratch/$t.log"
done

printf '\n'
awk '/^test result: / {p += $4; f += $6} END {printf "tests: %d passed, %d failed\n", p, f}' "$log"
