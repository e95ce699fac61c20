#!/usr/bin/env bash
# Re-records tests/golden/worker/spark-<version>/ with every pinned pyspark: real
# local Spark jobs whose worker connections pass through `sparkwire tap`.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(SPARKWIRE_SKIP_FUZZ_TOOLS=1 scripts/setup.sh)"
# With job names (`scripts/record-transcripts.sh cartesian zip`), only those jobs
# are re-recorded for every release; the other golden directories stay as they are.
# Spark needs Java 17; every venv must be there.
scripts/check-oracles.sh
cargo build --release --locked --quiet --bin sparkwire
# The binary cargo just built, wherever CARGO_TARGET_DIR puts it.
bin="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/sparkwire"
for v in $SPARKWIRE_PYSPARK_VERSIONS; do
  var="SPARKWIRE_PY_$(echo "$v" | tr . _)"
  # The golden files (bytecode in cloudpickled commands, reprs) were recorded
  # with Python 3.11: re-record with the same.
  "${!var}" -c 'import sys; assert sys.version_info[:2] == (3, 11), "the golden files were recorded with Python 3.11, not " + sys.version'
  out="tests/golden/worker/spark-$v"
  [ $# -gt 0 ] || rm -rf "$out"
  "${!var}" scripts/record_transcripts.py "$bin" "$out" "$@" 2>/dev/null | tail -n 1
done
# The README's bundled example is the 4.3 broadcast-and-accumulator job.
if [ $# -eq 0 ] && [ -d tests/golden/worker/spark-4.3.0/broadcast_accum ]; then
  rm -rf examples/capture-spark-4.3.0
  mkdir -p examples/capture-spark-4.3.0
  cp tests/golden/worker/spark-4.3.0/broadcast_accum/*_worker.0.bin examples/capture-spark-4.3.0/
  # The broadcast values tap copied, so that `sparkwire replay` can re-run it.
  if [ -d tests/golden/worker/spark-4.3.0/broadcast_accum/broadcasts ]; then
    cp -r tests/golden/worker/spark-4.3.0/broadcast_accum/broadcasts examples/capture-spark-4.3.0/
  fi
fi
# What `sparkwire decode` prints for them.
scripts/record-decode-expected.sh
