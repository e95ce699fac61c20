"""Python values of many types cross the wire and shuffle: classes defined in the program,
namedtuples, Decimal, datetime, sets, bytes, big ints, nan/inf, nested containers."""
import collections
import datetime
import decimal
import math

from pyspark import SparkConf, SparkContext

Point = collections.namedtuple("Point", "x y")


class Box:
    def __init__(self, v):
        self.v = v

    def __repr__(self):
        return "Box(%r)" % (self.v,)


sc = SparkContext(conf=SparkConf().setAppName("values_pickled_types"))
values = [None, True, 2 ** 70, -3, 1.5, float("inf"), "s", "ü", b"\x00\xff", bytearray(b"ab"),
          (1, (2, 3)), [1, [2]], {"k": [1]}, {1, 2}, frozenset([3]), decimal.Decimal("1.10"),
          datetime.date(2020, 2, 29), datetime.datetime(2021, 1, 2, 3, 4, 5, 6), datetime.timedelta(days=1, seconds=3),
          Point(1, 2), Box(Box(3)), complex(1, 2)]
back = sc.parallelize(values, 4).collect()
for v in back:
    print(type(v).__name__, repr(v))
print("nan", math.isnan(sc.parallelize([float("nan")], 1).first()))
print("mapped", sc.parallelize(values[:8], 3).map(lambda v: type(v).__name__).collect())
print("shuffled", sorted(sc.parallelize([(Point(i % 2, 0), Box(i)) for i in range(6)], 3)
                        .groupByKey().mapValues(lambda bs: sorted(b.v for b in bs)).collect()))
print("tuple keys", sorted(sc.parallelize([((i % 2, "k"), i) for i in range(6)], 2).reduceByKey(lambda a, b: a + b).collect()))
sc.stop()
