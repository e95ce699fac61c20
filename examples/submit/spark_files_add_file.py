"""SparkContext.addFile of a file and of a directory (recursive), read with SparkFiles.get."""
import os
import shutil
import tempfile

from pyspark import SparkConf, SparkContext, SparkFiles

sc = SparkContext(conf=SparkConf().setAppName("spark_files_add_file"))
tmp = tempfile.mkdtemp()
try:
    path = os.path.join(tmp, "weights.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write("10\n20\n30\n")
    sc.addFile(path)

    def weigh(i):
        with open(SparkFiles.get("weights.txt"), encoding="utf-8") as f:
            return int(f.read().split()[i]) * 2

    print("weights", sc.parallelize(range(3), 3).map(weigh).collect())
    d = os.path.join(tmp, "conf_dir")
    os.mkdir(d)
    with open(os.path.join(d, "k.txt"), "w", encoding="utf-8") as f:
        f.write("v")
    sc.addFile(d, recursive=True)

    def read_dir(_):
        with open(os.path.join(SparkFiles.get("conf_dir"), "k.txt"), encoding="utf-8") as f:
            return f.read()

    print("dir", sc.parallelize([0], 1).map(read_dir).collect())
    print("listFiles", sorted(os.path.basename(p.rstrip("/")) for p in sc.listFiles) if hasattr(sc, "listFiles") else "n/a")
finally:
    sc.stop()
    shutil.rmtree(tmp, ignore_errors=True)
