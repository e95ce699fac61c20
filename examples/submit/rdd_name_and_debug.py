"""setName/name, id, context, toDebugString (type only), getResourceProfile, repr-free facts."""
from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("rdd_name_and_debug"))
rdd = sc.parallelize(range(4), 2)
print("default name", rdd.name())
rdd.setName("numbers")
print("name", rdd.name())
m = rdd.map(lambda x: x).setName("mapped")
print("chained setName", m.name(), m.collect())
print("id int", isinstance(rdd.id(), int), rdd.id() != m.id())
print("context", rdd.context is sc)
dbg = m.toDebugString()
print("debug", type(dbg).__name__, len(dbg) > 0)
print("resource profile", rdd.getResourceProfile())
print("partitioner", rdd.partitioner, rdd.map(lambda x: (x, x)).partitionBy(2).partitioner is not None)
sc.stop()
