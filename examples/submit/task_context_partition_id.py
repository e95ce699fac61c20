"""TaskContext in tasks: partitionId, attemptNumber, stageId type; none on the driver."""
from pyspark import SparkConf, SparkContext, TaskContext

sc = SparkContext(conf=SparkConf().setAppName("task_context_partition_id"))
print("driver", TaskContext.get())


def info(it):
    tc = TaskContext.get()
    return [(tc.partitionId(), tc.attemptNumber(), isinstance(tc.stageId(), int),
             isinstance(tc.taskAttemptId(), int), sum(1 for _ in it))]


print("tasks", sc.parallelize(range(10), 4).mapPartitions(info).collect())
print("after shuffle", sorted(sc.parallelize(range(10), 2).map(lambda x: (x % 3, x)).reduceByKey(lambda a, b: a + b, 3)
                              .mapPartitions(lambda it: [(TaskContext.get().partitionId(), sorted(it))]).collect()))
sc.stop()
