"""parallelize with numSlices: lists, ranges, generators, strings and uneven splits."""
from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("parallelize_num_slices"))
print("default parts", sc.parallelize([1, 2, 3]).getNumPartitions(), sc.defaultParallelism)
for n in (1, 2, 3, 5, 8):
    print("slices", n, sc.parallelize(list(range(7)), n).glom().collect())
print("range", sc.parallelize(range(0, 30, 4), 3).glom().collect())
print("range step", sc.parallelize(range(10, 0, -2), 2).glom().collect())
print("xrange empty", sc.parallelize(range(0), 2).glom().collect())
print("generator", sc.parallelize((x * 2 for x in range(5)), 2).glom().collect())
print("string", sc.parallelize("hello", 2).glom().collect())
print("more slices than items", sc.parallelize([1, 2], 4).glom().collect())
print("large", sc.parallelize(range(100000), 6).map(lambda x: x % 7).sum())
print("batched", sc.parallelize([[i] * 3 for i in range(2000)], 3).map(len).sum())
sc.stop()
