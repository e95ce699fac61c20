"""Word count: the bundled example for `sparkwire submit` (README quick start).

Runs unchanged under spark-submit; prints the five most frequent words of a
text file with their counts, then the number of distinct words.
"""
import sys

from pyspark import SparkConf, SparkContext

path = sys.argv[1] if len(sys.argv) > 1 else "examples/data/lines.txt"
sc = SparkContext(conf=SparkConf().setAppName("wordcount"))
counts = (
    sc.textFile(path)
    .flatMap(lambda line: line.split())
    .map(lambda word: (word, 1))
    .reduceByKey(lambda a, b: a + b)
)
for word, n in counts.takeOrdered(5, key=lambda wc: (-wc[1], wc[0])):
    print(f"{word} {n}")
print("distinct", counts.count())
sc.stop()
