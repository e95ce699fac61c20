"""Pair-RDD odds and ends: keys/values on tuples of tuples, mapValues after partitionBy,
flatMapValues with empty results, distinct on pairs, lookup after mapValues."""
from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("rdd_key_value_misc"))
pairs = sc.parallelize([((1, 2), "a"), ((3, 4), "bc"), ((1, 2), "")], 2)
print("keys", pairs.keys().collect(), "values", pairs.values().collect())
print("flatMapValues empty", pairs.flatMapValues(list).collect())
print("distinct pairs", sorted(pairs.map(lambda kv: (kv[0][0], len(kv[1]))).distinct().collect()))
p = sc.parallelize([(i, i * i) for i in range(10)], 3).partitionBy(3)
mv = p.mapValues(lambda v: -v)
print("mapValues keeps partitioner", mv.partitioner == p.partitioner)
print("lookup", mv.lookup(4), mv.lookup(11))
print("join co-partitioned", sorted(mv.join(p).filter(lambda kv: kv[0] < 3).collect()))
print("swap", sorted(p.map(lambda kv: (kv[1], kv[0])).collect())[:4])
sc.stop()
