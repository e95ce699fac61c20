"""int and float accumulators, += in tasks, value set on the driver."""
from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("accumulator_int_float"))
ints = sc.accumulator(0)
floats = sc.accumulator(0.0)
rdd = sc.parallelize(range(1, 11), 3)


def add(x):
    global ints, floats
    ints += x
    floats += x / 4


rdd.foreach(add)
print("ints", ints.value, "floats", floats.value)
ints.value = 100
rdd.foreach(lambda x: ints.add(1))
print("after reset", ints.value)
counted = rdd.map(lambda x: (floats.add(0.5), x)[1]).collect()
print("in map", counted, floats.value)
print("repr", repr(ints), str(floats))
sc.stop()
