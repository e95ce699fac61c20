"""randomSplit with a seed."""
from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("rdd_random_split"))
rdd = sc.parallelize(range(60), 3)
parts = rdd.randomSplit([1.0, 2.0, 3.0], seed=17)
for i, p in enumerate(parts):
    print("split", i, p.collect())
print("total", sum(p.count() for p in parts))
a, b = sc.parallelize(range(10), 2).randomSplit([0.5, 0.5], 4)
print("halves", a.collect(), b.collect())
sc.stop()
