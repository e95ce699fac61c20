"""Records Arrow IPC streams of the column types sparkwire's arrow_rows decodes,
with what pyarrow says they hold, for tests/arrow_types_vs_pyarrow.rs.

Usage: <pinned venv>/bin/python scripts/record_arrow_types.py OUT.json
(scripts/record-arrow-types.sh runs it with the newest pinned pyspark's venv:
pyarrow 18.1.0, pandas 2.2.3, pytz.)

Each case is one stream written by pyarrow's own IPC writer (dictionary deltas
enabled, so a dictionary that grows between batches is sent as a delta) and, as
recorded from pyarrow: str(schema), and each batch's to_pylist() rows rendered
as repr(tuple(row.values())) with struct values (dicts) turned into tuples of
their fields, recursively — the one place sparkwire's rows differ from
to_pylist() on purpose (a struct shows as a Row). Values are random from a fixed
seed per case, with nulls, negatives and each type's edges.
"""

import datetime
import decimal
import io
import json
import random
import sys

import pyarrow as pa


def plain(v):
    if isinstance(v, dict):
        return tuple(plain(x) for x in v.values())
    if isinstance(v, list):
        return [plain(x) for x in v]
    if isinstance(v, tuple):
        return tuple(plain(x) for x in v)
    return v


def stream(schema, batches):
    buf = io.BytesIO()
    opts = pa.ipc.IpcWriteOptions(emit_dictionary_deltas=True)
    with pa.ipc.new_stream(buf, schema, options=opts) as w:
        for b in batches:
            w.write_batch(b)
    return buf.getvalue()


def case(name, columns, nbatches=1, seed=0, n=24):
    """columns: (field name, pyarrow type, generator(rnd) -> value)."""
    rnd = random.Random("%s/%d" % (name, seed))
    schema = pa.schema([pa.field(c, t) for c, t, _ in columns])
    batches = []
    for _ in range(nbatches):
        arrays = []
        for _, t, gen in columns:
            vals = [None if rnd.random() < 0.15 else gen(rnd) for _ in range(n)]
            arrays.append(pa.array(vals, type=t))
        batches.append(pa.record_batch(arrays, schema=schema))
    return finish(name, schema, batches)


def finish(name, schema, batches):
    data = stream(schema, batches)
    # What pyarrow reads back from the bytes, not what was written.
    back = pa.ipc.open_stream(data)
    rows = []
    for b in back:
        rows += [repr(plain(tuple(r.values()))) for r in b.to_pylist()]
    return {"name": name, "schema": str(back.schema), "stream": data.hex(), "rows": rows}


def i64(rnd):
    return rnd.choice(
        [0, 1, -1, rnd.randrange(-(2**40), 2**40), rnd.randrange(-(10**12), 10**12), rnd.randrange(-(10**9), 10**9) * 1000, 86400 * 10**6]
    )


def in_datetime_range(unit):
    # Keep to Python's datetime range (years 1..9999) for s/ms/us and to
    # pandas' (1677..2262) for ns, a day in from each end so a fixed offset fits:
    # outside them pyarrow itself cannot convert.
    per = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[unit]
    lo, hi = (-62135596800 + 86400, 253402300799 - 86400) if unit != "ns" else (-9223372036 + 86400, 9223372035 - 86400)
    return lambda rnd: rnd.choice(
        [
            0,
            -1,
            1,
            lo * per,
            hi * per,
            rnd.randrange(lo * per, hi * per),
            rnd.randrange(-(10**6) * per, 10**6 * per),
            # Whole milliseconds and microseconds: pandas prints 6 fraction digits.
            rnd.randrange(-(10**6), 10**6) * per // 1000,
            rnd.randrange(-(10**6), 10**6) * max(per // 10**6, 1),
        ]
    )


def decimal_gen(precision, scale):
    def gen(rnd):
        digits = rnd.randrange(0, precision + 1)
        coeff = rnd.randrange(0, 10**digits) if digits else 0
        return decimal.Decimal(coeff * rnd.choice([1, -1])).scaleb(-scale)

    return gen


def text(rnd):
    return "".join(rnd.choice(["a", "é", "'", '"', "\n", "\U0001f600", "z"]) for _ in range(rnd.randrange(0, 5)))


def cases():
    out = []
    for unit in ["s", "ms", "us", "ns"]:
        for tz in [None, "UTC", "+01:00", "-05:30", "+00:00"]:
            out.append(case("timestamp_%s_%s" % (unit, tz), [("t", pa.timestamp(unit, tz=tz), in_datetime_range(unit))]))
    # Named zones with a fixed offset: PySpark writes the session time zone,
    # which on servers is often one of these.
    for tz in ["Etc/UTC", "GMT", "Zulu", "UCT", "Universal", "Greenwich", "GMT0", "Etc/GMT+5", "Etc/GMT-14", "Etc/GMT-3"]:
        for unit in ["us", "ns"]:
            out.append(case("timestamp_%s_%s" % (unit, tz), [("t", pa.timestamp(unit, tz=tz), in_datetime_range(unit))]))
    day_lo, day_hi = -719162, 2932896
    out.append(
        case(
            "dates",
            [
                ("d32", pa.date32(), lambda r: datetime.date(1970, 1, 1) + datetime.timedelta(days=r.choice([0, -1, day_lo, day_hi, r.randrange(day_lo, day_hi)]))),
                ("d64", pa.date64(), lambda r: datetime.date(1970, 1, 1) + datetime.timedelta(days=r.randrange(day_lo, day_hi))),
            ],
        )
    )
    out.append(
        case(
            "times",
            [
                ("s", pa.time32("s"), lambda r: r.randrange(0, 86400)),
                ("ms", pa.time32("ms"), lambda r: r.randrange(0, 86400 * 10**3)),
                ("us", pa.time64("us"), lambda r: r.choice([0, 86400 * 10**6 - 1, r.randrange(0, 86400 * 10**6)])),
                ("ns", pa.time64("ns"), lambda r: r.choice([0, 1, 86400 * 10**9 - 1, r.randrange(0, 86400 * 10**9)])),
            ],
        )
    )
    for unit in ["s", "ms", "us", "ns"]:
        out.append(case("duration_%s" % unit, [("d", pa.duration(unit), i64)]))
    for bits, precision, scale in [(128, 10, 2), (128, 38, 0), (128, 20, 10), (128, 5, -2), (128, 38, 38), (256, 76, 20), (256, 40, 3), (256, 76, 0)]:
        t = pa.decimal128(precision, scale) if bits == 128 else pa.decimal256(precision, scale)
        out.append(case("decimal%d_%d_%d" % (bits, precision, scale), [("x", t, decimal_gen(precision, scale))]))
    ints = lambda r: r.randrange(-100, 100)  # noqa: E731
    out.append(
        case(
            "lists",
            [
                ("l", pa.list_(pa.int32()), lambda r: [None if r.random() < 0.1 else ints(r) for _ in range(r.randrange(0, 4))]),
                ("ll", pa.list_(pa.list_(pa.string())), lambda r: [[text(r) for _ in range(r.randrange(0, 3))] for _ in range(r.randrange(0, 3))]),
                ("large", pa.large_list(pa.string()), lambda r: [text(r) for _ in range(r.randrange(0, 3))]),
                ("fixed", pa.list_(pa.float32(), 3), lambda r: [r.choice([0.5, -1.0, None]) for _ in range(3)]),
                ("ls", pa.list_(pa.struct([("a", pa.int8()), ("b", pa.string())])), lambda r: [{"a": ints(r), "b": text(r)} for _ in range(r.randrange(0, 3))]),
            ],
        )
    )
    out.append(
        case(
            "maps",
            [
                ("m", pa.map_(pa.string(), pa.int32()), lambda r: [(text(r), ints(r)) for _ in range(r.randrange(0, 3))]),
                ("ml", pa.map_(pa.int64(), pa.list_(pa.int8())), lambda r: [(ints(r), [ints(r)]) for _ in range(r.randrange(0, 3))]),
            ],
        )
    )
    out.append(
        case(
            "large_and_fixed_binary",
            [
                ("ls", pa.large_string(), text),
                ("lb", pa.large_binary(), lambda r: bytes(r.randrange(256) for _ in range(r.randrange(0, 5)))),
                ("fb", pa.binary(4), lambda r: bytes(r.randrange(256) for _ in range(4))),
            ],
        )
    )
    out.append(
        case(
            "structs",
            [
                ("s", pa.struct([("k", pa.int64()), ("in", pa.struct([("t", pa.timestamp("us", tz="UTC")), ("d", pa.decimal128(9, 3))]))]),
                 lambda r: {"k": ints(r), "in": {"t": datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc), "d": decimal.Decimal("1.5")}}),
            ],
        )
    )
    # Dictionary-encoded columns; the dictionary grows from batch to batch, so
    # the later batches send deltas.
    rnd = random.Random("dictionary")
    schema = pa.schema(
        [
            pa.field("ds", pa.dictionary(pa.int8(), pa.string())),
            pa.field("di", pa.dictionary(pa.int32(), pa.int64(), ordered=True)),
            pa.field("ld", pa.list_(pa.dictionary(pa.int16(), pa.string()))),
        ]
    )
    words = ["a", "b", "é", "dd"]
    batches = []
    for k in range(3):
        words = words + ["w%d" % k]
        n = 8
        idx = [None if rnd.random() < 0.2 else rnd.randrange(len(words)) for _ in range(n)]
        ds = pa.DictionaryArray.from_arrays(pa.array(idx, pa.int8()), pa.array(words))
        ii = [rnd.randrange(3 + k) for _ in range(n)]
        di = pa.DictionaryArray.from_arrays(pa.array(ii, pa.int32()), pa.array([10**k * j for j in range(3 + k)], pa.int64()), ordered=True)
        li = pa.DictionaryArray.from_arrays(pa.array([rnd.randrange(len(words)) for _ in range(2 * n)], pa.int16()), pa.array(words))
        ld = pa.ListArray.from_arrays(pa.array([2 * j for j in range(n + 1)], pa.int32()), li)
        batches.append(pa.record_batch([ds, di, ld], schema=schema))
    out.append(finish("dictionaries_with_deltas", schema, batches))
    # The Arrow schema PySpark itself derives from a Spark schema (to_arrow_schema
    # of the pinned pyspark: session time zone on timestamps, large types when
    # spark.sql.execution.arrow.useLargeVarTypes is on), with values for it.
    from pyspark.sql import types as T
    from pyspark.sql.pandas.types import to_arrow_schema

    spark_schema = T.StructType(
        [
            T.StructField("ts", T.TimestampType()),
            T.StructField("ntz", T.TimestampNTZType()),
            T.StructField("d", T.DateType()),
            T.StructField("dec", T.DecimalType(12, 4)),
            T.StructField("arr", T.ArrayType(T.StringType())),
            T.StructField("m", T.MapType(T.StringType(), T.LongType())),
            T.StructField("st", T.StructType([T.StructField("a", T.IntegerType()), T.StructField("b", T.BinaryType())])),
            T.StructField("di", T.DayTimeIntervalType()),
        ]
    )
    for tz in ["Etc/UTC", "UTC"]:
        for large in [False, True]:
            try:
                arrow_schema = to_arrow_schema(spark_schema, timezone=tz, prefers_large_types=large)
            except TypeError:  # older pysparks: always UTC, never large
                arrow_schema = to_arrow_schema(spark_schema)
            gens = [
                in_datetime_range("us"),
                in_datetime_range("us"),
                lambda r: datetime.date(1970, 1, 1) + datetime.timedelta(days=r.randrange(-719162, 2932896)),
                decimal_gen(12, 4),
                lambda r: [text(r) for _ in range(r.randrange(0, 3))],
                lambda r: [(text(r), i64(r)) for _ in range(r.randrange(0, 3))],
                lambda r: {"a": r.randrange(-(2**31), 2**31), "b": bytes(r.randrange(256) for _ in range(r.randrange(0, 4)))},
                lambda r: r.randrange(-(10**12), 10**12),
            ]
            columns = [(f.name, f.type, g) for f, g in zip(arrow_schema, gens)]
            out.append(case("pyspark_schema_%s_%s" % (tz, "large" if large else "plain"), columns))
    # Nesting at sparkwire's depth limit (16 levels below the column) is read;
    # deeper is refused, though pyarrow reads it.
    for depth in [16, 40]:
        t, v = pa.int8(), 1
        for _ in range(depth):
            t, v = pa.list_(t), [v]
        out.append(case("nested_lists_%d" % depth, [("n", t, lambda r, v=v: v)], n=3))
    # A zone with daylight saving: pyarrow shows values through pytz's
    # database; sparkwire has none and refuses.
    out.append(case("timestamp_named_zone", [("t", pa.timestamp("us", tz="America/New_York"), in_datetime_range("us"))]))
    return out


def main():
    with open(sys.argv[1], "w") as f:
        json.dump({"pyarrow": pa.__version__, "python": sys.version.split()[0], "cases": cases()}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
