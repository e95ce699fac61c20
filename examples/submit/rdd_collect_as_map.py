"""collectAsMap (last value wins), keys of mixed types."""
from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("rdd_collect_as_map"))
m = sc.parallelize([(1, "one"), (2, "two"), (1, "uno"), ("3", (3,))], 2).collectAsMap()
print(type(m).__name__, sorted(m.items(), key=repr))
print("empty", sc.parallelize([], 2).collectAsMap())
sc.stop()
