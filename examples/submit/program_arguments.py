"""Command-line arguments reach the program."""
# args: 7 hello "two words"
import sys

from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("program_arguments"))
n = int(sys.argv[1])
print("argv", sys.argv[1:])
print("words", sc.parallelize(sys.argv[2:], 2).map(str.upper).collect())
print("range", sc.parallelize(range(n), 2).sum())
sc.stop()
