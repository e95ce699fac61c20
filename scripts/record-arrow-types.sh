#!/usr/bin/env bash
# Re-records tests/golden/arrow-types/streams.json with the newest pinned pyspark's
# venv (pyarrow 18.1.0, pandas, pytz). Deterministic for a given pyarrow.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(SPARKWIRE_SKIP_FUZZ_TOOLS=1 scripts/setup.sh)"
v="${SPARKWIRE_PYSPARK_VERSIONS##* }"
var="SPARKWIRE_PY_$(echo "$v" | tr . _)"
mkdir -p tests/golden/arrow-types
PYTHONHASHSEED=0 "${!var}" scripts/record_arrow_types.py tests/golden/arrow-types/streams.json
