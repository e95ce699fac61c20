#!/usr/bin/env bash
# Re-records tests/golden/pcap/: the loopback traffic of a real local Spark job
# (Py4J, daemon and simple workers, collect sockets, accumulator updates) with
# every pinned pyspark, as pcap and pcapng. Needs root (an
# AF_PACKET socket on lo, as tcpdump uses); run it on an otherwise quiet machine,
# since everything on loopback is captured. Each capture comes with
# spark-<version>.expected.json, what the job computed, which the test reads.
# `scripts/record-pcap.sh --expected-only` re-writes only those files (no root
# needed, nothing captured).
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(SPARKWIRE_SKIP_FUZZ_TOOLS=1 scripts/setup.sh)"
mkdir -p tests/golden/pcap
for v in $SPARKWIRE_PYSPARK_VERSIONS; do
  var="SPARKWIRE_PY_$(echo "$v" | tr . _)"
  "${!var}" -c 'import sys; assert sys.version_info[:2] == (3, 11), "the golden files were recorded with Python 3.11, not " + sys.version' 
  "${!var}" scripts/record_pcap.py "tests/golden/pcap/spark-$v" "$@" 2>/dev/null | tail -n 1
done
