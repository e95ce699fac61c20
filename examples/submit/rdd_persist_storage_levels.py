"""persist, cache, getStorageLevel, unpersist and is_cached."""
from pyspark import SparkConf, SparkContext, StorageLevel

sc = SparkContext(conf=SparkConf().setAppName("rdd_persist_storage_levels"))
rdd = sc.parallelize(range(10), 2).map(lambda x: x + 1)
print("initial", rdd.getStorageLevel(), rdd.is_cached)
rdd.cache()
print("cache", rdd.getStorageLevel(), rdd.is_cached, rdd.sum())
rdd.unpersist()
print("unpersist", rdd.getStorageLevel(), rdd.is_cached)
for name in ("MEMORY_ONLY", "MEMORY_AND_DISK", "DISK_ONLY", "MEMORY_ONLY_2", "MEMORY_AND_DISK_2", "OFF_HEAP"):
    other = sc.parallelize(range(5), 2).map(lambda x: x * 2)
    other.persist(getattr(StorageLevel, name))
    level = other.getStorageLevel()
    print(name, level, level.useDisk, level.useMemory, level.useOffHeap, level.deserialized, level.replication, other.collect())
    other.unpersist(blocking=True)
custom = sc.parallelize([1], 1).persist(StorageLevel(True, True, False, False, 3))
print("custom", custom.getStorageLevel(), custom.count())
sc.stop()
