"""groupByKey/reduceByKey/combineByKey with numPartitions and partitionFunc; layout printed."""
from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("rdd_group_by_key_options"))
pairs = sc.parallelize([(i % 6, i) for i in range(24)], 4)
g = pairs.groupByKey(3, partitionFunc=lambda k: k % 3)
print("groupByKey layout", g.mapValues(sorted).glom().collect())
r = pairs.reduceByKey(lambda a, b: a + b, 2, partitionFunc=lambda k: 0 if k < 3 else 1)
print("reduceByKey layout", [sorted(p) for p in r.glom().collect()])
c = pairs.combineByKey(lambda v: v, max, max, 2, partitionFunc=lambda k: k % 2)
print("combineByKey layout", [sorted(p) for p in c.glom().collect()])
f = pairs.foldByKey(0, lambda a, b: a + b, 3, partitionFunc=lambda k: (k + 1) % 3)
print("foldByKey layout", [sorted(p) for p in f.glom().collect()])
s = pairs.sortByKey(True, 3)
print("sortByKey layout", [[k for k, _ in p] for p in s.glom().collect()])
sc.stop()
