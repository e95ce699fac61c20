"""subtractByKey and lookup, with and without a partitioner."""
from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("rdd_subtract_by_key_lookup"))
a = sc.parallelize([(1, "a"), (2, "b"), (3, "c"), (3, "cc"), (4, "d")], 3)
b = sc.parallelize([(3, None), (4, None), (5, None)], 2)
print("subtractByKey", sorted(a.subtractByKey(b).collect()))
print("subtractByKey parts", a.subtractByKey(b, 4).getNumPartitions())
print("lookup", sorted(a.lookup(3)), a.lookup(9))
part = a.partitionBy(2)
print("lookup partitioned", sorted(part.lookup(3)), part.lookup(2), part.lookup(7))
sc.stop()
