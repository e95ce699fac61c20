"""reduceByKey, foldByKey and reduceByKeyLocally."""
from operator import add

from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("rdd_reduce_fold_by_key"))
pairs = sc.parallelize([(i % 5, i) for i in range(50)], 4)
print("reduceByKey", sorted(pairs.reduceByKey(add).collect()))
print("reduceByKey 1 part", pairs.reduceByKey(max, 1).collect())
print("reduceByKey parts", pairs.reduceByKey(add, 7).getNumPartitions())
print("foldByKey", sorted(pairs.foldByKey(0, add).collect()))
print("foldByKey mul", sorted(pairs.mapValues(lambda v: v % 3 + 1).foldByKey(1, lambda a, b: a * b).collect()))
print("reduceByKeyLocally", sorted(pairs.reduceByKeyLocally(add).items()))
strs = sc.parallelize([("k%d" % (i % 3), str(i)) for i in range(12)], 3)
print("string concat", sorted((k, "".join(sorted(v))) for k, v in strs.reduceByKey(lambda a, b: a + b).collect()))
sc.stop()
