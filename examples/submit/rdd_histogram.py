"""histogram with a bucket count, explicit buckets and uneven buckets."""
from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("rdd_histogram"))
rdd = sc.parallelize([1, 2, 2, 3, 5, 8, 13, 21, 34, 55], 3)
print("count 4", rdd.histogram(4))
print("even buckets", rdd.histogram([0, 10, 20, 30, 40, 50, 60]))
print("uneven buckets", rdd.histogram([0, 3, 10, 60]))
print("floats", sc.parallelize([0.1, 0.5, 0.9, 1.0], 2).histogram(2))
print("same values", sc.parallelize([7, 7, 7], 2).histogram(3))
print("strings", sc.parallelize(["a", "c", "e", "g"], 2).histogram(["a", "d", "z"]))
sc.stop()
