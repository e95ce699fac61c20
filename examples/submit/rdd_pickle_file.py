"""saveAsPickleFile and pickleFile round trip, with batch sizes."""
import os
import shutil
import tempfile

from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("rdd_pickle_file"))
tmp = tempfile.mkdtemp()
try:
    data = [(i, {"sq": i * i, "s": "v%d" % i}, [i] * (i % 3)) for i in range(25)]
    out = os.path.join(tmp, "pickles")
    sc.parallelize(data, 3).saveAsPickleFile(out, 4)
    back = sc.pickleFile(out)
    print("count", back.count())
    print("equal", sorted(back.collect()) == sorted(data))
    print("sample", sorted(back.collect())[:2])
    out1 = os.path.join(tmp, "batch1")
    sc.parallelize(["a", "b", "c"], 2).saveAsPickleFile(out1, 1)
    print("batch 1", sorted(sc.pickleFile(out1, 3).collect()))
    print("parts", sorted(n for n in os.listdir(out1) if n.startswith("part-")))
finally:
    sc.stop()
    shutil.rmtree(tmp, ignore_errors=True)
