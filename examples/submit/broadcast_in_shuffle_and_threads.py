"""One broadcast used by many tasks, in a shuffle, and from two driver threads."""
import threading

from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("broadcast_in_shuffle_and_threads"))
weights = sc.broadcast({i: i * 0.5 for i in range(100)})
pairs = sc.parallelize(range(100), 5).map(lambda i: (i % 4, weights.value[i]))
print("weighted", sorted(pairs.reduceByKey(lambda a, b: a + b).collect()))
out = []
lock = threading.Lock()


def run(n):
    s = sc.parallelize(range(n), 2).map(lambda i: weights.value[i]).sum()
    with lock:
        out.append((n, s))


ts = [threading.Thread(target=run, args=(n,)) for n in (10, 50, 90)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print("threads", sorted(out))
sc.stop()
