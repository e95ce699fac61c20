#!/usr/bin/env bash
# Preflight of the test command: every oracle the differential tests need is
# present — one venv per pinned pyspark (with that exact version) and a JDK 17
# or later (java and javac, for the Pyrolite and Spark oracles). Prints what it
# found; exits 1 naming everything that is missing.
#
#   SPARKWIRE_CACHE, SPARKWIRE_PYSPARK, SPARKWIRE_PY_<version>: as scripts/setup.sh
#   SPARKWIRE_JAVA, SPARKWIRE_JAVAC: the JDK tools to use (default: on PATH)
set -u
cache="${SPARKWIRE_CACHE:-$HOME/.cache/sparkwire}"
versions="${SPARKWIRE_PYSPARK:-3.5.9 4.0.1 4.1.4 4.2.1 4.3.0}"
missing=()
for v in $versions; do
  key="SPARKWIRE_PY_$(echo "$v" | tr . _)"
  py="${!key:-$cache/venv/pyspark-$v/bin/python}"
  if [ ! -x "$py" ]; then
    missing+=("the pyspark $v venv ($py)")
    continue
  fi
  got=$("$py" -c 'import pyspark; print(pyspark.__version__)' 2>/dev/null) || got=""
  [ "$got" = "$v" ] || missing+=("pyspark $v in $py (it has '${got:-none}')")
done
java="${SPARKWIRE_JAVA:-java}"
javac="${SPARKWIRE_JAVAC:-javac}"
jv=$("$java" -version 2>&1 | head -n 1) || jv=""
major=$(printf '%s' "$jv" | sed -n 's/.*version "\([0-9][0-9]*\).*/\1/p')
if [ -z "$major" ] || [ "$major" -lt 17 ]; then
  missing+=("Java 17 or later ($java: ${jv:-not found})")
fi
"$javac" -version >/dev/null 2>&1 || missing+=("a JDK's javac ($javac)")
if [ ${#missing[@]} -gt 0 ]; then
  printf 'missing oracle: %s\n' "${missing[@]}" >&2
  echo "run scripts/setup.sh: it installs the venvs, and Java 17 where it can" >&2
  exit 1
fi
echo "oracles: pyspark $versions; $jv"
