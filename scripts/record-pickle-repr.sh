#!/usr/bin/env bash
# Re-records tests/golden/pickle_repr/: values pickled in protocols 0-5 with each
# pinned pyspark venv, and CPython 3.11's pickletester literals, each with
# repr(pickle.loads(data)). Deterministic for a given Python and pyspark.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(SPARKWIRE_SKIP_FUZZ_TOOLS=1 scripts/setup.sh)"
out=tests/golden/pickle_repr
mkdir -p "$out"
for v in $SPARKWIRE_PYSPARK_VERSIONS; do
  var="SPARKWIRE_PY_$(echo "$v" | tr . _)"
  PYTHONHASHSEED=0 "${!var}" scripts/record_pickle_repr.py values "$out/values-pyspark-$v.json"
  # Rows the JVM pickles (a local Spark per version); TZ fixed for `timestamp`.
  TZ=UTC PYTHONHASHSEED=0 "${!var}" scripts/record_pickle_repr.py jvm "$out/jvm-rows-pyspark-$v.json" 2>/dev/null
done
# The venvs' CPython carries its test package (Lib/test/pickletester.py).
var="SPARKWIRE_PY_$(echo "${SPARKWIRE_PYSPARK_VERSIONS##* }" | tr . _)"
PYTHONHASHSEED=0 "${!var}" scripts/record_pickle_repr.py pickletester "$out/pickletester-cpython.json"
# Real Python 2.7 pickles (protocols 0-2), loaded by the same Python 3.
py2="${SPARKWIRE_PYTHON2:-$HOME/.pyenv/versions/2.7.18/bin/python}"
tmp="$(mktemp)"
"$py2" scripts/record_pickle_repr_py2.py "$tmp"
PYTHONHASHSEED=0 "${!var}" scripts/record_pickle_repr.py py2 "$tmp" "$out/python2-pickles.json"
rm -f "$tmp"
