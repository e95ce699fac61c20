"""reduce, fold and aggregate (the zero value is applied per partition)."""
from operator import add, mul

from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("rdd_reduce_fold_aggregate"))
rdd = sc.parallelize(range(1, 11), 3)
print("reduce add", rdd.reduce(add))
print("reduce mul", rdd.reduce(mul))
print("fold 0", rdd.fold(0, add))
print("fold 1 per partition", rdd.fold(1, add))
print("aggregate", rdd.aggregate((0, 0), lambda acc, v: (acc[0] + v, acc[1] + 1), lambda a, b: (a[0] + b[0], a[1] + b[1])))
print("aggregate list", rdd.aggregate([], lambda acc, v: acc + [v % 3], lambda a, b: a + b))
print("empty fold", sc.parallelize([], 3).fold(0, add))
try:
    sc.parallelize([], 2).reduce(add)
except ValueError as e:
    print("empty reduce", type(e).__name__, e)
sc.stop()
