#!/usr/bin/env bash
# Re-records tests/golden/framing/pyspark-<version>/ with each pinned pyspark.
# Anyone can re-run it; the output is deterministic for a given pyspark and Python.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(SPARKWIRE_SKIP_FUZZ_TOOLS=1 scripts/setup.sh)"
for v in $SPARKWIRE_PYSPARK_VERSIONS; do
  var="SPARKWIRE_PY_$(echo "$v" | tr . _)"
  out="tests/golden/framing/pyspark-$v"
  rm -rf "$out"
  PYTHONHASHSEED=0 "${!var}" scripts/record_golden.py "$out"
done
