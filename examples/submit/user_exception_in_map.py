"""A ZeroDivisionError in a task surfaces as Py4JJavaError with the Python traceback."""
from py4j.protocol import Py4JJavaError
from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("user_exception_in_map"))
rdd = sc.parallelize(range(5), 2).map(lambda x: 10 // (x - 3))
try:
    rdd.collect()
    print("no error")
except Py4JJavaError as e:
    print("error type", type(e).__name__)
    print("java class", e.java_exception.getClass().getName())
    print("python type named", "ZeroDivisionError" in str(e))
    print("traceback", "Traceback" in str(e))
print("context still usable", sc.parallelize([1, 2, 3], 2).sum())
try:
    sc.parallelize(range(4), 2).map(lambda x: x / 0).count()
except Py4JJavaError as e:
    print("count raised", "ZeroDivisionError" in str(e), e.java_exception.getClass().getName())
sc.stop()
