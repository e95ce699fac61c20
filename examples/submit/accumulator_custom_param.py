"""Accumulators with custom AccumulatorParams: a vector and a set."""
from pyspark import AccumulatorParam, SparkConf, SparkContext


class VectorParam(AccumulatorParam):
    def zero(self, value):
        return [0.0] * len(value)

    def addInPlace(self, v1, v2):
        for i in range(len(v1)):
            v1[i] += v2[i]
        return v1


class SetParam(AccumulatorParam):
    def zero(self, value):
        return set()

    def addInPlace(self, a, b):
        return a | (b if isinstance(b, set) else {b})


sc = SparkContext(conf=SparkConf().setAppName("accumulator_custom_param"))
vec = sc.accumulator([0.0, 0.0, 0.0], VectorParam())
seen = sc.accumulator(set(), SetParam())


def visit(x):
    vec.add([x, x * x, 1.0])
    seen.add(x % 4)


sc.parallelize(range(10), 3).foreach(visit)
print("vector", vec.value)
print("set", sorted(seen.value))
sc.stop()
