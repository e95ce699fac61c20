"""partitionBy with the default hash and a custom partition function."""
from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("rdd_partition_by"))
pairs = sc.parallelize([(i, str(i)) for i in range(12)], 3)
p = pairs.partitionBy(4)
print("hash layout", p.glom().collect())
print("partitioner", p.partitioner.numPartitions)
custom = pairs.partitionBy(3, lambda k: 0 if k < 4 else (1 if k < 8 else 2))
print("custom layout", custom.glom().map(lambda part: [k for k, _ in part]).collect())
print("same partitioner", p.partitioner == pairs.partitionBy(4).partitioner)
print("reduce keeps", p.reduceByKey(lambda a, b: a + b).getNumPartitions())
neg = sc.parallelize([(-3, 1), (-2, 2), (5, 3), (None, 4), ((1, 2), 5)], 2).partitionBy(3)
print("mixed keys", neg.glom().collect())
sc.stop()
