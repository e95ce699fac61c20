"""A custom exception class defined in the program, raised in a shuffle map and in reduce."""
from py4j.protocol import Py4JJavaError
from pyspark import SparkConf, SparkContext


class CorpusError(Exception):
    pass


def boom(x):
    if x == 7:
        raise CorpusError("seven is not allowed")
    return (x % 2, x)


sc = SparkContext(conf=SparkConf().setAppName("user_exception_custom"))
try:
    sc.parallelize(range(10), 3).map(boom).reduceByKey(lambda a, b: a + b).collect()
except Py4JJavaError as e:
    print("shuffle map", "CorpusError" in str(e), "seven is not allowed" in str(e), e.java_exception.getClass().getName())


def bad_merge(a, b):
    raise KeyError("merge")


try:
    sc.parallelize([(1, 1), (1, 2), (2, 3)], 2).reduceByKey(bad_merge).collect()
except Py4JJavaError as e:
    print("reduce side", "KeyError" in str(e), e.java_exception.getClass().getName())
try:
    sc.parallelize([1, 2, 3], 3).reduce(bad_merge)
except KeyError as e:
    print("driver-side merge", type(e).__name__, e)
except Py4JJavaError as e:
    print("driver-side merge in task", "KeyError" in str(e))
sc.stop()
