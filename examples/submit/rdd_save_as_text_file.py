"""saveAsTextFile then read back: part files, str() of elements, empty partitions."""
import os
import shutil
import tempfile

from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("rdd_save_as_text_file"))
tmp = tempfile.mkdtemp()
try:
    out = os.path.join(tmp, "out")
    sc.parallelize([1, "two", (3, 4), None, 5.5, "ünïcode"], 3).saveAsTextFile(out)
    names = sorted(os.listdir(out))
    print("files", [n for n in names if not n.startswith(".")])
    for n in names:
        if n.startswith("part-"):
            with open(os.path.join(out, n), encoding="utf-8") as f:
                print(n, repr(f.read()))
    print("read back", sorted(sc.textFile(out).collect()))
    out2 = os.path.join(tmp, "filtered")
    sc.parallelize(range(10), 4).filter(lambda x: x < 3).saveAsTextFile(out2)
    print("sizes", sorted(os.path.getsize(os.path.join(out2, n)) for n in os.listdir(out2) if n.startswith("part-")))
    try:
        sc.parallelize([1], 1).saveAsTextFile(out)
        print("overwrite: no error")
    except Exception as e:  # noqa: BLE001
        print("overwrite", type(e).__name__, "FileAlreadyExistsException" in str(e))
finally:
    sc.stop()
    shutil.rmtree(tmp, ignore_errors=True)
