"""pipe through external commands, with an environment and checkCode."""
from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("rdd_pipe"))
rdd = sc.parallelize(["hello", "world", "spark", "pipe"], 2)
print("cat", rdd.pipe("cat").collect())
print("tr", rdd.pipe("tr a-z A-Z").collect())
print("wc per partition", [s.strip() for s in rdd.pipe("wc -l").collect()])
print("env", sc.parallelize([1, 2], 2).pipe("sh -c 'echo $GREETING'", env={"GREETING": "hi"}).collect())
print("numbers", sc.parallelize(range(5), 1).pipe("sort -r").collect())
print("empty output", rdd.pipe("true").collect())
try:
    rdd.pipe("sh -c 'cat >/dev/null; exit 3'", checkCode=True).collect()
    print("checkCode: no error")
except Exception as e:  # noqa: BLE001
    print("checkCode", type(e).__name__, "exit status" in str(e) or "exited" in str(e))
print("unchecked", rdd.pipe("sh -c 'cat >/dev/null; exit 3'").collect())
sc.stop()
