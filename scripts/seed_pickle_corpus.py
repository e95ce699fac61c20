#!/usr/bin/env python3
"""Writes real pickles into fuzz/corpus/pickle_decode and pickle_roundtrip.

Run with a pinned PySpark venv's python (scripts/seed-fuzz-corpus.sh does): the
pickles are what CPython's pickler, PySpark's cloudpickle and PySpark's
serializers really write (batches of rows, Row objects, datetime and Decimal,
cloudpickled functions and closures, every protocol).
"""
import datetime
import decimal
import pickle
import sys
from pathlib import Path

from pyspark import cloudpickle
from pyspark.serializers import CloudPickleSerializer
from pyspark.sql import Row

root = Path(sys.argv[1] if len(sys.argv) > 1 else "fuzz/corpus")
dec = root / "pickle_decode"
rt = root / "pickle_roundtrip"
dec.mkdir(parents=True, exist_ok=True)
rt.mkdir(parents=True, exist_ok=True)

shared = [1, "a"]
values = {
    "row_batch": [(i, "name%d" % i, i * 1.5, None, i % 2 == 0) for i in range(50)],
    "rows": [Row(id=i, name="n%d" % i) for i in range(5)],
    "datetime": [datetime.datetime(2020, 1, 2, 3, 4, 5, 6), datetime.date(2020, 1, 2),
                 datetime.timedelta(1, 2, 3), decimal.Decimal("1.50")],
    "shared": [shared, shared, {"k": shared}, {1, 2, 3}, frozenset([4]), b"x", bytearray(b"yz")],
    "ints": [0, 255, 256, 65535, 65536, -1, 2**31, -2**31 - 1, 2**63, 2**2040, -2**2040 - 1],
    "strings": ["", "a", "é", "\u20ac", "\ud800", "x" * 300],
}
recursive = []
recursive.append(recursive)
values["recursive"] = recursive

n = 0
for name, v in values.items():
    for proto in range(6):
        data = pickle.dumps(v, proto)
        (dec / f"{name}.p{proto}.pickle").write_bytes(data)
        (rt / f"{name}.p{proto}.pickle").write_bytes(b"\0" + data)
        n += 1

offset = 7
def closure(x):
    return x + offset
ser = CloudPickleSerializer()
for name, f in {"lambda": lambda x: x * 2, "closure": closure,
                "command": (lambda it: (x + 1 for x in it), None, ser, ser)}.items():
    data = cloudpickle.dumps(f, 5)
    (dec / f"cloudpickle_{name}.pickle").write_bytes(data)
    (rt / f"cloudpickle_{name}.pickle").write_bytes(b"\0" + data)
    n += 1
print(f"wrote {n} pickles into {dec} and {rt}")
