#!/usr/bin/env bash
# Re-records tests/golden/pcap/: the loopback traffic of a real local Spark job
# (Py4J, daemon and simple workers, collect sockets, accumulator updates) with
# every pinned pyspark, as pcap and pcapng. Needs root (an
# AF_PACKET socket on lo, as tcpdump uses); run it on an otherwise quiet machine,
# since everything on loopback is captured.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(SPARKWIRE_SKIP_FUZZ_TOOLS=1 scripts/setup.sh)"
mkdir -p tests/golden/pcap
for v in $SPARKWIRE_PYSPARK_VERSIONS; do
  var="SPARKWIRE_PY_$(echo "$v" | tr . _)"
  "${!var}" scripts/record_pcap.py "tests/golden/pcap/spark-$v" 2>/dev/null | tail -n 1
done
