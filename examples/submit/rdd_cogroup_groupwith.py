"""cogroup and groupWith over two, three and four RDDs."""
from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("rdd_cogroup_groupwith"))
a = sc.parallelize([("k1", 1), ("k2", 2), ("k1", 3)], 2)
b = sc.parallelize([("k1", "x"), ("k3", "y")], 2)
c = sc.parallelize([("k2", 2.5), ("k3", 3.5), ("k3", 4.5)], 1)
d = sc.parallelize([("k4", None)], 1)


def show(rdd):
    return sorted((k, tuple(sorted(v, key=repr) for v in vs)) for k, vs in rdd.mapValues(lambda vs: [list(x) for x in vs]).collect())


print("cogroup", show(a.cogroup(b)))
print("cogroup parts", a.cogroup(b, 3).getNumPartitions())
print("groupWith 3", show(a.groupWith(b, c)))
print("groupWith 4", show(a.groupWith(b, c, d)))
sc.stop()
