"""--files: SparkFiles.get in tasks and on the driver."""
# submit: --files data/lookup.txt,data/numbers.csv
from pyspark import SparkConf, SparkContext, SparkFiles

sc = SparkContext(conf=SparkConf().setAppName("spark_files_submit_files"))


def colour(fruit):
    with open(SparkFiles.get("lookup.txt"), encoding="utf-8") as f:
        table = dict(line.strip().split("=") for line in f if line.strip())
    return table.get(fruit, "?")


print("colours", sc.parallelize(["apple", "grape", "kiwi"], 2).map(colour).collect())


def row_sum(i):
    with open(SparkFiles.get("numbers.csv"), encoding="utf-8") as f:
        rows = [list(map(int, line.split(","))) for line in f]
    return sum(rows[i])


print("row sums", sc.parallelize(range(3), 3).map(row_sum).collect())
with open(SparkFiles.get("lookup.txt"), encoding="utf-8") as f:
    print("driver lines", len(f.read().splitlines()))
print("root is dir", bool(SparkFiles.getRootDirectory()))
sc.stop()
