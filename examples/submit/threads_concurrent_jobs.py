"""Python threads running jobs at once on one SparkContext; two single-task jobs meet
while both run (local[2] has two slots), each thread with its own local properties."""
import os
import shutil
import tempfile
import threading
import time

from pyspark import InheritableThread, SparkConf, SparkContext, TaskContext

sc = SparkContext(conf=SparkConf().setAppName("threads_concurrent_jobs"))
tmp = tempfile.mkdtemp()
results = {}
lock = threading.Lock()


def job(n):
    sc.setLocalProperty("corpus.thread", "t%d" % n)
    total = sc.parallelize(range(n * 100), 3).map(lambda x: x * 2).sum()
    prop = sc.parallelize([0], 1).map(lambda _: TaskContext.get().getLocalProperty("corpus.thread")).first()
    with lock:
        results[n] = (total, prop)


try:
    threads = [InheritableThread(target=job, args=(n,)) for n in range(1, 7)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("results", sorted(results.items()))

    def meet(index, it):
        open(os.path.join(tmp, "job-%d" % TaskContext.get().stageId()), "w").close()
        deadline = time.time() + 60
        while time.time() < deadline:
            if len(os.listdir(tmp)) >= 2:
                return ["met"]
            time.sleep(0.02)
        return ["alone"]

    met = []

    def single_task_job():
        r = sc.parallelize([0], 1).mapPartitionsWithIndex(meet).collect()
        with lock:
            met.extend(r)

    pair = [threading.Thread(target=single_task_job) for _ in range(2)]
    for t in pair:
        t.start()
    for t in pair:
        t.join()
    print("two jobs at once", sorted(met))
finally:
    sc.stop()
    shutil.rmtree(tmp, ignore_errors=True)
