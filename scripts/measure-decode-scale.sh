#!/usr/bin/env bash
# Records a large real capture with `sparkwire tap` and a local PySpark job, then
# prints the peak RSS and wall time of `sparkwire decode` on it: text, JSON and
# --verify. The capture stays outside the repository.
#
#   scripts/measure-decode-scale.sh [RECORDS] [PARTITIONS] [OUT_DIR] [BASELINE_BINARY]
#
# RECORDS (default 12000000) records of ~55 bytes cross the worker connections
# twice (shuffle-map output, then input to the counting task): 12 M records make
# a capture of about 1.2 GB, 1 M about 100 MB. OUT_DIR defaults to a new
# directory under ${TMPDIR:-/tmp}. BASELINE_BINARY, when given, is measured on
# the same capture too (e.g. a build of an earlier commit), and its output is
# compared with this build's byte for byte.
#
# Needs Java 17 and the pinned pyspark venvs (scripts/setup.sh) and GNU time
# (/usr/bin/time). Measures the release build; the numbers are for one shared
# machine, to be read as ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
records="${1:-12000000}"
partitions="${2:-32}"
out="${3:-$(mktemp -d "${TMPDIR:-/tmp}/sparkwire-scale.XXXXXX")}"
baseline="${4:-}"
eval "$(SPARKWIRE_SKIP_FUZZ_TOOLS=1 scripts/setup.sh)"
cargo build --release --locked --quiet --bin sparkwire
bin="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/sparkwire"
if [ ! -e "$out/to_worker.0.bin" ]; then
  "$SPARKWIRE_PY_4_3_0" scripts/measure_decode_scale.py "$bin" "$out" "$records" "$partitions" 2>/dev/null | tail -n 1
fi
echo "capture: $out, $(du -sb "$out" | cut -f1) bytes in $(ls "$out"/to_worker.*.bin | wc -l) connections"
scratch="$(mktemp -d "${TMPDIR:-/tmp}/sparkwire-scale-out.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
measure() { # label binary mode
  local args=()
  case "$3" in json) args=(--format json) ;; verify) args=(--verify) ;; esac
  local status=0
  /usr/bin/time -v "$2" decode "$out" "${args[@]}" >"$scratch/$1-$3.out" 2>"$scratch/$1-$3.err" || status=$?
  printf '%-8s %-6s peak RSS %8s KiB, wall %8s, exit %s, %s bytes out\n' "$1" "$3" \
    "$(awk '/Maximum resident/ {print $NF}' "$scratch/$1-$3.err")" \
    "$(awk '/Elapsed \(wall/ {print $NF}' "$scratch/$1-$3.err")" "$status" \
    "$(stat -c %s "$scratch/$1-$3.out")"
}
for mode in text json verify; do
  measure this "$bin" "$mode"
  if [ -n "$baseline" ]; then
    measure baseline "$baseline" "$mode"
    cmp -s "$scratch/this-$mode.out" "$scratch/baseline-$mode.out" && echo "         $mode: same output" \
      || echo "         $mode: OUTPUT DIFFERS"
    rm -f "$scratch/baseline-$mode.out"
  fi
  rm -f "$scratch/this-$mode.out"
done
