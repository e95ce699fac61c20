"""foreachPartition with accumulators counting partitions and elements."""
from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("rdd_foreach_partition"))
parts = sc.accumulator(0)
elems = sc.accumulator(0)
biggest = sc.accumulator(0.0)


def visit(it):
    parts.add(1)
    items = list(it)
    elems.add(len(items))
    biggest.add(float(max(items)) if items else 0.0)


sc.parallelize(range(37), 5).foreachPartition(visit)
print("partitions", parts.value, "elements", elems.value, "sum of maxima", biggest.value)
sc.stop()
