"""treeReduce and treeAggregate at several depths."""
from operator import add

from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("rdd_tree_reduce_aggregate"))
rdd = sc.parallelize(range(1000), 16)
for depth in (1, 2, 3, 4):
    print("treeReduce", depth, rdd.treeReduce(add, depth))
    print("treeAggregate", depth, rdd.treeAggregate((0, 0), lambda a, v: (a[0] + v, a[1] + 1),
                                                    lambda a, b: (a[0] + b[0], a[1] + b[1]), depth))
print("floats", sc.parallelize([0.1] * 100, 10).treeReduce(add, 2))
print("strings", sc.parallelize(list("abcdefgh"), 4).treeAggregate("", lambda a, v: a + v, lambda a, b: a + b))
sc.stop()
