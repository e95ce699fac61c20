"""top and takeOrdered, with and without a key."""
from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("rdd_top_take_ordered"))
rdd = sc.parallelize([10, 4, 2, 12, 3, 15, 7, 7, 1], 3)
print("top", rdd.top(3))
print("top key", rdd.top(3, key=lambda x: -x))
print("takeOrdered", rdd.takeOrdered(4))
print("takeOrdered key", rdd.takeOrdered(4, key=lambda x: (x % 5, x)))
print("more than count", rdd.takeOrdered(20))
words = sc.parallelize(["pear", "fig", "banana", "kiwi", "apple"], 2)
print("words top", words.top(2), words.takeOrdered(2, key=len))
sc.stop()
