"""Big elements and many small ones: a 16 MB string, 300 000 integers through a shuffle."""
from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("values_large_records"))
big = sc.parallelize([0, 1], 2).map(lambda i: ("x" if i else "y") * (16 * 1024 * 1024))
print("big lengths", big.map(len).collect(), big.map(lambda s: s[:3]).collect())
print("big collect", [len(s) for s in big.collect()])
many = sc.parallelize(range(300000), 4)
print("many sum", many.sum())
print("many shuffle", sorted(many.map(lambda x: (x % 10, 1)).reduceByKey(lambda a, b: a + b).collect()))
print("grouped sizes", sorted(many.map(lambda x: (x % 3, x)).groupByKey().mapValues(len).collect()))
print("distinct", many.map(lambda x: x % 1000).distinct().count())
sc.stop()
