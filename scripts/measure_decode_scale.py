"""Records a large real capture for scripts/measure-decode-scale.sh.

Usage: <python of a pinned pyspark venv> scripts/measure_decode_scale.py SPARKWIRE_BINARY OUT_DIR RECORDS PARTITIONS

Runs one real local Spark job whose worker connections pass through
`sparkwire tap`: `sc.range(RECORDS, PARTITIONS).map(lambda i: (i, "%040d" % i))`
hash-partitioned (`partitionBy`) and counted, so that every record crosses a
worker connection twice — as shuffle-map output from the worker, and as input
to the counting task — about 2 × 55 bytes per record in all.
"""
import os
import stat
import sys
import tempfile

from pyspark import SparkConf, SparkContext

sparkwire, out = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
records, partitions = int(sys.argv[3]), int(sys.argv[4])
os.makedirs(out, exist_ok=True)
tmp = tempfile.mkdtemp(prefix="sparkwire-scale-")
wrapper = os.path.join(tmp, "python-tap")
with open(wrapper, "w") as f:
    f.write(
        '#!/bin/sh\nSPARKWIRE_TAP_PYTHON="%s" SPARKWIRE_TAP_DIR="%s" exec "%s" tap -- "$@"\n'
        % (sys.executable, out, sparkwire)
    )
os.chmod(wrapper, os.stat(wrapper).st_mode | stat.S_IEXEC)
os.environ["PYSPARK_PYTHON"] = wrapper
conf = (
    SparkConf()
    .setMaster("local[1]")
    .setAppName("sparkwire-scale")
    .set("spark.python.use.daemon", "false")
    .set("spark.pyspark.python", wrapper)
    .set("spark.ui.enabled", "false")
    .set("spark.driver.memory", "2g")
)
sc = SparkContext(conf=conf)
sc.setLogLevel("ERROR")
n = (
    sc.range(records, numSlices=partitions)
    .map(lambda i: (i, "%040d" % i))
    .partitionBy(partitions)
    .count()
)
assert n == records, (n, records)
sc.stop()
print("recorded", records, "records in", partitions, "partitions to", out)
