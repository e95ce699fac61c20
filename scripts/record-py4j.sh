#!/usr/bin/env bash
# Re-records tests/golden/py4j/pyspark-<version>/<program>/ with every pinned
# pyspark: small real PySpark driver programs, run with plain `python` (PySpark
# launches its JVM through spark-submit), whose py4j connections are recorded
# byte for byte by scripts/record_py4j.py. Writes tests/golden/py4j/README.md.
#
#   SPARKWIRE_PY4J_PROGRAMS  space-separated subset of the programs (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(SPARKWIRE_SKIP_FUZZ_TOOLS=1 scripts/setup.sh)"
command -v java >/dev/null || { echo "record-py4j: Spark needs a Java 17 on PATH" >&2; exit 1; }

all="context_only map_collect map_collect_nopin reducebykey broadcast_accumulator textfile lambda_exception py4j_surface"
programs="${SPARKWIRE_PY4J_PROGRAMS:-$all}"
root=tests/golden/py4j
repo="$PWD"
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
mkdir -p "$root"

rows=""
for v in $SPARKWIRE_PYSPARK_VERSIONS; do
  var="SPARKWIRE_PY_$(echo "$v" | tr . _)"
  py="${!var}"
  # What this version runs with, for the README.
  info=$("$py" -c '
import glob, os, sys, py4j.version, pyspark
jar = glob.glob(os.path.join(os.path.dirname(pyspark.__file__), "jars", "py4j-*.jar"))
print("%s | %s | %s" % (sys.version.split()[0], py4j.version.__version__,
      os.path.basename(jar[0])[len("py4j-"):-len(".jar")] if jar else "?"))')
  rows="$rows| $v | $info |"$'\n'
  # A full re-record leaves no directory of a program that no longer exists.
  [ "$programs" != "$all" ] || rm -rf "$root/pyspark-$v"
  for p in $programs; do
    out="$root/pyspark-$v/$p"
    rm -rf "$out"
    # A fresh process per program: one SparkContext, one JVM, its own connections.
    # The working directory is a scratch one, so Spark leaves nothing in the clone.
    if ! (cd "$logs" && PYTHONHASHSEED=0 "$py" "$repo/scripts/record_py4j.py" "$repo/$out" "$p" \
          >"$logs/$v-$p.log" 2>&1); then
      echo "record-py4j: pyspark $v $p failed:" >&2
      tail -n 30 "$logs/$v-$p.log" >&2
      exit 1
    fi
    printf 'pyspark %s %-22s %s\n' "$v" "$p" "$(ls "$out" | wc -l) files, $(du -sb "$out" | cut -f1) bytes" >&2
  done
done

py="${!var}"
{
  cat <<EOF
# Golden Py4J conversations

Recorded by \`scripts/record-py4j.sh\` (which runs \`scripts/record_py4j.py\` once per
program and pinned pyspark) on $(date -u +%Y-%m-%d), with \`PYTHONHASHSEED=0\`, Java
$(java -version 2>&1 | head -n 1 | sed 's/.*version "\([^"]*\)".*/\1/'), and \`SparkContext("local[2]", "app")\` started from plain \`python\`
(PySpark's own launch path: spark-submit starts the JVM, whose py4j server the
driver connects to).

Each \`pyspark-<version>/<program>/\` holds, for every py4j connection the driver
opened (numbered in open order, C1 = the main thread's):

* \`C<n>.to_java.bin\`: the exact bytes Python wrote to the JVM (commands, and
  replies to callbacks);
* \`C<n>.to_python.bin\`: the exact bytes Python read back (replies, and
  callback commands).

They are captured inside the driver by replacing the socket class py4j's
\`clientserver\` and \`java_gateway\` modules use with one that logs every
\`sendall\` and every \`readline\` of its \`makefile("rb")\` reader; nothing
else is changed. After each program the helper lets py4j's finalizer queue
drain and stops the finalizer worker, so process exit cannot cut an exchange
in half. Secrets, ports, object ids, temp paths and the timing of \`m d\`
(memory delete) messages differ from run to run: these are recordings, not
canonical transcripts.

| pyspark | Python | py4j (Python client) | py4j jar (JVM side) |
|---|---|---|---|
$rows
| program | env | what it does |
|---|---|---|
EOF
  "$py" scripts/record_py4j.py --describe
  cat <<'EOF'

Checked by `gateway/tests/py4j_golden.rs` (every stream decodes and re-encodes
byte for byte, plus protocol facts) and used to seed the `py4j_command` and
`py4j_reply` fuzz corpora (`scripts/seed-fuzz-corpus.sh`).
EOF
} >"$root/README.md"
du -sh "$root" >&2
