"""keyBy, groupBy, groupByKey, keys, values, mapValues and flatMapValues."""
from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("rdd_keyby_groupby"))
words = sc.parallelize(["apple", "avocado", "banana", "blueberry", "cherry", "apricot"], 3)
print("keyBy", words.keyBy(lambda w: w[0]).collect())
grouped = words.groupBy(lambda w: w[0])
print("groupBy", sorted((k, sorted(v)) for k, v in grouped.collect()))
print("groupBy numPartitions", words.groupBy(len, 5).getNumPartitions())
pairs = words.map(lambda w: (len(w), w))
print("groupByKey", sorted((k, sorted(v)) for k, v in pairs.groupByKey().collect()))
print("groupByKey mapValues(len)", sorted(pairs.groupByKey().mapValues(len).collect()))
print("keys", pairs.keys().collect())
print("values", pairs.values().collect())
print("mapValues", pairs.mapValues(str.upper).collect())
print("flatMapValues", pairs.flatMapValues(lambda w: w[:2]).collect())
sc.stop()
