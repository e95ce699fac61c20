"""Accumulators updated inside map/filter/flatMap and shuffles; values after each action."""
from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("accumulator_in_transformations"))
seen = sc.accumulator(0)
dropped = sc.accumulator(0)


def keep(x):
    seen.add(1)
    if x % 4 == 0:
        dropped.add(1)
        return False
    return True


rdd = sc.parallelize(range(40), 4).filter(keep).map(lambda x: (x % 3, x)).reduceByKey(lambda a, b: a + b)
print("before action", seen.value, dropped.value)
print("result", sorted(rdd.collect()))
print("after action", seen.value, dropped.value)
rdd.count()
print("shuffle reused", seen.value, dropped.value)
sc.stop()
