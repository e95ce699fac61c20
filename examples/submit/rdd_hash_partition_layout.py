"""Where default hash partitioning puts string, tuple, float and None keys (portable_hash)."""
from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("rdd_hash_partition_layout"))
keys = ["a", "b", "spark", "", "ünï", (1, "x"), (2,), None, 1.5, -7, 2 ** 40, True, frozenset()]
pairs = sc.parallelize([(k, i) for i, k in enumerate(keys)], 2)
for n in (2, 3, 5):
    print(n, pairs.partitionBy(n).glom().map(lambda p: [i for _, i in p]).collect())
print("reduceByKey", pairs.reduceByKey(lambda a, b: a + b, 3).glom().map(lambda p: sorted(i for _, i in p)).collect())
sc.stop()
