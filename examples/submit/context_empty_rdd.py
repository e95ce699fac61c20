"""emptyRDD and empty parallelize: actions on nothing."""
from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("context_empty_rdd"))
e = sc.emptyRDD()
print("emptyRDD", e.collect(), e.count(), e.isEmpty(), e.getNumPartitions(), e.take(3))
p = sc.parallelize([], 3)
print("parallelize", p.collect(), p.count(), p.isEmpty(), p.getNumPartitions(), p.glom().collect())
print("union", e.union(p).count(), e.union(sc.parallelize([1], 1)).collect())
print("stats", p.stats())
print("distinct", p.distinct().collect(), "groupByKey", p.groupByKey().collect())
print("top", p.top(2), "takeOrdered", p.takeOrdered(2))
print("sum", e.sum())
try:
    e.countByValue()
    print("countByValue: no error")
except ValueError as err:
    print("countByValue", err)
sc.stop()
