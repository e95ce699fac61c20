"""map, filter, flatMap and mapValues-free element transformations."""
from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("rdd_map_filter_flatmap"))
rdd = sc.parallelize(range(1, 21), 3)
print("map", rdd.map(lambda x: x * x).collect())
print("filter", rdd.filter(lambda x: x % 3 == 0).collect())
print("flatMap", rdd.flatMap(lambda x: [x] * (x % 3)).collect())
print("flatMap strings", sc.parallelize(["a b", "c d e", ""], 2).flatMap(str.split).collect())
print("chained", rdd.map(lambda x: (x, x % 4)).filter(lambda kv: kv[1] == 1).map(lambda kv: kv[0]).collect())
print("generator", rdd.flatMap(lambda x: (i for i in range(x % 4))).count())
sc.stop()
