"""A module from --py-files imported inside tasks and on the driver."""
# submit: --py-files lib/corpus_helpers.py
from pyspark import SparkConf, SparkContext

sc = SparkContext(conf=SparkConf().setAppName("py_files_module_import"))


def use(x):
    import corpus_helpers
    return corpus_helpers.describe(corpus_helpers.scale(x))


print("in tasks", sc.parallelize(range(5), 2).map(use).collect())
import corpus_helpers  # noqa: E402

print("on driver", corpus_helpers.scale(14))
print("by reference", sc.parallelize([1, 2], 2).map(corpus_helpers.scale).collect())
sc.stop()
