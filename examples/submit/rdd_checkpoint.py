"""checkpoint and localCheckpoint: lineage is cut, data stays."""
import shutil
import tempfile

from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("rdd_checkpoint"))
tmp = tempfile.mkdtemp()
try:
    sc.setCheckpointDir(tmp)
    rdd = sc.parallelize(range(10), 3).map(lambda x: x * x)
    print("before", rdd.isCheckpointed(), rdd.getCheckpointFile())
    rdd.checkpoint()
    print("marked", rdd.isCheckpointed())
    print("collect", rdd.collect())
    print("after", rdd.isCheckpointed(), rdd.getCheckpointFile() is not None)
    print("reuse", rdd.map(lambda x: x + 1).sum(), rdd.getNumPartitions())
    local = sc.parallelize(range(5), 2).map(lambda x: -x)
    local.localCheckpoint()
    print("local", local.collect(), local.isLocallyCheckpointed())
finally:
    sc.stop()
    shutil.rmtree(tmp, ignore_errors=True)
