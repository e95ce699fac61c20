#!/usr/bin/env bash
# Installs everything the tests and examples need, cached outside the clone so that
# repeat runs are fast. Idempotent: each step checks a stamp and skips when done.
#
#   SPARKWIRE_CACHE   cache root (default ~/.cache/sparkwire)
#   SPARKWIRE_PYSPARK space-separated pyspark versions (default "3.5.9 4.0.1 4.1.4 4.2.1 4.3.0")
#
# Prints the environment variables the tests read, as `export` lines, on stdout
# (everything else goes to stderr), so callers can `eval "$(scripts/setup.sh)"`.
set -euo pipefail

cache="${SPARKWIRE_CACHE:-$HOME/.cache/sparkwire}"
versions="${SPARKWIRE_PYSPARK:-3.5.9 4.0.1 4.1.4 4.2.1 4.3.0}"
python="${SPARKWIRE_PYTHON:-python3}"
mkdir -p "$cache"

log() { printf 'setup: %s\n' "$*" >&2; }

# One venv per pinned pyspark version. pyspark bundles cloudpickle and (in its jars)
# Pyrolite, which are the oracles the differential tests need.
for v in $versions; do
  venv="$cache/venv/pyspark-$v"
  stamp="$venv/.sparkwire-ok"
  if [ ! -f "$stamp" ]; then
    log "creating venv for pyspark $v in $venv"
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "pyspark==$v" >&2
    "$venv/bin/python" -c "import pyspark, sys; assert pyspark.__version__ == '$v', pyspark.__version__" >&2
    touch "$stamp"
  fi
  # pyarrow, for the Arrow IPC boundary tests (what PySpark's Arrow serializers
  # write), and pandas, without which PySpark refuses every Arrow/pandas UDF (the
  # recorded Arrow eval-type transcripts need them).
  if [ ! -f "$venv/.sparkwire-arrow-ok" ]; then
    log "installing pyarrow and pandas into $venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
      "pyarrow==18.1.0" "pandas==2.2.3" "numpy==1.26.4" >&2
    touch "$venv/.sparkwire-arrow-ok"
  fi
done

# A JDK 17 for the Pyrolite and Spark oracles (javac compiles the oracle against
# the jars each pyspark bundles). Installed from Debian's packages when missing
# and we may; otherwise check-oracles.sh names it as missing.
if ! javac -version >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing a JDK 17 (openjdk-17-jdk-headless)"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jdk-headless >&2
  else
    log "no JDK found and cannot install one: install a JDK 17 (java and javac on PATH)"
  fi
fi

# cargo-fuzz for the fuzz smoke runs (stable toolchain + RUSTC_BOOTSTRAP=1).
if [ "${SPARKWIRE_SKIP_FUZZ_TOOLS:-0}" != 1 ] && ! command -v cargo-fuzz >/dev/null 2>&1; then
  log "installing cargo-fuzz"
  cargo install --quiet --locked cargo-fuzz >&2
fi

# What the tests read. Version keys use underscores: SPARKWIRE_PY_3_5_9 etc.
list=""
for v in $versions; do
  key="SPARKWIRE_PY_$(echo "$v" | tr . _)"
  printf 'export %s=%q\n' "$key" "$cache/venv/pyspark-$v/bin/python"
  list="$list $v"
done
printf 'export SPARKWIRE_PYSPARK_VERSIONS=%q\n' "${list# }"
