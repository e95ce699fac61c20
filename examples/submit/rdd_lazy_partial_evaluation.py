"""Laziness: take scans only the partitions it needs; generators are consumed lazily."""
from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("rdd_lazy_partial_evaluation"))
touched = sc.accumulator(0)


def mark(it):
    touched.add(1)
    return it


rdd = sc.parallelize(range(100), 10).mapPartitions(mark)
print("take 2", rdd.take(2), "partitions touched", touched.value)
touched.value = 0
print("take 25", len(rdd.take(25)), "partitions touched", touched.value)
touched.value = 0
print("first", rdd.first(), "partitions touched", touched.value)
touched.value = 0
print("count", rdd.count(), "partitions touched", touched.value)
defined = sc.parallelize(range(4), 2).map(lambda x: 1 // 0)
print("lazy: defining a failing map is fine", defined.getNumPartitions())
sc.stop()
