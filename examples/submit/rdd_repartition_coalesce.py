"""repartition, coalesce (with and without shuffle) and getNumPartitions."""
from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("rdd_repartition_coalesce"))
rdd = sc.parallelize(range(40), 8)
print("start", rdd.getNumPartitions())
c = rdd.coalesce(3)
print("coalesce", c.getNumPartitions(), [len(p) for p in c.glom().collect()], c.glom().collect()[0][:5])
print("coalesce up no shuffle", rdd.coalesce(20).getNumPartitions())
cs = rdd.coalesce(4, shuffle=True)
print("coalesce shuffle", cs.getNumPartitions(), sorted(cs.collect()) == list(range(40)))
r = rdd.repartition(5)
print("repartition", r.getNumPartitions(), sorted(r.collect()) == list(range(40)))
print("repartition sizes sum", sum(len(p) for p in r.glom().collect()))
print("repartition up", rdd.repartition(16).getNumPartitions())
sc.stop()
