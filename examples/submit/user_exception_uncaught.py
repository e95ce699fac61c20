"""An exception that escapes the program: exit status 1 after the context is stopped.
The hook reports it in one stable line on stderr (a traceback would name paths);
spark-submit passes the driver's stderr on as part of its stdout."""
import sys

from pyspark import SparkConf, SparkContext


def report(kind, value, tb):
    print("uncaught", kind.__name__, "ValueError" in str(value), file=sys.stderr)


sys.excepthook = report
sc = SparkContext(conf=SparkConf().setAppName("user_exception_uncaught"))
try:
    print("before", sc.parallelize([1, 2], 2).count())
    sc.parallelize([1, 2], 2).map(lambda x: int("not a number")).collect()
    print("not reached")
finally:
    sc.stop()
