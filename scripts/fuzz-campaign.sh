#!/usr/bin/env bash
# A fuzzing campaign: every cargo-fuzz target for N minutes, under the memory
# limits of scripts/fuzz-limits.sh, with its corpus kept outside the clone
# (~/.cache/sparkwire/fuzz-corpus/<target>, seeded from fuzz/corpus/<target>) so
# that successive campaigns build on each other. Prints one line per target:
# executions, executions per second, coverage (edges) and features, peak RSS,
# build. A crash stops the campaign with the input under fuzz/artifacts/<target>/.
#
# The pickle targets are built without a sanitizer and without comparison
# tracing (`-s none --no-trace-compares`), where they run 10–15× more
# executions per second and reach more coverage in the same time (measured,
# README "Fuzz speed"). They are safe Rust; their 64 MiB single-allocation
# limit, which libFuzzer enforces only through a sanitizer's malloc hooks, is
# enforced by fuzz/src/lib.rs's allocator, and -rss_limit_mb works either way.
# Every other target, and every target in the smoke run of scripts/test.sh,
# keeps AddressSanitizer and comparison tracing. A fast build counts its edges
# differently: its `cov` is not comparable with an ASan build's (the last
# column names the build).
#
#   scripts/fuzz-campaign.sh [MINUTES] [TARGET...]     (default 10, every target)
#   SPARKWIRE_FUZZ_JOBS          targets run at once (default 1)
#   SPARKWIRE_FUZZ_FAST_TARGETS  targets built the fast way (default
#                                "pickle_roundtrip pickle_decode"; empty: none)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/fuzz-limits.sh
cache="${SPARKWIRE_CACHE:-$HOME/.cache/sparkwire}"
minutes="${1:-10}"
shift || true
targets="${*:-$(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^sparkwire-fuzz$')}"
jobs="${SPARKWIRE_FUZZ_JOBS:-1}"
fast_targets="${SPARKWIRE_FUZZ_FAST_TARGETS-pickle_roundtrip pickle_decode}"
logs="$cache/fuzz-logs/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$logs"
export RUSTC_BOOTSTRAP=1

is_fast() { case " $fast_targets " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
# cargo-fuzz flags and build directory of a target: each build kind has its own
# directory (the smoke run's is $cache/fuzz-target), so that neither rebuilds
# the other's dependencies with different flags.
build_flags() { if is_fast "$1"; then echo "-s none --no-trace-compares"; fi; }
target_dir() { if is_fast "$1"; then echo "$cache/fuzz-target-fast"; else echo "$cache/fuzz-target"; fi; }

for t in $fast_targets; do
  # Without a sanitizer, the allocation limit is the allocator's in
  # fuzz/src/lib.rs: only targets linking that library have it.
  if ! grep -q 'sparkwire_fuzz::' "fuzz/fuzz_targets/$t.rs"; then
    echo "$t does not link fuzz/src/lib.rs (its allocation limit): not built without a sanitizer" >&2
    exit 1
  fi
done
for t in $targets; do
  # shellcheck disable=SC2046
  CARGO_TARGET_DIR=$(target_dir "$t") cargo fuzz build -O $(build_flags "$t") "$t" >/dev/null 2>&1 ||
    CARGO_TARGET_DIR=$(target_dir "$t") cargo fuzz build -O $(build_flags "$t") "$t"
done

run() {
  local t=$1 corpus="$cache/fuzz-corpus/$1" build=asan
  if is_fast "$t"; then build=none-ntc; fi
  mkdir -p "$corpus"
  # shellcheck disable=SC2046
  if ! CARGO_TARGET_DIR=$(target_dir "$t") cargo fuzz run -O $(build_flags "$t") "$t" "$corpus" "fuzz/corpus/$t" -- \
      -max_total_time=$((minutes * 60)) -print_final_stats=1 $(fuzz_limits) \
      >"$logs/$t.log" 2>&1; then
    echo "$t: CRASH (log $logs/$t.log, input under fuzz/artifacts/$t/)"
    return 1
  fi
  awk -v t="$t" -v b="$build" '
    /^stat::number_of_executed_units/ {n = $2}
    /^stat::average_exec_per_sec/ {r = $2}
    /^stat::peak_rss_mb/ {m = $2}
    /DONE +cov:/ {for (i = 1; i <= NF; i++) {if ($i == "cov:") c = $(i + 1); if ($i == "ft:") f = $(i + 1)}}
    END {printf "%-18s %11d execs %8d execs/s  cov %5d  ft %6d  peak %4d MiB  %s\n", t, n, r, c, f, m, b}' "$logs/$t.log"
}

echo "campaign: $minutes min per target, $jobs at a time; built without sanitizer: ${fast_targets:-none}; logs in $logs"
failed=0
running=0
for t in $targets; do
  run "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n || failed=1
    running=$((running - 1))
  fi
done
while [ "$running" -gt 0 ]; do
  wait -n || failed=1
  running=$((running - 1))
done
exit "$failed"
