"""What the driver writes to stderr: spark-submit passes it on as part of its stdout,
in order with what the driver writes to stdout."""
import sys

from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("driver_stderr_merged"))
print("stdout 1")
print("stderr 1", file=sys.stderr)
print("stdout 2", sc.parallelize(range(4), 2).sum())
sys.stderr.write("stderr 2 without newline")
sys.stderr.flush()
print()
print("stdout 3")
sc.stop()
