"""max and min, with and without a key."""
from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("rdd_max_min"))
rdd = sc.parallelize([3.5, -1.0, 12.25, 7.0], 2)
print("max", rdd.max(), "min", rdd.min())
words = sc.parallelize(["kiwi", "banana", "fig", "cherry"], 3)
print("words", words.max(), words.min())
print("by len", words.max(key=len), words.min(key=len))
pairs = sc.parallelize([("a", 3), ("b", 1), ("c", 2)], 2)
print("by value", pairs.max(key=lambda kv: kv[1]), pairs.min(key=lambda kv: kv[1]))
sc.stop()
