"""binaryFiles and binaryRecords over files the program writes."""
import os
import shutil
import tempfile

from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("rdd_binary_files"))
tmp = tempfile.mkdtemp()
try:
    d = os.path.join(tmp, "bin")
    os.mkdir(d)
    for i in range(3):
        with open(os.path.join(d, "f%d.bin" % i), "wb") as f:
            f.write(bytes(range(i * 4, i * 4 + 8)))
    got = sorted((os.path.basename(p), c) for p, c in sc.binaryFiles(d).collect())
    print("binaryFiles", got)
    rec = os.path.join(tmp, "records.bin")
    with open(rec, "wb") as f:
        f.write(bytes(range(24)))
    print("binaryRecords", sc.binaryRecords(rec, 6).collect())
finally:
    sc.stop()
    shutil.rmtree(tmp, ignore_errors=True)
