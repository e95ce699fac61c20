"""sortByKey ascending and descending, keyfunc and partition layout."""
from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("rdd_sort_by_key"))
pairs = sc.parallelize([(k, i) for i, k in enumerate("Mary had a little Lamb whose Fleece was white".split())], 3)
print("asc", pairs.sortByKey().collect())
print("desc", pairs.sortByKey(ascending=False).collect())
print("keyfunc lower", pairs.sortByKey(keyfunc=lambda k: k.lower()).collect())
print("one partition", pairs.sortByKey(numPartitions=1).glom().collect())
nums = sc.parallelize([(x * 37 % 101, x) for x in range(100)], 5)
s = nums.sortByKey(numPartitions=4)
print("sizes", [len(p) for p in s.glom().collect()])
print("first keys", s.keys().take(10))
print("sorted ok", s.keys().collect() == sorted(nums.keys().collect()))
sc.stop()
