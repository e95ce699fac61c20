"""Barrier execution: all tasks of a barrier stage start together; barrier() and allGather."""
from pyspark import BarrierTaskContext, SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("rdd_barrier"))


def stage(it):
    ctx = BarrierTaskContext.get()
    ctx.barrier()
    gathered = ctx.allGather(str(ctx.partitionId()))
    return [(ctx.partitionId(), sorted(gathered), sum(it))]


print("barrier", sorted(sc.parallelize(range(10), 2).barrier().mapPartitions(stage).collect()))
print("indexed", sc.parallelize(range(4), 2).barrier().mapPartitionsWithIndex(lambda i, it: [(i, list(it))]).collect())
sc.stop()
