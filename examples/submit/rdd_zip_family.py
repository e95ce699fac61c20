"""zip, zipWithIndex and zipWithUniqueId."""
from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("rdd_zip_family"))
a = sc.parallelize(range(8), 3)
b = a.map(lambda x: chr(ord("a") + x))
print("zip", a.zip(b).collect())
print("zipWithIndex", b.zipWithIndex().collect())
print("zipWithUniqueId", b.zipWithUniqueId().collect())
uneven = sc.parallelize(range(20), 4).filter(lambda x: x % 7 != 0)
print("zipWithIndex uneven", uneven.zipWithIndex().collect())
print("zipWithUniqueId uneven", uneven.zipWithUniqueId().collect())
try:
    sc.parallelize(range(4), 2).zip(sc.parallelize(range(4), 3)).collect()
    print("mismatched zip: no error")
except Exception as e:  # noqa: BLE001
    print("mismatched zip raised", type(e).__name__)
sc.stop()
