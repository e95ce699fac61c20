"""join, leftOuterJoin, rightOuterJoin and fullOuterJoin, with duplicate keys."""
from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("rdd_join_flavours"))
left = sc.parallelize([(1, "a"), (2, "b"), (2, "bb"), (3, "c")], 2)
right = sc.parallelize([(2, "x"), (3, "y"), (3, "yy"), (4, "z")], 3)
print("join", sorted(left.join(right).collect()))
print("leftOuterJoin", sorted(left.leftOuterJoin(right).collect(), key=repr))
print("rightOuterJoin", sorted(left.rightOuterJoin(right).collect(), key=repr))
print("fullOuterJoin", sorted(left.fullOuterJoin(right).collect(), key=repr))
print("join numPartitions", left.join(right, 5).getNumPartitions())
print("default parts", left.join(right).getNumPartitions())
print("self join", sorted(left.join(left).collect()))
empty = sc.parallelize([], 2)
print("join empty", left.join(empty).collect(), sorted(left.leftOuterJoin(empty).collect()))
sc.stop()
