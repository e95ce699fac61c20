#!/usr/bin/env bash
# Re-records tests/golden/worker/spark-<version>/ with every pinned pyspark: real
# local Spark jobs whose worker connections pass through `sparkwire tap`.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(SPARKWIRE_SKIP_FUZZ_TOOLS=1 scripts/setup.sh)"
cargo build --release --locked --quiet
for v in $SPARKWIRE_PYSPARK_VERSIONS; do
  var="SPARKWIRE_PY_$(echo "$v" | tr . _)"
  out="tests/golden/worker/spark-$v"
  rm -rf "$out"
  "${!var}" scripts/record_transcripts.py target/release/sparkwire "$out" 2>/dev/null | tail -n 1
done
