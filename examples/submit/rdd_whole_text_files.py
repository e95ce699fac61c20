"""wholeTextFiles: (path, content) pairs; paths printed relative to the directory."""
import os
import shutil
import tempfile

from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("rdd_whole_text_files"))
tmp = tempfile.mkdtemp()
try:
    for i in range(4):
        with open(os.path.join(tmp, "part-%d.txt" % i), "w", encoding="utf-8") as f:
            f.write("file %d\n" % i + "body\n" * i)
    files = sc.wholeTextFiles(tmp)
    got = sorted((os.path.basename(p), c) for p, c in files.collect())
    for name, content in got:
        print(name, repr(content))
    print("scheme", sorted({p.split(":", 1)[0] for p in files.keys().collect()}))
    print("minPartitions", sc.wholeTextFiles(tmp, 2).count())
finally:
    sc.stop()
    shutil.rmtree(tmp, ignore_errors=True)
