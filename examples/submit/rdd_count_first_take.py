"""count, first, take, isEmpty and collect, including partial scans."""
from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("rdd_count_first_take"))
rdd = sc.parallelize(range(100), 10)
print("count", rdd.count())
print("first", rdd.first())
print("take 5", rdd.take(5))
print("take 35", rdd.take(35))
print("take all+", len(rdd.take(500)))
sparse = rdd.filter(lambda x: x > 90)
print("take sparse", sparse.take(3), sparse.first())
print("isEmpty", rdd.isEmpty(), sparse.isEmpty(), rdd.filter(lambda x: x < 0).isEmpty())
print("collect", sparse.collect())
try:
    sc.parallelize([], 2).first()
except ValueError as e:
    print("first empty", e)
sc.stop()
