"""countByKey and countByValue."""
from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("rdd_count_by"))
pairs = sc.parallelize([("x", 1), ("y", 2), ("x", 3), ("z", 4), ("x", 5)], 2)
cbk = pairs.countByKey()
print("countByKey", type(cbk).__name__, sorted(cbk.items()))
vals = sc.parallelize([1, 2, 2, 3, 3, 3, None, None], 3)
cbv = vals.countByValue()
print("countByValue", type(cbv).__name__, sorted(cbv.items(), key=repr))
print("words", sorted(sc.parallelize("the cat and the hat and the bat".split(), 2).countByValue().items()))
sc.stop()
