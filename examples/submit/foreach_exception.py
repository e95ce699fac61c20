"""An exception inside foreach and foreachPartition; accumulator updates of failed tasks."""
from py4j.protocol import Py4JJavaError
from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("foreach_exception"))
acc = sc.accumulator(0)


def visit(x):
    if x == 5:
        raise RuntimeError("five")
    acc.add(1)


try:
    sc.parallelize(range(10), 1).foreach(visit)
except Py4JJavaError as e:
    print("foreach", "RuntimeError" in str(e), "five" in str(e), e.java_exception.getClass().getName())
print("acc of failed task not merged", acc.value)


def part(it):
    raise IndexError("partition")


try:
    sc.parallelize(range(4), 2).foreachPartition(part)
except Py4JJavaError as e:
    print("foreachPartition", "IndexError" in str(e))
sc.stop()
