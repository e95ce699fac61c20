"""sc.union of many RDDs, RDD.union chains, unions of different element types."""
from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("context_union_many"))
rdds = [sc.parallelize(range(i * 10, i * 10 + 3), 1 + i % 3) for i in range(12)]
u = sc.union(rdds)
print("sc.union", u.getNumPartitions(), u.collect())
chain = rdds[0]
for r in rdds[1:5]:
    chain = chain.union(r)
print("chain", chain.getNumPartitions(), chain.collect())
mixed = sc.union([sc.parallelize(["a"], 1), sc.parallelize([(1, 2)], 1), sc.textFile(__file__).filter(lambda l: l.startswith('"""'))])
print("mixed", mixed.collect())
pairs = sc.union([sc.parallelize([(1, "x")], 1).partitionBy(2), sc.parallelize([(2, "y")], 1).partitionBy(2)])
print("same partitioner", pairs.getNumPartitions(), sorted(pairs.collect()))
sc.stop()
