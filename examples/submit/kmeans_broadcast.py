"""A small k-means: centres broadcast each round, points cached, stats per cluster."""
import random

from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("kmeans_broadcast"))
rng = random.Random(5)
points = [(rng.gauss(cx, 0.5), rng.gauss(cy, 0.5)) for cx, cy in ((0, 0), (5, 5), (0, 5)) for _ in range(60)]
data = sc.parallelize(points, 4).cache()
centres = [points[0], points[60], points[120]]


def closest(p, cs):
    return min(range(len(cs)), key=lambda i: (p[0] - cs[i][0]) ** 2 + (p[1] - cs[i][1]) ** 2)


for _ in range(5):
    bc = sc.broadcast(centres)
    sums = (data.map(lambda p: (closest(p, bc.value), (p[0], p[1], 1)))
            .reduceByKey(lambda a, b: (a[0] + b[0], a[1] + b[1], a[2] + b[2]))
            .collectAsMap())
    centres = [(sums[i][0] / sums[i][2], sums[i][1] / sums[i][2]) for i in range(3)]
    bc.unpersist()
for c in sorted(centres):
    print("centre %.6f %.6f" % c)
print("sizes", sorted(data.map(lambda p: closest(p, centres)).countByValue().values()))
sc.stop()
