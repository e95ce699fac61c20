"""sortBy ascending, descending, with a partition count."""
from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("rdd_sort_by"))
data = [("d", 4), ("a", 9), ("c", 1), ("b", 7), ("e", 2), ("f", 7)]
rdd = sc.parallelize(data, 3)
print("by value", rdd.sortBy(lambda kv: kv[1]).collect())
print("by value desc", rdd.sortBy(lambda kv: (kv[1], kv[0]), ascending=False).collect())
print("by key", rdd.sortBy(lambda kv: kv[0], numPartitions=2).collect())
print("parts", rdd.sortBy(lambda kv: kv[0], numPartitions=2).getNumPartitions())
nums = sc.parallelize([5, 3, 9, 1, 7, 3, 8, 0, 2], 4)
print("numbers", nums.sortBy(lambda x: x).collect())
print("numbers glom", nums.sortBy(lambda x: x, numPartitions=3).glom().collect())
sc.stop()
