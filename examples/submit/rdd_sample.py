"""sample with seeds, with and without replacement."""
from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("rdd_sample"))
rdd = sc.parallelize(range(200), 4)
print("without 0.1", rdd.sample(False, 0.1, seed=11).collect())
print("with 0.1", rdd.sample(True, 0.1, seed=11).collect())
print("with 2.0 count", rdd.sample(True, 2.0, seed=5).count())
print("repeatable", rdd.sample(False, 0.3, 9).collect() == rdd.sample(False, 0.3, 9).collect())
print("fraction 0", rdd.sample(False, 0.0, 1).count())
sc.stop()
