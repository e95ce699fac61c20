"""foreach feeding accumulators."""
from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("rdd_foreach_accumulator"))
total = sc.accumulator(0)
evens = sc.accumulator(0)
rdd = sc.parallelize(range(1, 101), 4)


def visit(x):
    total.add(x)
    if x % 2 == 0:
        evens.add(1)


rdd.foreach(visit)
print("total", total.value, "evens", evens.value)
rdd.foreach(lambda x: total.add(1))
print("after second job", total.value)
sc.stop()
