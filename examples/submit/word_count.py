"""The classic word count over a text file the program writes."""
import os
import re
import shutil
import tempfile

from pyspark import SparkConf, SparkContext

TEXT = """It was the best of times, it was the worst of times,
it was the age of wisdom, it was the age of foolishness,
it was the epoch of belief, it was the epoch of incredulity,
it was the season of Light, it was the season of Darkness,
it was the spring of hope, it was the winter of despair."""

sc = SparkContext(conf=SparkConf().setAppName("word_count"))
tmp = tempfile.mkdtemp()
try:
    path = os.path.join(tmp, "two_cities.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write(TEXT * 20)
    counts = (sc.textFile(path, 3)
              .flatMap(lambda line: re.findall(r"[a-z]+", line.lower()))
              .map(lambda w: (w, 1))
              .reduceByKey(lambda a, b: a + b))
    for word, n in counts.sortBy(lambda wc: (-wc[1], wc[0])).take(8):
        print(word, n)
    print("distinct words", counts.count())
finally:
    sc.stop()
    shutil.rmtree(tmp, ignore_errors=True)
