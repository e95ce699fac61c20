"""toLocalIterator (with and without prefetch), partial consumption."""
import itertools

from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("rdd_to_local_iterator"))
rdd = sc.parallelize(range(20), 5)
print("all", list(rdd.toLocalIterator()))
print("prefetch", list(rdd.toLocalIterator(prefetchPartitions=True)))
print("first 3", list(itertools.islice(rdd.map(lambda x: x * 10).toLocalIterator(), 3)))
print("empty partitions", list(rdd.filter(lambda x: x in (0, 19)).toLocalIterator()))
print("after partial", rdd.count())
sc.stop()
