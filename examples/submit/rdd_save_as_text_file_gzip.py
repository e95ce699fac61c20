"""saveAsTextFile with a compression codec, read back through textFile."""
import gzip
import os
import shutil
import tempfile

from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("rdd_save_as_text_file_gzip"))
tmp = tempfile.mkdtemp()
try:
    out = os.path.join(tmp, "gz")
    sc.parallelize(["line %d" % i for i in range(20)], 2).saveAsTextFile(
        out, "org.apache.hadoop.io.compress.GzipCodec")
    parts = sorted(n for n in os.listdir(out) if n.startswith("part-"))
    print("parts", parts)
    with gzip.open(os.path.join(out, parts[0]), "rt") as f:
        print("first part", f.read().splitlines()[:3])
    print("read back", sc.textFile(out).count(), sorted(sc.textFile(out).collect())[:3])
    plain = os.path.join(tmp, "plain.txt.gz")
    with gzip.open(plain, "wt") as f:
        f.write("a\nb\nc\n")
    print("gz input", sc.textFile(plain).collect())
finally:
    sc.stop()
    shutil.rmtree(tmp, ignore_errors=True)
