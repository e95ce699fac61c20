"""aggregateByKey and combineByKey."""
from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("rdd_aggregate_combine_by_key"))
pairs = sc.parallelize([("a", 1), ("b", 2), ("a", 3), ("c", 4), ("b", 5), ("a", 6)], 3)
agg = pairs.aggregateByKey((0, 0), lambda acc, v: (acc[0] + v, acc[1] + 1),
                           lambda x, y: (x[0] + y[0], x[1] + y[1]))
print("aggregateByKey", sorted(agg.collect()))
print("averages", sorted(agg.mapValues(lambda s: s[0] / s[1]).collect()))
comb = pairs.combineByKey(lambda v: [v], lambda c, v: c + [v], lambda c1, c2: c1 + c2)
print("combineByKey", sorted((k, sorted(v)) for k, v in comb.collect()))
print("combineByKey parts", pairs.combineByKey(str, lambda c, v: c + str(v), lambda a, b: a + b, 2).getNumPartitions())
sets = pairs.aggregateByKey(set(), lambda s, v: s | {v % 2}, lambda s, t: s | t)
print("aggregateByKey sets", sorted((k, sorted(v)) for k, v in sets.collect()))
sc.stop()
