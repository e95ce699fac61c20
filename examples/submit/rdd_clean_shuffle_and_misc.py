"""cleanShuffleDependencies, getNumPartitions after narrow/wide steps, glom of filters."""
from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("rdd_clean_shuffle_and_misc"))
r = sc.parallelize(range(12), 3).map(lambda x: (x % 4, x)).reduceByKey(lambda a, b: a + b)
print("reduced", sorted(r.collect()))
r.cleanShuffleDependencies(blocking=True)
print("after clean", sorted(r.collect()))
f = sc.parallelize(range(12), 4).filter(lambda x: x % 5 == 0)
print("filter glom", f.glom().collect(), f.getNumPartitions())
print("narrow keeps", f.map(str).getNumPartitions(), "wide", f.map(lambda x: (x, 1)).groupByKey(6).getNumPartitions())
sc.stop()
