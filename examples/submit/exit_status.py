"""sys.exit with a code after stopping the context: the status reaches the caller."""
import sys

from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("exit_status"))
print("work", sc.parallelize(range(3), 1).sum())
sc.stop()
sys.exit(3)
