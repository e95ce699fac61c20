"""Under local[4], four tasks of one stage run at once: each task drops a marker file and
waits (with a timeout) until all four markers exist."""
# submit: --master local[4]
import os
import shutil
import tempfile
import time

from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("concurrency_local4"))
print("defaultParallelism", sc.defaultParallelism)
tmp = tempfile.mkdtemp()
try:
    def rendezvous(index, it):
        open(os.path.join(tmp, "task-%d" % index), "w").close()
        deadline = time.time() + 60
        while time.time() < deadline:
            if len([n for n in os.listdir(tmp) if n.startswith("task-")]) >= 4:
                return [(index, "met", sum(it))]
            time.sleep(0.02)
        return [(index, "alone", sum(it))]

    got = sc.parallelize(range(40), 4).mapPartitionsWithIndex(rendezvous).collect()
    print("tasks", got)
    print("4 concurrent" if all(s == "met" for _, s, _ in got) else "not concurrent")
finally:
    sc.stop()
    shutil.rmtree(tmp, ignore_errors=True)
