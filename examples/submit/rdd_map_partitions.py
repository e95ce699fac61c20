"""mapPartitions, mapPartitionsWithIndex, glom and preservesPartitioning."""
from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("rdd_map_partitions"))
rdd = sc.parallelize(range(10), 4)
print("glom", rdd.glom().collect())
print("sums", rdd.mapPartitions(lambda it: [sum(it)]).collect())
print("indexed", rdd.mapPartitionsWithIndex(lambda i, it: [(i, list(it))]).collect())
print("empty parts", rdd.mapPartitions(lambda it: (x for x in it if x > 7)).glom().collect())
pairs = sc.parallelize([(i % 3, i) for i in range(9)], 3).partitionBy(3)
kept = pairs.mapPartitions(lambda it: ((k, v * 10) for k, v in it), preservesPartitioning=True)
print("preserves", kept.partitioner == pairs.partitioner, kept.glom().collect())
print("lost", pairs.mapPartitions(lambda it: it).partitioner)
print("num partitions", rdd.getNumPartitions(), kept.getNumPartitions())
sc.stop()
