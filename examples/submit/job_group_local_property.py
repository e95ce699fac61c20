"""setJobGroup, setJobDescription, setLocalProperty and TaskContext.getLocalProperty in tasks."""
from pyspark import SparkConf, SparkContext, TaskContext

sc = SparkContext(conf=SparkConf().setAppName("job_group_local_property"))
sc.setLocalProperty("corpus.colour", "blue")
print("driver", sc.getLocalProperty("corpus.colour"), sc.getLocalProperty("corpus.missing"))
print("tasks", sc.parallelize(range(3), 3).map(lambda _: TaskContext.get().getLocalProperty("corpus.colour")).collect())
sc.setJobGroup("group-1", "a described group", interruptOnCancel=False)
print("job group", sc.getLocalProperty("spark.jobGroup.id"), sc.getLocalProperty("spark.job.description"))
print("group in task", sc.parallelize([0], 1).map(lambda _: TaskContext.get().getLocalProperty("spark.jobGroup.id")).collect())
print("group jobs", len(sc.statusTracker().getJobIdsForGroup("group-1")) >= 1)
sc.setJobDescription("described")
print("description", sc.getLocalProperty("spark.job.description"))
sc.setLocalProperty("corpus.colour", None)
print("cleared", sc.getLocalProperty("corpus.colour"),
      sc.parallelize([0], 1).map(lambda _: TaskContext.get().getLocalProperty("corpus.colour")).collect())
sc.stop()
