"""Unicode through textFile, saveAsTextFile, pipe and shuffles keyed by strings."""
import os
import shutil
import tempfile

from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("values_unicode_text"))
tmp = tempfile.mkdtemp()
try:
    words = ["naïve", "café", "日本語", "emoji 🎉", "Ελληνικά", "ascii", "naïve"]
    path = os.path.join(tmp, "u.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(words) + "\n")
    rdd = sc.textFile(path, 2)
    print("read", rdd.collect())
    print("lengths", rdd.map(len).collect())
    print("counts", sorted(rdd.map(lambda w: (w, 1)).reduceByKey(lambda a, b: a + b).collect()))
    out = os.path.join(tmp, "out")
    rdd.map(lambda w: w[::-1]).saveAsTextFile(out)
    print("saved", sorted(sc.textFile(out).collect()))
    print("pipe", sc.parallelize(words[:3], 1).pipe("cat").collect())
    print("sorted", sc.parallelize(words, 3).distinct().sortBy(lambda w: w).collect())
finally:
    sc.stop()
    shutil.rmtree(tmp, ignore_errors=True)
