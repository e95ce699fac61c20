"""saveAsSequenceFile and sequenceFile (Writable conversion of ints, floats, strings)."""
import os
import shutil
import tempfile

from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("rdd_sequence_file"))
tmp = tempfile.mkdtemp()
try:
    out = os.path.join(tmp, "seq")
    sc.parallelize([(i, "value %d" % i) for i in range(6)], 2).saveAsSequenceFile(out)
    print("int/text", sorted(sc.sequenceFile(out).collect()))
    out2 = os.path.join(tmp, "seq2")
    sc.parallelize([("k%d" % i, i / 4) for i in range(4)], 1).saveAsSequenceFile(out2)
    print("text/double", sorted(sc.sequenceFile(out2).collect()))
finally:
    sc.stop()
    shutil.rmtree(tmp, ignore_errors=True)
