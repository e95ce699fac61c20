"""SparkContext.addPyFile of a module at run time, then imported in tasks."""
import os

from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("add_py_file"))
here = os.path.dirname(os.path.abspath(__file__))
sc.addPyFile(os.path.join(here, "lib", "corpus_extra.py"))


def use(s):
    import corpus_extra
    return corpus_extra.shout(s)


print(sc.parallelize(["a", "b", "c"], 2).map(use).collect())
sc.stop()
