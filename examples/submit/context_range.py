"""SparkContext.range: start/end/step/numSlices."""
from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("context_range"))
print("end only", sc.range(7).collect())
print("start end", sc.range(3, 9).collect())
print("step", sc.range(0, 20, 6).collect())
print("negative step", sc.range(10, 0, -3).collect())
print("slices", sc.range(0, 10, 1, 4).glom().collect())
print("empty", sc.range(5, 5).collect(), sc.range(5, 5).getNumPartitions())
print("big count", sc.range(0, 1000000, 3).count())
sc.stop()
