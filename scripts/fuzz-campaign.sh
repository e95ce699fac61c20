#!/usr/bin/env bash
# A fuzzing campaign: every cargo-fuzz target for N minutes, under the memory
# limits of scripts/fuzz-limits.sh, with its corpus kept outside the clone
# (~/.cache/sparkwire/fuzz-corpus/<target>, seeded from fuzz/corpus/<target>) so
# that successive campaigns build on each other. Prints one line per target:
# executions, executions per second, coverage (edges) and features, peak RSS.
# A crash stops the campaign with the input under fuzz/artifacts/<target>/.
#
#   scripts/fuzz-campaign.sh [MINUTES] [TARGET...]     (default 10, every target)
#   SPARKWIRE_FUZZ_JOBS   targets run at once (default 1)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/fuzz-limits.sh
cache="${SPARKWIRE_CACHE:-$HOME/.cache/sparkwire}"
minutes="${1:-10}"
shift || true
targets="${*:-$(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^sparkwire-fuzz$')}"
jobs="${SPARKWIRE_FUZZ_JOBS:-1}"
logs="$cache/fuzz-logs/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$logs"
export CARGO_TARGET_DIR="$cache/fuzz-target" RUSTC_BOOTSTRAP=1
for t in $targets; do
  cargo fuzz build -O "$t" >/dev/null 2>&1 || cargo fuzz build -O "$t"
done

run() {
  local t=$1 corpus="$cache/fuzz-corpus/$1"
  mkdir -p "$corpus"
  # shellcheck disable=SC2046
  if ! cargo fuzz run -O "$t" "$corpus" "fuzz/corpus/$t" -- \
      -max_total_time=$((minutes * 60)) -print_final_stats=1 $(fuzz_limits) \
      >"$logs/$t.log" 2>&1; then
    echo "$t: CRASH (log $logs/$t.log, input under fuzz/artifacts/$t/)"
    return 1
  fi
  awk -v t="$t" '
    /^stat::number_of_executed_units/ {n = $2}
    /^stat::average_exec_per_sec/ {r = $2}
    /^stat::peak_rss_mb/ {m = $2}
    /DONE +cov:/ {for (i = 1; i <= NF; i++) {if ($i == "cov:") c = $(i + 1); if ($i == "ft:") f = $(i + 1)}}
    END {printf "%-18s %11d execs %8d execs/s  cov %5d  ft %6d  peak %4d MiB\n", t, n, r, c, f, m}' "$logs/$t.log"
}

echo "campaign: $minutes min per target, $jobs at a time; logs in $logs"
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
