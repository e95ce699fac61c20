"""takeSample with a seed, with and without replacement."""
from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("rdd_take_sample"))
rdd = sc.parallelize(range(100), 4)
print("without", rdd.takeSample(False, 10, seed=7))
print("with", rdd.takeSample(True, 10, seed=7))
print("more than count", len(rdd.takeSample(False, 150, seed=3)))
print("with replacement more", len(rdd.takeSample(True, 150, seed=3)))
print("zero", rdd.takeSample(False, 0, seed=1))
print("small", sc.parallelize(["a", "b", "c"], 2).takeSample(False, 2, seed=42))
sc.stop()
