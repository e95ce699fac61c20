#!/usr/bin/env bash
# Records what every program of the submit corpus (examples/submit/*.py) prints
# under real Spark, for every pinned pyspark: examples/submit/expected/
# pyspark-<version>/<program>.out (stdout) and .code (exit status), plus
# timings.tsv (real Spark's wall time per program) and a README with the
# provenance. tests/submit_corpus.rs compares `sparkwire submit` against them.
#
#   scripts/record-submit-expected.sh [--force] [--mode attach|spark-submit] [PROGRAM ...]
#
# Resumable: a program whose .out and .code exist is skipped unless --force.
# scripts/record_submit_expected.py explains how real Spark is run (one gateway
# JVM per version that plain programs attach to; the real bin/spark-submit for
# programs that declare launcher options, or for all with --mode spark-submit).
#
#   SPARKWIRE_PYSPARK_VERSIONS  versions to record (default: all pinned)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${SPARKWIRE_PYSPARK_VERSIONS:-}" ]; then
  eval "$(SPARKWIRE_SKIP_FUZZ_TOOLS=1 scripts/setup.sh)"
fi
command -v java >/dev/null || { echo "record-submit-expected: Spark needs a Java 17 on PATH" >&2; exit 1; }

corpus=examples/submit
mode=attach
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --force) extra+=(--force) ;;
    --mode) mode="$2"; shift ;;
    *) break ;;
  esac
  shift
done

for v in $SPARKWIRE_PYSPARK_VERSIONS; do
  var="SPARKWIRE_PY_$(echo "$v" | tr . _)"
  py="${!var}"
  out="$corpus/expected/pyspark-$v"
  echo "record-submit-expected: pyspark $v ($mode)" >&2
  start=$(date +%s)
  PYTHONHASHSEED=0 "$py" scripts/record_submit_expected.py --corpus "$corpus" --out "$out" \
    --mode "$mode" ${extra[@]+"${extra[@]}"} "$@"
  echo "record-submit-expected: pyspark $v took $(( $(date +%s) - start )) s" >&2
done

# The README lists every recorded version, also those not re-recorded now.
rows=""
for d in "$corpus"/expected/pyspark-*/; do
  v=$(basename "$d"); v=${v#pyspark-}
  var="SPARKWIRE_PY_$(echo "$v" | tr . _)"
  info="?"
  [ -n "${!var:-}" ] && info=$("${!var}" -c 'import sys; print(sys.version.split()[0])')
  rows="$rows| $v | $info | $(ls "$d" | grep -c '\.out$') |"$'\n'
done

cat >"$corpus/expected/README.md" <<EOF2
# Expected output of the submit corpus under real Spark

Recorded by \`scripts/record-submit-expected.sh\` (with
\`scripts/record_submit_expected.py\`) on $(date -u +%Y-%m-%d), Java
$(java -version 2>&1 | head -n 1 | sed 's/.*version "\([^"]*\)".*/\1/'), \`PYTHONHASHSEED=0\` for the driver, \`--master local[2]\` unless a
program's \`# submit:\` header says otherwise.

\`pyspark-<version>/<program>.out\` is what spark-submit would print on stdout
for the program byte for byte: the driver's stdout with its stderr merged in
order, as spark-submit's PythonRunner merges them (Spark's own log stays on
stderr and is not recorded);
\`<program>.code\` its exit status and \`timings.tsv\` real Spark's wall time
per program with how it was launched: \`attach\` (a driver process attached to
one gateway JVM started per version with pyspark's \`launch_gateway()\`, so the
time excludes the JVM start) or \`spark-submit\` (pyspark's own
\`bin/spark-submit\`, JVM start included).

| pyspark | Python | programs |
|---|---|---|
$rows
Checked by \`tests/submit_corpus.rs\`, which runs every program under
\`sparkwire submit\` and compares stdout and exit status.
EOF2
