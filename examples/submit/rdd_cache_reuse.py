"""A cached RDD is computed once: an accumulator counts evaluations."""
from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("rdd_cache_reuse"))
evals = sc.accumulator(0)


def f(x):
    evals.add(1)
    return x * 3


plain = sc.parallelize(range(20), 4).map(f)
plain.count()
plain.count()
print("uncached evaluations", evals.value)
evals.value = 0
cached = sc.parallelize(range(20), 4).map(f).cache()
cached.count()
cached.count()
print("cached sum", cached.sum())
print("cached evaluations", evals.value)
cached.unpersist()
cached.count()
print("after unpersist", evals.value)
sc.stop()
