"""distinct, union, intersection, subtract and cartesian."""
from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("rdd_set_operations"))
a = sc.parallelize([1, 2, 2, 3, 4, 4, 4, 5], 3)
b = sc.parallelize([4, 5, 6, 6, 7], 2)
print("distinct", sorted(a.distinct().collect()))
print("distinct parts", a.distinct(2).getNumPartitions())
u = a.union(b)
print("union", u.collect(), u.getNumPartitions())
print("intersection", sorted(a.intersection(b).collect()))
print("subtract", sorted(a.subtract(b).collect()))
print("subtract numPartitions", a.subtract(b, 5).getNumPartitions())
c = sc.parallelize(["x", "y"], 2).cartesian(sc.parallelize([1, 2, 3], 2))
print("cartesian", sorted(c.collect()), c.getNumPartitions())
print("self union", sorted(b.union(b).distinct().collect()))
sc.stop()
