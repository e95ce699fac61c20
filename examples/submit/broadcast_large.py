"""A broadcast of a few megabytes and several broadcasts in one closure."""
from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("broadcast_large"))
big = sc.broadcast({i: str(i) * 5 for i in range(200000)})
blob = sc.broadcast(b"\x01" * (3 * 1024 * 1024))
small = sc.broadcast(7)
rdd = sc.parallelize(range(0, 200000, 25000), 4)
print("big", rdd.map(lambda i: big.value[i]).collect())
print("blob", rdd.map(lambda i: len(blob.value) + small.value).distinct().collect())
print("sizes", len(big.value), len(blob.value))
sc.stop()
