"""Records real Spark JVM <-> Python worker traffic with `sparkwire tap`.

Usage: <python of a pinned pyspark venv> scripts/record_transcripts.py SPARKWIRE_BINARY OUT_DIR [JOB...]

Runs small jobs on a real local Spark (non-daemon workers, so each task gets a
fresh worker connection) with `sparkwire tap` as the executors' Python. Each job
writes its captures (`to_worker.N.bin`, `from_worker.N.bin`) and an
`expected.json` holding what the job returned, computed by Spark itself.
With JOB names, only those jobs are recorded (the others' directories are left
as they are).
"""
import json
import os
import re
import shutil
import stat
import sys
import tempfile
import threading
import time

from pyspark import AccumulatorParam, SparkConf, SparkContext

sparkwire, out = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
only = set(sys.argv[3:])
recorded = set()


def wanted(name):
    return not only or name in only


tmp = tempfile.mkdtemp(prefix="sparkwire-record-")
wrapper = os.path.join(tmp, "python-tap")
with open(wrapper, "w") as f:
    f.write('#!/bin/sh\nSPARKWIRE_TAP_PYTHON="%s" exec "%s" tap -- "$@"\n' % (sys.executable, sparkwire))
os.chmod(wrapper, os.stat(wrapper).st_mode | stat.S_IEXEC)

# The JVM inherits this process's standard error: a file, so that each job can
# save the executor's own "Times: total = …, boot = …, init = …, finish = …"
# lines (what PythonRunner derives from each worker's TIMING_DATA). Python's
# own errors still go to the original standard error.
jvm_log = os.path.join(tmp, "jvm.log")
sys.stderr.flush()
sys.stderr = os.fdopen(os.dup(2), "w")
log_fd = os.open(jvm_log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
os.dup2(log_fd, 2)
os.close(log_fd)

# The Python SparkContext takes the workers' interpreter from PYSPARK_PYTHON.
os.environ["PYSPARK_PYTHON"] = wrapper
conf = (
    SparkConf()
    .setMaster("local[1]")
    .setAppName("sparkwire-record")
    .set("spark.python.use.daemon", "false")
    .set("spark.pyspark.python", wrapper)
    .set("spark.ui.enabled", "false")
)
sc = SparkContext(conf=conf)
sc.setLogLevel("ERROR")


def python_logger(sc, level):
    jvm = sc._jvm
    jvm.org.apache.logging.log4j.core.config.Configurator.setLevel(
        "org.apache.spark.api.python", jvm.org.apache.logging.log4j.Level.toLevel(level)
    )



def jvm_times(since):
    """The executor's timing lines logged after byte `since` of the JVM's log."""
    time.sleep(0.5)
    with open(jvm_log, encoding="utf-8", errors="replace") as f:
        f.seek(since)
        text = f.read()
    pattern = r"Times: total = (-?\d+), boot = (-?\d+), init = (-?\d+), finish = (-?\d+)"
    keys = ("total", "boot", "init", "finish")
    return [dict(zip(keys, map(int, m))) for m in re.findall(pattern, text)]


def job(name, run, times=False):
    if not wanted(name):
        return
    recorded.add(name)
    d = os.path.join(out, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    sc.environment["SPARKWIRE_TAP_DIR"] = d
    if times:
        # PythonRunner logs its "Times:" line at INFO.
        python_logger(sc, "INFO")
    since = os.path.getsize(jvm_log)
    try:
        result = {"ok": [repr(x) for x in run()]}
    except Exception as e:  # a failing task is one of the jobs
        result = {"error": type(e).__name__}
    if times:
        result["jvm_times"] = jvm_times(since)
        python_logger(sc, "ERROR")
    with open(os.path.join(d, "expected.json"), "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)
        f.write("\n")


mixed = [1, "a", None, 2.5, (1, "x"), [1, 2], {"k": b"v"}, 10**20, True]
job("map_collect", lambda: sc.parallelize(mixed, 2).map(lambda x: (x, 1)).collect())

bc = sc.broadcast(100)
acc = sc.accumulator(0)


def add(x):
    acc.add(x)
    return x + bc.value


job("broadcast_accum", lambda: sc.parallelize([1, 2, 3, 4], 1).map(add).collect() + [acc.value])
job("exception", lambda: sc.parallelize([1, 2, 3], 1).map(lambda x: 1 // (x - 2)).collect())
text = os.path.join(tmp, "lines.txt")
with open(text, "w") as f:
    f.write("alpha\n\nbeta gamma\n")
job("text_file", lambda: sc.textFile(text, 1).map(lambda line: len(line)).collect())
job(
    "reduce_by_key",
    lambda: sorted(sc.parallelize([(i % 3, i) for i in range(20)], 2).reduceByKey(lambda a, b: a + b, 2).collect()),
)
# One partition of 20 000 ints: the input arrives in frames of 1024 and the
# AutoBatched output walks the batch-size ladder (1, 2, 4, … 8192, rest).
job("batching", lambda: (lambda xs: [len(xs), sum(xs)])(sc.parallelize(list(range(20000)), 1).map(lambda x: x * 3).collect()))

# SQL: Python UDFs (eval type 100), a Python UDTF (300) and pandas UDFs, whose
# data sections are Arrow streams: scalar (200, one stream), grouped map (201,
# one stream per group) and cogrouped map (206, two per group). A UDF takes its
# worker environment when it is created, so each job creates its own.
from pyspark.sql import SparkSession  # noqa: E402
from pyspark.sql.functions import col, pandas_udf, udf, udtf  # noqa: E402

spark = SparkSession(sc)
spark.conf.set("spark.sql.shuffle.partitions", "1")
spark.conf.set("spark.sql.adaptive.enabled", "false")
# Plain Python UDFs and UDTFs stay on pickled rows (4.3 with pandas installed
# would otherwise move them to Arrow); `sql_arrow_udf` asks for Arrow itself.
spark.conf.set("spark.sql.execution.pythonUDF.arrow.enabled", "false")
spark.conf.set("spark.sql.execution.pythonUDTF.arrow.enabled", "false")
modern = tuple(int(x) for x in sc.version.split(".")[:2]) >= (4, 0)


def sql_udf():
    plus = udf(lambda x: x + 1, "long")
    tag = udf(lambda s, n: "%s:%d" % (s, n), "string")
    df = spark.range(0, 250, numPartitions=1).selectExpr("id", "concat('r', id) as s")
    # plus(plus(id)) is one UDF with two chained functions; keyword arguments
    # exist from 4.0.
    second = tag(s=col("s"), n=col("id")) if modern else tag(col("s"), col("id"))
    return [tuple(r) for r in df.select(plus(plus(col("id"))), second).collect()]


def sql_arrow_udf():
    shout = udf(lambda s: s.upper() + "!", "string", useArrow=True)
    df = spark.range(0, 20, numPartitions=1).selectExpr("concat('w', id) as s")
    return [tuple(r) for r in df.select(shout("s")).collect()]


def sql_udtf():
    @udtf(returnType="n: int, sq: int")
    class Squares:
        def eval(self, start: int, end: int):
            for i in range(start, end + 1):
                yield i, i * i

    spark.udtf.register("squares", Squares)
    q = "SELECT t.id, s.* FROM range(0, 3, 1, 1) t, LATERAL squares(t.id, t.id + 1) s"
    return [tuple(r) for r in spark.sql(q).collect()]


def pandas_scalar():
    @pandas_udf("double")
    def half(v):
        return v / 2

    return [tuple(r) for r in spark.range(0, 10, numPartitions=1).select(half("id")).collect()]


def pandas_grouped():
    df = spark.range(0, 12, numPartitions=1).selectExpr("id % 3 as k", "id as v")
    out = df.groupBy("k").applyInPandas(lambda p: p.assign(v=p.v.sum()).head(1), "k long, v long")
    return sorted(tuple(r) for r in out.collect())


def pandas_cogrouped():
    a = spark.range(0, 6, numPartitions=1).selectExpr("id % 2 as k", "id as x")
    b = spark.range(0, 4, numPartitions=1).selectExpr("id % 2 as k", "id * 10 as y")

    def merge(l, r):
        import pandas as pd

        return pd.DataFrame({"k": [l.k.iloc[0]], "n": [len(l) + len(r)]})

    out = a.groupBy("k").cogroup(b.groupBy("k")).applyInPandas(merge, "k long, n long")
    return sorted(tuple(r) for r in out.collect())


job("sql_udf", sql_udf)
job("sql_arrow_udf", sql_arrow_udf)
job("sql_udtf", sql_udtf)
job("pandas_scalar", pandas_scalar)
job("pandas_grouped", pandas_grouped)
job("pandas_cogrouped", pandas_cogrouped)

# Inputs the JVM sends as key and value frames in turn (PythonRDD writes each
# (key, value) of its iterator as two frames), read by CartesianDeserializer
# (the product of each batch pair) or PairDeserializer (zipped). The identity
# map makes the records Python read the job's result.
job("cartesian", lambda: sc.parallelize(range(6), 2).cartesian(sc.parallelize(["x", "y", "z"], 1)).map(lambda kv: kv).collect(), True)
# zip() re-batches both sides to batches of 100 when their batch sizes differ
# (here the mapped side's AutoBatchedSerializer): two more workers per task.
job("zip", lambda: sc.parallelize(range(8), 2).zip(sc.parallelize(range(8), 2).map(lambda x: x * x)).map(lambda kv: kv).collect(), True)
files = os.path.join(tmp, "files")
os.makedirs(files)
for name, body in (("a.txt", "one\ntwo\n"), ("b.txt", "three")):
    with open(os.path.join(files, name), "w") as f:
        f.write(body)
# PairDeserializer(UTF8Deserializer(), UTF8Deserializer()): (path, text).
job("whole_text_files", lambda: sorted(sc.wholeTextFiles(files, 1).map(lambda kv: kv).collect()), True)
# PairDeserializer(UTF8Deserializer(), NoOpSerializer()): (path, bytes).
job("binary_files", lambda: sorted(sc.binaryFiles(files, 1).map(lambda kv: kv).collect()), True)


# Accumulator updates from several tasks: the driver's final values, by id,
# are the sums of the (id, value) updates the workers sent.
def accumulators():
    count, total, seen = sc.accumulator(0), sc.accumulator(0.0), sc.accumulator([], ListParam())

    def visit(x):
        count.add(1)
        total.add(x / 4)
        seen.add([x])

    sc.parallelize(range(10), 3).foreach(visit)
    return [(a.aid, a.value) for a in (count, total, seen)]


class ListParam(AccumulatorParam):
    def zero(self, value):
        return []

    def addInPlace(self, a, b):
        return a + b


job("accumulators", accumulators, True)
version = sc.version
sc.stop()
# The jobs below need SparkContexts of their own: recorded by full runs only.
if only:
    shutil.rmtree(tmp, ignore_errors=True)
    if only - recorded:
        sys.exit("not recorded (unknown, or recorded by full runs only): %s" % " ".join(sorted(only - recorded)))
    print("recorded %s with pyspark %s into %s" % (" ".join(sorted(recorded)), version, out))
    sys.exit(0)

# Daemon mode: one daemon, its forked worker reused by two jobs in a row (one
# connection carrying two tasks); the daemon's stdin/stdout are recorded too.
sc = SparkContext(conf=conf.set("spark.python.use.daemon", "true").set("spark.python.worker.reuse", "true"))
sc.setLogLevel("ERROR")
d = os.path.join(out, "daemon_reuse")
shutil.rmtree(d, ignore_errors=True)
os.makedirs(d)
sc.environment["SPARKWIRE_TAP_DIR"] = d
first = sc.parallelize([1, 2, 3], 1).map(lambda x: x + 1).collect()
second = sc.parallelize(["a", "b"], 1).map(lambda s: s.upper()).collect()
with open(os.path.join(d, "expected.json"), "w") as f:
    json.dump({"ok": [repr(x) for x in first + second]}, f, indent=1, sort_keys=True)
    f.write("\n")
sc.stop()

# Daemon mode, a killed worker: a task sleeps, its job is cancelled, and after
# spark.python.task.killTimeout the JVM asks the daemon to kill the worker by
# writing its pid to the daemon's stdin.
sc = SparkContext(conf=conf.set("spark.python.task.killTimeout", "1s"))
sc.setLogLevel("ERROR")
d = os.path.join(out, "daemon_kill")
shutil.rmtree(d, ignore_errors=True)
os.makedirs(d)
sc.environment["SPARKWIRE_TAP_DIR"] = d


def cancel_soon():
    time.sleep(4)
    sc.cancelJobGroup("sleepy")


def sleepy(x):
    time.sleep(120)
    return x


threading.Thread(target=cancel_soon, daemon=True).start()
sc.setJobGroup("sleepy", "a job to cancel", interruptOnCancel=True)
try:
    sc.parallelize([1], 1).map(sleepy).collect()
    outcome = {"ok": []}
except Exception as e:
    outcome = {"error": type(e).__name__}
time.sleep(3)
with open(os.path.join(d, "expected.json"), "w") as f:
    json.dump(outcome, f, indent=1, sort_keys=True)
    f.write("\n")
sc.stop()

# Unix-domain sockets (4.1+): no auth; simple workers connect to the JVM's
# socket file, a daemon announces its socket path on stdout.
if tuple(int(x) for x in version.split(".")[:2]) >= (4, 1):
    for daemon in ("false", "true"):
        name = "uds_daemon" if daemon == "true" else "uds_simple"
        uds_conf = (
            conf.set("spark.python.use.daemon", daemon)
            .set("spark.python.worker.reuse", "true")
            .set("spark.python.unix.domain.socket.enabled", "true")
        )
        sc = SparkContext(conf=uds_conf)
        sc.setLogLevel("ERROR")
        d = os.path.join(out, name)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        sc.environment["SPARKWIRE_TAP_DIR"] = d
        got = sc.parallelize([1, 2, 3], 1).map(lambda x: x * 2).collect()
        got += sc.parallelize(["a"], 1).map(lambda s: s + "!").collect()
        with open(os.path.join(d, "expected.json"), "w") as f:
            json.dump({"ok": [repr(x) for x in got]}, f, indent=1, sort_keys=True)
            f.write("\n")
        sc.stop()
shutil.rmtree(tmp, ignore_errors=True)
print("recorded jobs with pyspark %s into %s" % (version, out))
