#!/usr/bin/env bash
# Re-records tests/golden/spec-examples/pyspark-<version>.json: the serializers
# spec's worked examples as every pinned PySpark writes them.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(SPARKWIRE_SKIP_FUZZ_TOOLS=1 scripts/setup.sh)"
mkdir -p tests/golden/spec-examples
for v in $SPARKWIRE_PYSPARK_VERSIONS; do
  var="SPARKWIRE_PY_$(echo "$v" | tr . _)"
  "${!var}" scripts/record_spec_examples.py "tests/golden/spec-examples/pyspark-$v.json"
done
echo "recorded $(ls tests/golden/spec-examples | wc -l) files into tests/golden/spec-examples" >&2
