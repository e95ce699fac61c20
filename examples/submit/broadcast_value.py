"""broadcast: value on the driver and in tasks, unpersist and destroy."""
from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("broadcast_value"))
table = sc.broadcast({"a": 1, "b": 2, "c": 3})
print("driver value", sorted(table.value.items()))
rdd = sc.parallelize(["a", "b", "c", "d", "a"], 2)
print("lookup", rdd.map(lambda k: table.value.get(k, 0)).collect())
table.unpersist()
print("after unpersist", rdd.map(lambda k: table.value.get(k, -1)).sum())
nums = sc.broadcast(list(range(10)))
print("list", sc.parallelize(range(3), 3).map(lambda i: nums.value[i * 3]).collect())
nums.destroy()
try:
    sc.parallelize([1], 1).map(lambda x: nums.value[0]).collect()
    print("destroyed: no error")
except Exception as e:  # noqa: BLE001
    print("destroyed use raised", type(e).__name__)
sc.stop()
