#!/usr/bin/env bash
# Re-records tests/golden/python-hint/: for every CPython 3.6+ found (pyenv's
# versions, or the interpreters named in SPARKWIRE_HINT_PYTHONS) and every pinned
# pyspark, the cloudpickle payloads scripts/record_python_hints.py makes, and each
# interpreter's opcode facts; then regenerates the Rust opcode tables from them.
# Anyone can re-run it; the output is deterministic for given interpreters and pysparks.
set -euo pipefail
export PYTHONDONTWRITEBYTECODE=1
cd "$(dirname "$0")/.."
eval "$(SPARKWIRE_SKIP_FUZZ_TOOLS=1 scripts/setup.sh)"
pythons="${SPARKWIRE_HINT_PYTHONS:-$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.*/bin/python 2>/dev/null || true)}"
out=tests/golden/python-hint
rm -rf "$out"/opcodes "$out"/pyspark-*
mkdir -p "$out/opcodes"
for py in $pythons; do
  ver=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  case "$ver" in 3.[0-5]) continue ;; esac
  # Opcode tables from 3.8 (PySpark's oldest Python); 3.6 and 3.7 payloads are
  # recorded too, to check that their older layout is told apart.
  case "$ver" in 3.[67]) ;; *) "$py" scripts/record_python_hints.py --opcodes "$out/opcodes/py$ver.json" ;; esac
  for v in $SPARKWIRE_PYSPARK_VERSIONS; do
    var="SPARKWIRE_PY_$(echo "$v" | tr . _)"
    site=$("${!var}" -c 'import os, pyspark; print(os.path.dirname(os.path.dirname(pyspark.__file__)))')
    mkdir -p "$out/pyspark-$v"
    if ! PYTHONHASHSEED=0 "$py" scripts/record_python_hints.py "$site/pyspark" "$site/py4j" "$out/pyspark-$v/py$ver.json"; then
      echo "record-python-hints: pyspark $v's cloudpickle does not run on Python $ver; skipped" >&2
      rm -f "$out/pyspark-$v/py$ver.json"
    fi
  done
done
python3 scripts/gen_python_opcodes.py
