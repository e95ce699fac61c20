"""An exception that escapes the program: exit status 1 after the context is stopped."""
from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("user_exception_uncaught"))
try:
    print("before", sc.parallelize([1, 2], 2).count())
    sc.parallelize([1, 2], 2).map(lambda x: int("not a number")).collect()
    print("not reached")
finally:
    sc.stop()
