"""textFile of a file the program writes, with minPartitions, and of a directory."""
import os
import shutil
import tempfile

from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("rdd_text_file"))
tmp = tempfile.mkdtemp()
try:
    path = os.path.join(tmp, "lines.txt")
    with open(path, "w", encoding="utf-8") as f:
        for i in range(50):
            f.write("line %d %s\n" % (i, "x" * (i % 7)))
    lines = sc.textFile(path)
    print("count", lines.count())
    print("first", lines.first())
    print("lengths", lines.map(len).sum())
    print("minPartitions 5", sc.textFile(path, 5).getNumPartitions(), sc.textFile(path, 5).count())
    print("glom sizes", [len(p) for p in sc.textFile(path, 4).glom().collect()])
    d = os.path.join(tmp, "dir")
    os.mkdir(d)
    for name, body in (("a.txt", "alpha\nbeta\n"), ("b.txt", "gamma\n"), ("c.txt", "no newline at end")):
        with open(os.path.join(d, name), "w", encoding="utf-8") as f:
            f.write(body)
    print("directory", sorted(sc.textFile(d).collect()))
    print("glob", sorted(sc.textFile(os.path.join(d, "[ab].txt")).collect()))
    print("comma list", sorted(sc.textFile(os.path.join(d, "a.txt") + "," + os.path.join(d, "c.txt")).collect()))
    crlf = os.path.join(tmp, "crlf.txt")
    with open(crlf, "wb") as f:
        f.write(b"one\r\ntwo\r\n\r\nthree")
    print("crlf", sc.textFile(crlf).collect())
    print("use_unicode False", sc.textFile(crlf, use_unicode=False).take(1))
finally:
    sc.stop()
    shutil.rmtree(tmp, ignore_errors=True)
