#!/usr/bin/env python3
"""Records what the repr view of pickles is checked against: for each value,
`pickle.dumps(value, p)` for p = 0..5 and `repr(pickle.loads(data))`.

    record_pickle_repr.py values OUT.json       # run with each pinned venv's Python
    record_pickle_repr.py pickletester OUT.json # run with a CPython that has `test`
    record_pickle_repr.py py2 IN.json OUT.json  # IN from record_pickle_repr_py2.py
    record_pickle_repr.py jvm OUT.json          # starts a local Spark (Java needed)

`values`: standard-library and PySpark values whose repr is deterministic
(datetime, Decimal, complex, range, slice, collections, array, UUID, exceptions,
types, builtin functions, Row, StorageLevel, sets of ints/floats/tuples…).
`pickletester`: every bytes literal in the interpreter's own
`Lib/test/pickletester.py` (found with `ast`; CPython's source is not copied,
only the byte strings are kept, as data), with what `pickle.loads` made of it
or the exception it raised.

Each record is [name, protocol or null, hex data, repr or null, error or null].
Run it through scripts/record-pickle-repr.sh.
"""
import ast
import json
import pickle
import re
import sys


def values():
    import array
    import collections
    import datetime as dt
    import decimal
    import functools
    import uuid

    import pyspark
    from pyspark import StorageLevel
    from pyspark.sql import Row

    tz = dt.timezone
    D = decimal.Decimal
    est = tz(dt.timedelta(hours=-5), "EST")
    ist = tz(dt.timedelta(hours=5, minutes=30))
    v = {}
    # datetime
    v["date"] = dt.date(2024, 2, 29)
    v["date_min_max"] = [dt.date.min, dt.date.max]
    v["times"] = [dt.time(1, 2, 3, 4), dt.time(12, 30), dt.time(0, 0, 5), dt.time(0, 0, 0, 7),
                  dt.time.max, dt.time()]
    v["time_tz"] = [dt.time(1, 2, tzinfo=tz.utc), dt.time(1, 2, 3, tzinfo=ist),
                    dt.time(23, 59, 59, 999999, tzinfo=est)]
    v["time_fold"] = [dt.time(1, 2, 3, fold=1), dt.time(1, 2, 3, 4, tzinfo=est, fold=1)]
    v["datetimes"] = [dt.datetime(2020, 1, 2, 3, 4, 5, 6), dt.datetime(2020, 1, 2),
                      dt.datetime(2020, 1, 2, 3, 4, 5), dt.datetime(2020, 1, 2, 0, 0, 0, 1),
                      dt.datetime.min, dt.datetime.max]
    v["datetime_tz"] = [dt.datetime(2024, 5, 6, 7, 8, tzinfo=tz.utc),
                        dt.datetime(2024, 5, 6, 7, 8, 9, 10, tzinfo=ist),
                        dt.datetime(1999, 12, 31, 23, 59, tzinfo=est),
                        dt.datetime(2000, 1, 1, tzinfo=tz(dt.timedelta(0), "UTC"))]
    v["datetime_fold"] = [dt.datetime(2021, 11, 7, 1, 30, fold=1),
                          dt.datetime(2021, 11, 7, 1, 30, 0, 5, tzinfo=est, fold=1)]
    v["timedeltas"] = [dt.timedelta(0), dt.timedelta(days=1), dt.timedelta(seconds=-1),
                       dt.timedelta(microseconds=1), dt.timedelta(3, 4, 5),
                       dt.timedelta(days=-3, hours=5), dt.timedelta.max, dt.timedelta.min,
                       dt.timedelta(weeks=1000, milliseconds=1)]
    v["timezones"] = [tz.utc, ist, est, tz(dt.timedelta(0), "UTC"),
                      tz(dt.timedelta(hours=23, minutes=59, seconds=59, microseconds=999999)),
                      tz(-dt.timedelta(microseconds=1), "it's")]
    # decimal
    v["decimals"] = [D(s) for s in ["1.5", "-0", "0", "NaN", "-sNaN", "sNaN12", "Infinity",
                                    "-Infinity", "1E+5", "0.000001", "1.00E-7", "NaN123",
                                    "123456789012345678901234567890.123456789", "-1.50",
                                    "1e-1000000", "12345e3", "0E-8"]]
    # numbers
    v["complexes"] = [1 + 2j, complex(-0.0, 1), 0j, -1.5e300j, complex(float("inf"), float("nan")),
                      complex(-0.0, -0.0), 1j, complex(1e16, -1e-5), complex(0.1, 2.5e-07)]
    v["ranges"] = [range(5), range(1, 7), range(10, 0, -3), range(0), range(-5, 5, 2),
                   range(2**70, 2**71, 2**65)]
    v["slices"] = [slice(5), slice(1, 2, 3), slice(None, "a", [1]), slice(None, None, -1)]
    # collections
    od = collections.OrderedDict
    v["ordered_dicts"] = [od(), od([("a", 1), ("b", [2])]), od([(1, od([(2, 3)]))])]
    v["defaultdicts"] = [collections.defaultdict(list, {"a": [1]}), collections.defaultdict(int),
                         collections.defaultdict(None, {1: 2}), collections.defaultdict(dict)]
    v["deques"] = [collections.deque(), collections.deque([1, "a", (2,)]),
                   collections.deque([1, 2, 3], maxlen=5), collections.deque([], maxlen=0),
                   collections.deque(range(10), maxlen=3)]
    v["counters"] = [collections.Counter("abracadabra"), collections.Counter(),
                     collections.Counter({"x": -1, "y": 3, "z": 3, "w": 0})]
    # array
    arrays = []
    for code, vals in [("b", [-128, 0, 127]), ("B", [0, 255]), ("h", [-32768, 1]), ("H", [65535]),
                       ("i", [-2**31, 2**31 - 1]), ("I", [2**32 - 1]), ("l", [-2**63]),
                       ("L", [2**64 - 1]), ("q", [-1, 2**62]), ("Q", [2**64 - 1]),
                       ("f", [0.1, 1.5, -2.0]), ("d", [0.1, 1e300, float("-inf")]),
                       ("u", "h\xe9\U0001F600")]:
        arrays.append(array.array(code, vals))
        arrays.append(array.array(code))
    v["arrays"] = arrays
    v["uuids"] = [uuid.UUID("12345678-1234-5678-1234-567812345678"),
                  uuid.UUID(int=0), uuid.UUID(int=2**128 - 1)]
    # exceptions
    v["exceptions"] = [ValueError("x"), KeyError("k"), Exception(), Exception(1, 2),
                       UnicodeEncodeError("ascii", "h\xe9", 1, 2, "ouch"),
                       UnicodeDecodeError("utf-8", b"\xff", 0, 1, "bad"), StopIteration(5),
                       OSError("x"), ZeroDivisionError("division by zero"), SystemExit(2),
                       RuntimeError(("a",)), ArithmeticError([1])]
    e = ValueError("with attr")
    e.note = 1
    v["exception_with_dict"] = e
    # types, functions, constants
    v["types"] = [int, str, type(None), type(...), type(NotImplemented), list, dict, object,
                  ValueError, dt.datetime, od, D, range, bytes, bytearray, set, frozenset,
                  complex, slice, functools.partial]
    v["builtin_functions"] = [len, max, print, functools.reduce, getattr, isinstance, iter]
    v["constants"] = [Ellipsis, NotImplemented, None, True]
    # callables built from callables; struct sequences
    import operator
    import time
    v["partials"] = [functools.partial(max, 1, key=abs), functools.partial(len),
                     functools.partial(dt.date, 2020, month=2)]
    v["operator_getters"] = [operator.itemgetter(1), operator.itemgetter(1, "a"),
                             operator.attrgetter("a.b", "c"), operator.methodcaller("split", ","),
                             operator.methodcaller("strip")]
    v["struct_time"] = [time.gmtime(0), time.gmtime(1700000000)]
    # standard enums, cookies
    import http
    import http.cookies
    import re
    import signal
    import socket
    v["enums"] = [http.HTTPStatus.OK, http.HTTPStatus.IM_A_TEAPOT, http.HTTPMethod.GET,
                  signal.SIGINT, signal.Handlers.SIG_DFL, socket.AF_INET, socket.SOCK_STREAM,
                  uuid.SafeUUID.safe, uuid.SafeUUID.unknown, re.IGNORECASE]
    cookie = http.cookies.SimpleCookie()
    cookie["key"] = "value"
    cookie["a"] = "b c"
    cookie["a"]["path"] = "/"
    v["cookies"] = [cookie, http.cookies.SimpleCookie()]
    # PySpark
    v["rows"] = [Row(a=1, b="x"), Row(1, 2), Row(), Row(a=None, b=[Row(c=1.5)]),
                 Row(ts=dt.datetime(2020, 1, 1, tzinfo=tz.utc), d=D("1.10"))]
    v["row_single"] = Row(name="Alice", age=11)
    v["storage_levels"] = [getattr(StorageLevel, n) for n in sorted(dir(StorageLevel))
                           if n.isupper()]
    # sets in CPython's iteration order
    v["int_sets"] = [{5, 1025}, {1025, 5}, set(range(100)), set(range(-50, 50, 7)),
                     {2**61 - 1, 2**61, -1, -2, 2**64, -2**100}, set(range(0, 4000, 3)),
                     frozenset({8, 16, 24, 32, 40}), set(), frozenset(),
                     {i * 8 for i in range(40)}, {i * 1000003 for i in range(300)}]
    v["float_sets"] = [{0.5, 1.5, -2.25, 1e300, float("inf"), -float("inf")},
                       {1, 1.0, True}, {0, False, 0.0}, {x / 7 for x in range(60)}]
    v["tuple_sets"] = [{(1, 2), (2, 1), (), (3,)}, {((1, 2), 3.5), (True, 0)},
                       frozenset({(i, -i) for i in range(30)})]
    v["mixed_nesting"] = [{1: {2, 3}, "k": frozenset({4})}, [{9, 17, 33}] * 2]
    v["dict_equal_keys"] = {1: "a", 2.0: "b", True: "c"}
    v["str_set_unordered"] = {"a", "b", "c"}
    return v


def record_values(out):
    import pyspark
    recs = []
    for name, obj in values().items():
        for p in range(6):
            try:
                data = pickle.dumps(obj, p)
            except Exception as e:
                recs.append([name, p, None, None, "dumps: %s" % type(e).__name__])
                continue
            try:
                r, err = repr(pickle.loads(data)), None
            except Exception as e:
                r, err = None, "%s: %s" % (type(e).__name__, e)
            recs.append([name, p, data.hex(), r, err])
    meta = {"python": sys.version.split()[0], "pyspark": pyspark.__version__,
            "script": "scripts/record_pickle_repr.py values"}
    json.dump({"meta": meta, "records": recs}, out, indent=0)


def record_pickletester(out):
    import os
    import test.pickletester as pt  # noqa: F401 (sets up __main__ classes the literals name)
    src = open(pt.__file__, "rb").read()
    seen, recs = set(), []
    for node in ast.walk(ast.parse(src)):
        if isinstance(node, ast.Constant) and isinstance(node.value, bytes):
            b = node.value
            if len(b) < 1 or b in seen:
                continue
            seen.add(b)
            try:
                # Addresses change from run to run; the test only needs to
                # know there was one.
                r, err = re.sub(r" at 0x[0-9a-f]+", " at 0x?", repr(pickle.loads(b))), None
            except Exception as e:
                r, err = None, type(e).__name__
            name = "pickletester:%d" % node.lineno
            recs.append([name, None, b.hex(), r, err])
    meta = {"python": sys.version.split()[0],
            "source": "Lib/test/pickletester.py of CPython %s (bytes literals only)"
                      % sys.version.split()[0],
            "script": "scripts/record_pickle_repr.py pickletester"}
    json.dump({"meta": meta, "records": recs}, out, indent=0)


JVM_QUERIES = [
    # (name, SQL) whose rows Spark's EvaluatePython pickles for Python.
    ("scalars", "SELECT 1L AS i, 'a' AS s, 1.5D AS d, true AS b, CAST(NULL AS INT) AS n, "
                "CAST(1.50 AS DECIMAL(10,2)) AS dec, X'6162' AS bin, 2Y AS by, 3S AS sh, 4.5F AS f"),
    ("dates", "SELECT DATE'2020-01-02' AS d, DATE'1969-12-31' AS before, DATE'0001-01-01' AS first, "
              "DATE'9999-12-31' AS last, CAST(NULL AS DATE) AS none"),
    ("timestamp_ntz", "SELECT TIMESTAMP_NTZ'2020-01-02 03:04:05.123456' AS t, "
                      "TIMESTAMP_NTZ'1969-12-31 23:59:59.999999' AS before, "
                      "TIMESTAMP_NTZ'2020-01-02 00:00:00' AS midnight, TIMESTAMP_NTZ'2020-01-02 00:00:07' AS s"),
    ("intervals", "SELECT INTERVAL '1 02:03:04.5' DAY TO SECOND AS a, INTERVAL '-3' DAY AS b, "
                  "INTERVAL '0' SECOND AS z"),
    ("nested", "SELECT array(DATE'2020-01-02', NULL) AS ad, map('k', DATE'2021-03-04') AS md, "
               "named_struct('x', 1, 'd', DATE'2022-05-06', 'inner', named_struct('y', 'z')) AS st, "
               "array(named_struct('a', 1), named_struct('a', 2)) AS arr_st, array() AS empty, "
               "map(DATE'2020-01-01', array(1, 2)) AS date_keys"),
    ("many_rows", "SELECT id, date_add(DATE'2020-02-27', CAST(id AS INT)) AS d, CAST(id AS STRING) AS s "
                  "FROM range(5)"),
    ("local_timestamp", "SELECT TIMESTAMP'2020-01-02 03:04:05' AS t"),
]


def record_jvm(out):
    """Rows as the JVM pickles them for Python (`df._jdf.javaToPython()`), one
    record per pickled batch, loaded here."""
    import pyspark
    from pyspark.sql import SparkSession
    spark = (SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false")
             .config("spark.sql.session.timeZone", "UTC").getOrCreate())
    recs = []
    try:
        for name, sql in JVM_QUERIES:
            for data in spark.sql(sql)._jdf.javaToPython().collect():
                data = bytes(data)
                try:
                    r, err = repr(pickle.loads(data)), None
                except Exception as e:
                    r, err = None, type(e).__name__
                recs.append([name, 2, data.hex(), r, err])
    finally:
        spark.stop()
    meta = {"python": sys.version.split()[0], "pyspark": pyspark.__version__, "TZ": "UTC",
            "script": "scripts/record_pickle_repr.py jvm"}
    json.dump({"meta": meta, "records": recs}, out, indent=0)


def record_py2(src, out):
    """Python 2.7's pickles (from record_pickle_repr_py2.py), as this Python 3
    loads them with pickle.loads's defaults (fix_imports, encoding='ASCII')."""
    made = json.load(open(src))
    recs = []
    for name, p, h in made["records"]:
        try:
            r, err = repr(pickle.loads(bytes.fromhex(h))), None
        except Exception as e:
            r, err = None, type(e).__name__
        recs.append([name, p, h, r, err])
    meta = {"python": sys.version.split()[0], "pickled_by": "Python " + made["python2"],
            "script": "scripts/record_pickle_repr_py2.py, then record_pickle_repr.py py2"}
    json.dump({"meta": meta, "records": recs}, out, indent=0)


if __name__ == "__main__":
    mode, path = sys.argv[1], sys.argv[-1]
    with open(path, "w") as f:
        if mode == "py2":
            record_py2(sys.argv[2], f)
        else:
            {"values": record_values, "pickletester": record_pickletester,
             "jvm": record_jvm}[mode](f)
