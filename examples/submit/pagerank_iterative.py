"""Iterative PageRank: joins, reduceByKey and a cached link table over ten iterations."""
from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("pagerank_iterative"))
edges = [("a", "b"), ("a", "c"), ("b", "c"), ("c", "a"), ("d", "c"), ("d", "a"), ("e", "d")]
links = sc.parallelize(edges, 3).distinct().groupByKey().mapValues(sorted).cache()
ranks = links.mapValues(lambda _: 1.0)
for _ in range(10):
    contribs = links.join(ranks).flatMap(lambda kv: [(dst, kv[1][1] / len(kv[1][0])) for dst in kv[1][0]])
    ranks = contribs.reduceByKey(lambda a, b: a + b).mapValues(lambda r: 0.15 + 0.85 * r)
for node, rank in sorted(ranks.collect()):
    print(node, "%.10f" % rank)
sc.stop()
