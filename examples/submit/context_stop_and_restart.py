"""Stopping a context and starting a second one in the same program."""
from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("context_stop_and_restart"))
print("first", sc.parallelize(range(10), 2).sum())
acc = sc.accumulator(0)
sc.parallelize(range(5), 2).foreach(lambda x: acc.add(x))
print("first acc", acc.value)
sc.stop()
sc2 = SparkContext(conf=SparkConf().setAppName("context_stop_and_restart_2"))
print("second", sc2.appName, sc2.parallelize(range(10), 3).map(lambda x: x * x).sum())
b = sc2.broadcast([1, 2, 3])
print("second broadcast", sc2.parallelize([0, 1, 2], 3).map(lambda i: b.value[i]).collect())
sc2.stop()
sc3 = SparkContext.getOrCreate(SparkConf().setAppName("context_stop_and_restart_3"))
print("third", sc3.appName, sc3.range(5).count())
sc3.stop()
