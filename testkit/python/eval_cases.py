"""One small task per eval type, made by the pinned PySpark: what the JVM would
put in the command (pickled `(func, returnType)` pairs and UDTF handler classes,
pickled by PySpark's own `_prepare_for_python_RDD`), the data section it would
send (pickled row batches, or Arrow IPC streams written by pyarrow in the
grouping the release's serializers read), and the rows a correct run answers.

Used by `worker/tests/real_worker_eval_types.rs` through the oracle's
`eval_case` op. The test builds the task header itself, with sparkwire's
encoder, from the *logical* parts given here (runner conf, state schema, key
schema, input types, table-argument offsets, a UDTF's analyze result, whether
to profile): where each part goes on the wire
in each release is exactly what is under test, so it is not decided here.

The functions are small stand-ins for user code (`a * 100 + b`, a grouped
sum, a `transformWithState` processor, ...), with the signatures each release's
`worker.py` calls them with. Nothing here is copied from PySpark: it only
calls it.
"""

import io
import json
import struct as _struct

import pyspark
from pyspark import serializers as S
from pyspark.sql.types import LongType, StructField, StructType

try:  # 4.x
    from pyspark.util import PythonEvalType
except ImportError:  # 3.5
    from pyspark.rdd import PythonEvalType

try:  # 4.x
    from pyspark.core.rdd import _prepare_for_python_RDD
except ImportError:  # 3.5
    from pyspark.rdd import _prepare_for_python_RDD

VERSION = tuple(int(x) for x in pyspark.__version__.split(".")[:2])

def defined_eval_types():
    """{name: code} of every eval type this release's PythonEvalType defines."""
    return {
        name: value
        for name, value in vars(PythonEvalType).items()
        if name.isupper() and isinstance(value, int)
    }


# ---------------------------------------------------------------------------
# Payloads, pickled by PySpark's own code.


class _FakeSparkContext:
    """Just enough of a SparkContext for `_prepare_for_python_RDD`: the default
    broadcast threshold (1 MiB; our commands are far smaller), no broadcasts,
    no environment, no includes."""

    class _jvm:  # noqa: N801
        class PythonUtils:
            @staticmethod
            def getBroadcastThreshold(jsc):
                return 1 << 20

    _jsc = None
    environment = {}
    _python_includes = []

    def __init__(self):
        self._pickled_broadcast_vars = set()


def _define(source, name):
    ns = {}
    exec(compile(source, "/jobs/eval_case.py", "exec"), ns)
    return ns[name]


def pickled_udf(source, name, return_type):
    """`(func, returnType)` as `pyspark.sql.udf._wrap_function` pickles it."""
    command = (_define(source, name), return_type)
    return _prepare_for_python_RDD(_FakeSparkContext(), command)[0].hex()


def pickled_udtf(source, name):
    """A UDTF handler class, as `pyspark.sql.udtf._create_judtf` pickles it
    (`_wrap_function(sc, handler)`: the class alone)."""
    return _prepare_for_python_RDD(_FakeSparkContext(), _define(source, name))[0].hex()


def pickled_rdd_command(source, name):
    """A NON_UDF command, as `pyspark.rdd._wrap_function` pickles it."""
    ser = S.BatchedSerializer(S.CPickleSerializer(), 100)
    command = (_define(source, name), None, ser, ser)
    return _prepare_for_python_RDD(_FakeSparkContext(), command)[0].hex()


def struct_type(*fields):
    """StructType from ("name", DataType) pairs."""
    return StructType([StructField(n, t) for n, t in fields])


LONG = LongType()


def udf(args, *chain):
    """One UDF: its argument offsets (int, or (offset, keyword)) and chain."""
    return {
        "args": [[a, None] if isinstance(a, int) else list(a) for a in args],
        "chain": list(chain),
    }


# ---------------------------------------------------------------------------
# Data sections.


def frames(items, batch):
    """`BatchedSerializer(CPickleSerializer(), batch)` frames of `items`, as hex
    strings (one per frame): what the JVM's Pyrolite pickler sends for rows."""
    buf = io.BytesIO()
    S.BatchedSerializer(S.CPickleSerializer(), batch).dump_stream(iter(items), buf)
    data = buf.getvalue()
    out, at = [], 0
    while at < len(data):
        (n,) = _struct.unpack(">i", data[at : at + 4])
        out.append(data[at + 4 : at + 4 + n].hex())
        at += 4 + n
    return out


def arrow_stream(schema, batches):
    """One Arrow IPC stream: `schema` is a list of (name, pyarrow type) and each
    batch a dict of column name to values (or a ready RecordBatch)."""
    import pyarrow as pa

    sch = pa.schema(schema)
    buf = io.BytesIO()
    w = pa.ipc.new_stream(buf, sch)
    for b in batches:
        if not isinstance(b, pa.RecordBatch):
            b = pa.record_batch([pa.array(b[f.name], f.type) for f in sch], schema=sch)
        w.write_batch(b)
    w.close()
    return buf.getvalue()


def i32(n):
    return _struct.pack(">i", n)


def grouped(streams):
    """Grouped input: `i32 1` and one stream per group, then `i32 0`."""
    return b"".join(i32(1) + s for s in streams) + i32(0)


def cogrouped(pairs):
    """Cogrouped input: `i32 2` and two streams per group, then `i32 0`."""
    return b"".join(i32(2) + a + b for a, b in pairs) + i32(0)


def kv_schema():
    import pyarrow as pa

    return [("k", pa.int64()), ("v", pa.int64())]


def kv_rows(rows):
    return {"k": [r[0] for r in rows], "v": [r[1] for r in rows]}


def struct_batch(rows):
    """One record batch whose only column `_0` is a struct of (k, v): the input
    the workers of mapInPandas / mapInArrow (and grouped Arrow maps) flatten."""
    import pyarrow as pa

    inner = pa.StructArray.from_arrays(
        [pa.array([r[0] for r in rows], pa.int64()), pa.array([r[1] for r in rows], pa.int64())],
        names=["k", "v"],
    )
    return pa.record_batch([inner], names=["_0"])


# Input rows shared by most cases: two groups by k.
ROWS = [(1, 10), (1, 20), (2, 30)]
GROUPS = [[(1, 10), (1, 20)], [(2, 30)]]


# ---------------------------------------------------------------------------
# The cases, by eval type.

SRC_SCALAR = "def f(a, b):\n    return a * 100 + b\n"
SRC_SUM = "def f(v):\n    return v.sum()\n"
SRC_DOT = "def f(k, v):\n    return (k * v).sum()\n"
KV = struct_type(("k", LONG), ("v", LONG))
KN = struct_type(("k", LONG), ("n", LONG))


def arrow_kv(rows):
    return arrow_stream(kv_schema(), [kv_rows(rows)])


def arrow_kv_batches(groups):
    """One stream, one record batch per group: grouped input as the 3.5 and 4.0
    workers read it."""
    return arrow_stream(kv_schema(), [kv_rows(g) for g in groups])


def arrow_struct(groups):
    import pyarrow as pa

    batches = [struct_batch(g) for g in groups]
    return arrow_stream([("_0", batches[0].schema[0].type)], batches)


def pandas_udf_case(udfs, data, expected, **extra):
    c = {"udfs": udfs, "data": {"arrow": data.hex()}, "output": ["arrow"]}
    c["expected"] = expected
    c.update(extra)
    return c


def case_non_udf():
    return {
        "rdd": pickled_rdd_command(
            "def job(split, it):\n    for x in it:\n        yield (split, x * 2)\n", "job"
        ),
        "data": {"frames": frames([1, 2, 3], 100)},
        "output": ["pickle", 100],
        "expected": ["(7, 2)", "(7, 4)", "(7, 6)"],
    }


def case_batched(variant=None):
    # The second argument by keyword where the release sends keyword flags.
    c = {
        "udfs": [udf([0, (1, "b")], pickled_udf(SRC_SCALAR, "f", LONG))],
        "data": {"frames": frames(ROWS, 100)},
        "output": ["pickle", 100],
        "expected": ["110", "120", "230"],
    }
    if variant == "profiled":
        # Run under the perf profiler: the worker reports the profile in an
        # accumulator update keyed by the UDF's result id. 4.0 and 4.1 are told
        # in the command (isProfiling, "perf"); from 4.2 the runner conf says so.
        c["profile"] = "perf"
        if VERSION >= (4, 2):
            c["runner_conf"] = [["spark.sql.pyspark.udf.profiler", "perf"]]
    return c


def case_arrow_batched():
    return pandas_udf_case(
        [udf([0, (1, "b")], pickled_udf(SRC_SCALAR, "f", LONG))],
        arrow_kv(ROWS),
        ["(110,)", "(120,)", "(230,)"],
        input_types=KV.json(),
    )


def case_scalar_pandas():
    # Two UDFs, the second a chain of two functions.
    plus = "def g(x):\n    return x + 1\n"
    return pandas_udf_case(
        [
            udf([0, (1, "b")], pickled_udf(SRC_SCALAR, "f", LONG)),
            udf([1], pickled_udf(plus, "g", LONG), pickled_udf(plus, "g", LONG)),
        ],
        arrow_kv(ROWS),
        ["(110, 12)", "(120, 22)", "(230, 32)"],
    )


def grouped_input(groups):
    """Grouped input as the release reads it: a batch per group in one stream
    before 4.1, a stream per group from 4.1."""
    if VERSION < (4, 1):
        return arrow_kv_batches(groups)
    return grouped([arrow_kv(g) for g in groups])


def case_grouped_map_pandas():
    src = (
        "def f(key, pdf):\n"
        "    import pandas as pd\n"
        "    return pd.DataFrame({'k': [key[0]], 'n': [pdf.v.sum() + len(pdf.columns)]})\n"
    )
    # keys [k], values [k, v]: `len, nkeys, keys…, values…`.
    return pandas_udf_case(
        [udf([4, 1, 0, 0, 1], pickled_udf(src, "f", KN))],
        grouped_input(GROUPS),
        ["((1, 32),)", "((2, 32),)"],
    )


def case_grouped_agg_pandas():
    return pandas_udf_case(
        [
            udf([1], pickled_udf(SRC_SUM, "f", LONG)),
            udf([0, (1, "v")], pickled_udf(SRC_DOT, "f", LONG)),
        ],
        grouped_input(GROUPS),
        ["(30, 30)", "(30, 60)"],
    )


def case_window_agg_pandas():
    # The runner conf names each UDF's window bound type (the key changed in
    # 4.1): a conf lost on the way fails the task.
    key = "pandas_window_bound_types" if VERSION < (4, 1) else "window_bound_types"
    return pandas_udf_case(
        [udf([1], pickled_udf(SRC_SUM, "f", LONG))],
        grouped_input(GROUPS),
        ["(30,)", "(30,)", "(30,)"],
        runner_conf=[[key, "unbounded"]],
    )


def case_scalar_pandas_iter():
    src = "def f(it):\n    for s in it:\n        yield s + 1\n"
    return pandas_udf_case(
        [udf([1], pickled_udf(src, "f", LONG))],
        arrow_kv(ROWS),
        ["(11,)", "(21,)", "(31,)"],
    )


def case_map_pandas_iter():
    src = "def f(it):\n    for pdf in it:\n        yield pdf.assign(v=pdf.v + 1)\n"
    return pandas_udf_case(
        [udf([0], pickled_udf(src, "f", KV))],
        arrow_struct([ROWS]),
        ["((1, 11),)", "((1, 21),)", "((2, 31),)"],
    )


def case_cogrouped_map_pandas():
    src = (
        "def f(key, left, right):\n"
        "    import pandas as pd\n"
        "    return pd.DataFrame({'k': [key[0]], 'n': [left.v.sum() - right.v.sum()]})\n"
    )
    offsets = [4, 1, 0, 0, 1] * 2
    data = cogrouped(
        [
            (arrow_kv([(1, 10), (1, 20)]), arrow_kv([(1, 5)])),
            (arrow_kv([(2, 30)]), arrow_kv([(2, 7), (2, 8)])),
        ]
    )
    return pandas_udf_case(
        [udf(offsets, pickled_udf(src, "f", KN))], data, ["((1, 25),)", "((2, 15),)"]
    )


def case_map_arrow_iter():
    src = (
        "def f(it):\n"
        "    import pyarrow as pa\n"
        "    import pyarrow.compute as pc\n"
        "    for b in it:\n"
        "        yield pa.RecordBatch.from_arrays(\n"
        "            [b.column(0), pc.multiply(b.column(1), 3)], names=['k', 'v'])\n"
    )
    return pandas_udf_case(
        [udf([0], pickled_udf(src, "f", KV))],
        arrow_struct([ROWS]),
        ["((1, 30),)", "((1, 60),)", "((2, 90),)"],
    )


def case_table_udf():
    # From 4.0 the command carries the pickled AnalyzeResult of the UDTF's
    # `analyze` (pickled by the analyzing worker with CPickleSerializer), which
    # the handler's constructor receives; 3.5 constructs it with no argument.
    src = (
        "class T:\n"
        "    def __init__(self, analyze_result=None):\n"
        "        self.m = 2 if analyze_result is None else len(analyze_result.schema.fields) + 1\n"
        "    def eval(self, a, b):\n"
        "        yield a, b * self.m\n"
        "        yield a, b * 3\n"
    )
    ret = struct_type(("a", LONG), ("b", LONG))
    analyzed = VERSION >= (4, 0)
    m = 3 if analyzed else 2
    analyze_result = None
    if analyzed:
        from pyspark.sql.udtf import AnalyzeResult

        analyze_result = S.CPickleSerializer().dumps(AnalyzeResult(schema=ret)).hex()
    return {
        "udtf": {
            "args": [[0, None], [1, "b"]],
            "handler": pickled_udtf(src, "T"),
            "return_type": ret.json(),
            "name": "T",
            "analyze_result": analyze_result,
        },
        "data": {"frames": frames(ROWS, 1)},
        "output": ["pickle", 1],
        "expected": [repr(((a, b * m), (a, b * 3))) for a, b in ROWS],
    }


def case_arrow_table_udf():
    src = (
        "class T:\n"
        "    def eval(self, a, b):\n"
        "        yield a, b * 2\n"
    )
    return {
        "udtf": {
            "args": [[0, None], [1, "b"]],
            "handler": pickled_udtf(src, "T"),
            "return_type": struct_type(("a", LONG), ("b", LONG)).json(),
            "name": "T",
        },
        "input_types": KV.json(),
        "data": {"arrow": arrow_kv(ROWS).hex()},
        "output": ["arrow"],
        "expected": ["((1, 20),)", "((1, 40),)", "((2, 60),)"],
    }


def case_grouped_map_pandas_with_state():
    import pyarrow as pa

    src = (
        "def f(key, pdfs, state):\n"
        "    import pandas as pd\n"
        "    if state._value_schema.names != ['n']:\n"
        "        raise ValueError('state schema %r' % state._value_schema)\n"
        "    n = sum(int(p.v.sum()) for p in pdfs)\n"
        "    state.update((n,))\n"
        "    yield pd.DataFrame({'k': [key[0]], 'n': [n]})\n"
    )
    # No prior state, no timeout: the properties GroupState's constructor takes.
    props = json.dumps(
        {
            "batchProcessingTimeMs": 0,
            "eventTimeWatermarkMs": 0,
            "timeoutConf": "NoTimeout",
            "hasTimedOut": False,
            "watermarkPresent": False,
            "defined": False,
            "updated": False,
            "removed": False,
            "timeoutTimestamp": -1,
        }
    )
    state_type = pa.struct(
        [
            ("properties", pa.string()),
            ("keyRowAsUnsafe", pa.binary()),
            ("object", pa.binary()),
            ("oldTimeoutTimestamp", pa.int64()),
            ("startOffset", pa.int32()),
            ("numRows", pa.int32()),
            ("isLastChunk", pa.bool_()),
        ]
    )
    # One batch: the rows of both groups, and per group one state-info row
    # naming its slice of the data (the rest of the state column is null).
    states = [
        {"properties": props, "keyRowAsUnsafe": b"k1", "object": None,
         "oldTimeoutTimestamp": -1, "startOffset": 0, "numRows": 2, "isLastChunk": True},
        {"properties": props, "keyRowAsUnsafe": b"k2", "object": None,
         "oldTimeoutTimestamp": -1, "startOffset": 2, "numRows": 1, "isLastChunk": True},
        None,
    ]
    schema = kv_schema() + [("__state", state_type)]
    batch = pa.record_batch(
        [
            pa.array([r[0] for r in ROWS], pa.int64()),
            pa.array([r[1] for r in ROWS], pa.int64()),
            pa.array(states, state_type),
        ],
        schema=pa.schema(schema),
    )
    return pandas_udf_case(
        [udf([4, 1, 0, 0, 1], pickled_udf(src, "f", KN))],
        arrow_stream(schema, [batch]),
        # The data part of the output (count, data, state structs): one row
        # per group; the state part holds pickles, so it is not compared.
        ["((1, 30),)", "((2, 30),)"],
        state_schema=struct_type(("n", LONG)).json(),
        project=[1],
        skip_null_rows=True,
    )


def struct_grouped(groups):
    """Grouped input of one struct column: a batch per group in one stream in
    4.0, a stream per group from 4.1."""
    if VERSION < (4, 1):
        return arrow_struct(groups)
    return grouped([arrow_struct([g]) for g in groups])


def case_grouped_map_arrow():
    src = (
        "def f(key, t):\n"
        "    import pyarrow as pa\n"
        "    import pyarrow.compute as pc\n"
        "    n = pc.sum(t.column('v')).as_py() + t.num_columns\n"
        "    return pa.table({'k': [key[0].as_py()], 'n': [n]})\n"
    )
    return pandas_udf_case(
        [udf([4, 1, 0, 0, 1], pickled_udf(src, "f", KN))],
        struct_grouped(GROUPS),
        ["((1, 32),)", "((2, 32),)"],
    )


def case_cogrouped_map_arrow():
    src = (
        "def f(key, left, right):\n"
        "    import pyarrow as pa\n"
        "    import pyarrow.compute as pc\n"
        "    n = pc.sum(left.column('v')).as_py() - pc.sum(right.column('v')).as_py()\n"
        "    return pa.table({'k': [key[0].as_py()], 'n': [n]})\n"
    )
    data = cogrouped(
        [
            (arrow_kv([(1, 10), (1, 20)]), arrow_kv([(1, 5)])),
            (arrow_kv([(2, 30)]), arrow_kv([(2, 7), (2, 8)])),
        ]
    )
    return pandas_udf_case(
        [udf([4, 1, 0, 0, 1] * 2, pickled_udf(src, "f", KN))], data, ["((1, 25),)", "((2, 15),)"]
    )


# transformWithState: stand-ins for the processor wrappers that
# pyspark.sql.pandas.group_ops builds, with the signatures the worker calls.
# They make no state call (the venvs have no protobuf, which the state client's
# messages need): the worker's own connection to the state server named in the
# command is what the test's stand-in server sees. Each checks the key schema
# the worker parsed from the command and sums its group.
TWS_CHECK = (
    "    if api.key_schema.names != ['k']:\n"
    "        raise ValueError('key schema %r' % api.key_schema)\n"
)
SRC_TWS_PANDAS = (
    "def f(api, mode, key, pdfs):\n"
    "    import pandas as pd\n"
    + TWS_CHECK
    + "    if key is None:\n"
    "        return iter([])\n"
    "    n = sum(int(p['v'].sum()) for p in pdfs)\n"
    "    return iter([pd.DataFrame({'k': [key[0]], 'n': [n]})])\n"
)
SRC_TWS_PANDAS_INIT = (
    "def f(api, mode, key, pdfs, inits):\n"
    "    import pandas as pd\n"
    + TWS_CHECK
    + "    if key is None:\n"
    "        return iter([])\n"
    "    n = sum(int(p['v'].sum()) for p in pdfs) + sum(int(p['v'].sum()) for p in inits)\n"
    "    return iter([pd.DataFrame({'k': [key[0]], 'n': [n]})])\n"
)
SRC_TWS_ROW = (
    "def f(api, mode, key, rows):\n"
    "    from pyspark.sql import Row\n"
    + TWS_CHECK
    + "    if key is None:\n"
    "        return iter([])\n"
    "    return iter([Row(k=key[0], n=sum(r.v for r in rows))])\n"
)
SRC_TWS_ROW_INIT = (
    "def f(api, mode, key, rows, inits):\n"
    "    from pyspark.sql import Row\n"
    + TWS_CHECK
    + "    if key is None:\n"
    "        return iter([])\n"
    "    n = sum(r.v for r in rows) + sum(r.v for r in inits)\n"
    "    return iter([Row(k=key[0], n=n)])\n"
)


def tws_case(src, data, expected, offsets):
    return pandas_udf_case(
        [udf(offsets, pickled_udf(src, "f", KN))],
        data,
        expected,
        key_schema=struct_type(("k", LONG)).json(),
        state_server=True,
    )


def init_state_input():
    """Batches of (inputData, initState) structs. Before 4.2 every row holds
    both, one key per batch; from 4.2 a batch holds either input rows or
    initial-state rows (the other column null)."""
    import pyarrow as pa

    kv = pa.struct([("k", pa.int64()), ("v", pa.int64())])

    def batch(data, init):
        n = len(data or init)
        columns = [
            pa.array([None] * n if rows is None else [{"k": k, "v": v} for k, v in rows], kv)
            for rows in (data, init)
        ]
        return pa.record_batch(columns, names=["inputData", "initState"])

    if VERSION < (4, 2):
        batches = [
            batch([(1, 10), (1, 20)], [(1, 100), (1, 0)]),
            batch([(2, 30)], [(2, 1000)]),
        ]
    else:
        batches = [
            batch(None, [(1, 100)]),
            batch([(1, 10), (1, 20)], None),
            batch(None, [(2, 1000)]),
            batch([(2, 30)], None),
        ]
    return arrow_stream([("inputData", kv), ("initState", kv)], batches)


def case_tws_pandas():
    return tws_case(
        SRC_TWS_PANDAS, arrow_kv_batches(GROUPS), ["((1, 30),)", "((2, 30),)"], [4, 1, 0, 0, 1]
    )


def case_tws_pandas_init():
    return tws_case(
        SRC_TWS_PANDAS_INIT,
        init_state_input(),
        ["((1, 130),)", "((2, 1030),)"],
        [4, 1, 0, 0, 1] * 2,
    )


def case_tws_row():
    return tws_case(
        SRC_TWS_ROW, arrow_kv_batches(GROUPS), ["((1, 30),)", "((2, 30),)"], [4, 1, 0, 0, 1]
    )


def case_tws_row_init():
    return tws_case(
        SRC_TWS_ROW_INIT,
        init_state_input(),
        ["((1, 130),)", "((2, 1030),)"],
        [4, 1, 0, 0, 1] * 2,
    )


def case_grouped_map_arrow_iter():
    src = (
        "def f(key, batches):\n"
        "    import pyarrow as pa\n"
        "    import pyarrow.compute as pc\n"
        "    n = sum(pc.sum(b.column('v')).as_py() for b in batches)\n"
        "    yield pa.RecordBatch.from_pydict({'k': [key[0].as_py()], 'n': [n]})\n"
    )
    return pandas_udf_case(
        [udf([4, 1, 0, 0, 1], pickled_udf(src, "f", KN))],
        struct_grouped(GROUPS),
        ["((1, 30),)", "((2, 30),)"],
    )


def case_grouped_map_pandas_iter():
    src = (
        "def f(key, pdfs):\n"
        "    import pandas as pd\n"
        "    n = sum(int(p.v.sum()) for p in pdfs)\n"
        "    yield pd.DataFrame({'k': [key[0]], 'n': [n]})\n"
    )
    return pandas_udf_case(
        [udf([4, 1, 0, 0, 1], pickled_udf(src, "f", KN))],
        grouped_input(GROUPS),
        ["((1, 30),)", "((2, 30),)"],
    )


def case_grouped_agg_pandas_iter():
    src = "def f(it):\n    return sum(int(s.sum()) for s in it)\n"
    return pandas_udf_case(
        [udf([1], pickled_udf(src, "f", LONG))], grouped_input(GROUPS), ["(30,)", "(30,)"]
    )


def case_scalar_arrow():
    src = (
        "def f(a, b):\n"
        "    import pyarrow.compute as pc\n"
        "    return pc.add(pc.multiply(a, 100), b)\n"
    )
    return pandas_udf_case(
        [udf([0, (1, "b")], pickled_udf(src, "f", LONG))],
        arrow_kv(ROWS),
        ["(110,)", "(120,)", "(230,)"],
    )


def case_scalar_arrow_iter():
    src = (
        "def f(it):\n"
        "    import pyarrow.compute as pc\n"
        "    for a in it:\n"
        "        yield pc.add(a, 1)\n"
    )
    return pandas_udf_case(
        [udf([1], pickled_udf(src, "f", LONG))], arrow_kv(ROWS), ["(11,)", "(21,)", "(31,)"]
    )


SRC_ARROW_SUM = "def f(v):\n    import pyarrow.compute as pc\n    return pc.sum(v).as_py()\n"
SRC_ARROW_DOT = (
    "def f(k, v):\n    import pyarrow.compute as pc\n    return pc.sum(pc.multiply(k, v)).as_py()\n"
)


def case_grouped_agg_arrow():
    return pandas_udf_case(
        [
            udf([1], pickled_udf(SRC_ARROW_SUM, "f", LONG)),
            udf([0, (1, "v")], pickled_udf(SRC_ARROW_DOT, "f", LONG)),
        ],
        grouped_input(GROUPS),
        ["(30, 30)", "(30, 60)"],
    )


def case_window_agg_arrow():
    return pandas_udf_case(
        [udf([1], pickled_udf(SRC_ARROW_SUM, "f", LONG))],
        grouped_input(GROUPS),
        ["(30,)", "(30,)", "(30,)"],
        runner_conf=[["window_bound_types", "unbounded"]],
    )


def case_grouped_agg_arrow_iter():
    src = (
        "def f(it):\n"
        "    import pyarrow.compute as pc\n"
        "    return sum(pc.sum(a).as_py() for a in it)\n"
    )
    return pandas_udf_case(
        [udf([1], pickled_udf(src, "f", LONG))], grouped_input(GROUPS), ["(30,)", "(30,)"]
    )


def case_arrow_udtf():
    import pyarrow as pa

    src = (
        "class T:\n"
        "    def eval(self, t, n):\n"
        "        import pyarrow as pa\n"
        "        import pyarrow.compute as pc\n"
        "        yield pa.RecordBatch.from_arrays(\n"
        "            [t.column('k'), pc.multiply(t.column('v'), n)], names=['k', 'w'])\n"
    )
    table = struct_batch(ROWS)
    batch = pa.record_batch(
        [table.column(0), pa.array([5, 5, 5], pa.int64())], names=["_0", "_1"]
    )
    stream = arrow_stream(list(zip(batch.schema.names, batch.schema.types)), [batch])
    return {
        "udtf": {
            "args": [[0, None], [1, "n"]],
            "handler": pickled_udtf(src, "T"),
            "return_type": struct_type(("k", LONG), ("w", LONG)).json(),
            "name": "T",
        },
        # The first argument is a TABLE argument: a struct column the worker flattens.
        "table_arg_offsets": [0],
        "data": {"arrow": stream.hex()},
        "output": ["arrow"],
        "expected": ["((1, 50),)", "((1, 100),)", "((2, 150),)"],
    }


CASES = {
    "NON_UDF": case_non_udf,
    "SQL_BATCHED_UDF": case_batched,
    "SQL_ARROW_BATCHED_UDF": case_arrow_batched,
    "SQL_SCALAR_PANDAS_UDF": case_scalar_pandas,
    "SQL_GROUPED_MAP_PANDAS_UDF": case_grouped_map_pandas,
    "SQL_GROUPED_AGG_PANDAS_UDF": case_grouped_agg_pandas,
    "SQL_WINDOW_AGG_PANDAS_UDF": case_window_agg_pandas,
    "SQL_SCALAR_PANDAS_ITER_UDF": case_scalar_pandas_iter,
    "SQL_MAP_PANDAS_ITER_UDF": case_map_pandas_iter,
    "SQL_COGROUPED_MAP_PANDAS_UDF": case_cogrouped_map_pandas,
    "SQL_MAP_ARROW_ITER_UDF": case_map_arrow_iter,
    "SQL_GROUPED_MAP_PANDAS_UDF_WITH_STATE": case_grouped_map_pandas_with_state,
    "SQL_GROUPED_MAP_ARROW_UDF": case_grouped_map_arrow,
    "SQL_COGROUPED_MAP_ARROW_UDF": case_cogrouped_map_arrow,
    "SQL_TRANSFORM_WITH_STATE_PANDAS_UDF": case_tws_pandas,
    "SQL_TRANSFORM_WITH_STATE_PANDAS_INIT_STATE_UDF": case_tws_pandas_init,
    "SQL_TRANSFORM_WITH_STATE_PYTHON_ROW_UDF": case_tws_row,
    "SQL_TRANSFORM_WITH_STATE_PYTHON_ROW_INIT_STATE_UDF": case_tws_row_init,
    "SQL_GROUPED_MAP_ARROW_ITER_UDF": case_grouped_map_arrow_iter,
    "SQL_GROUPED_MAP_PANDAS_ITER_UDF": case_grouped_map_pandas_iter,
    "SQL_GROUPED_AGG_PANDAS_ITER_UDF": case_grouped_agg_pandas_iter,
    "SQL_SCALAR_ARROW_UDF": case_scalar_arrow,
    "SQL_SCALAR_ARROW_ITER_UDF": case_scalar_arrow_iter,
    "SQL_GROUPED_AGG_ARROW_UDF": case_grouped_agg_arrow,
    "SQL_WINDOW_AGG_ARROW_UDF": case_window_agg_arrow,
    "SQL_GROUPED_AGG_ARROW_ITER_UDF": case_grouped_agg_arrow_iter,
    "SQL_TABLE_UDF": case_table_udf,
    "SQL_ARROW_TABLE_UDF": case_arrow_table_udf,
    "SQL_ARROW_UDTF": case_arrow_udtf,
}


# Variants: a second task for an eval type, exercising a part of the command
# the first leaves out.
VARIANTS = {("SQL_BATCHED_UDF", "profiled")}


def case(name, variant=None):
    """The case for eval type `name` (and `variant`), or None when there is none."""
    make = CASES.get(name)
    if make is None or (variant is not None and (name, variant) not in VARIANTS):
        return None
    c = make(variant) if variant is not None else make()
    c.setdefault("runner_conf", [])
    optional = (
        "state_schema", "key_schema", "input_types", "table_arg_offsets",
        "udfs", "udtf", "rdd", "profile",
    )
    for key in optional:
        c.setdefault(key, None)
    c.setdefault("state_server", False)
    c.setdefault("project", None)
    c.setdefault("skip_null_rows", False)
    return c


def accumulator_updates(updates):
    """For each pickled `(id, value)` accumulator update: the id, and the keys
    of the value when it is a dict (the profilers' results are keyed by result
    id), else None."""
    out = []
    for data in updates:
        aid, value = S.CPickleSerializer().loads(data)
        if isinstance(value, dict):
            keys = [k if isinstance(k, int) else repr(k) for k in value]
        else:
            keys = None
        out.append([aid, keys])
    return out


# ---------------------------------------------------------------------------
# Reading what the worker answered, with PySpark's and pyarrow's own readers.


def _plain(v):
    if isinstance(v, dict):
        return tuple(_plain(x) for x in v.values())
    if isinstance(v, list):
        return [_plain(x) for x in v]
    return v


def output_rows(kind, data, project=None, skip_null_rows=False):
    """The rows of a reply's data: `["pickle", n]` → repr of each item
    `BatchedSerializer(CPickleSerializer(), n).load_stream` yields;
    `["arrow"]` → repr of each row of the IPC stream as a tuple (structs as
    tuples of their fields), keeping the columns listed in `project` and,
    with `skip_null_rows`, leaving out rows whose kept columns are all null."""
    if kind[0] == "pickle":
        ser = S.BatchedSerializer(S.CPickleSerializer(), kind[1])
        return [repr(x) for x in ser.load_stream(io.BytesIO(data))]
    import pyarrow as pa

    rows = []
    if not data:
        return rows
    reader = pa.ipc.open_stream(pa.BufferReader(data))
    for batch in reader:
        for row in batch.to_pylist():
            values = list(row.values())
            if project is not None:
                values = [values[i] for i in project]
            if skip_null_rows and all(v is None for v in values):
                continue
            rows.append(repr(tuple(_plain(v) for v in values)))
    return rows


def parse_init_message(data):
    """4.3: parses an init message body with `WorkerInitInfo.from_stream`, the
    real worker's reader, and says whether it read the body to its last byte."""
    from pyspark.messages import ZeroCopyByteStream
    from pyspark.worker_message import WorkerInitInfo

    stream = ZeroCopyByteStream(memoryview(data))
    stream.finish()
    info = WorkerInitInfo.from_stream(stream)
    udf_info = info.udf_info
    if isinstance(udf_info, list):
        shape = [[len(u.args), sorted(u.kwargs), len(u.udfs), u.result_id] for u in udf_info]
    elif hasattr(udf_info, "handler"):
        shape = {"args": len(udf_info.args), "name": udf_info.name}
    else:
        shape = len(udf_info)
    return {
        "consumed_all": stream.finished,
        "eval_type": info.eval_type,
        "runner_conf": info.runner_conf,
        "eval_conf": info.eval_conf,
        "udf_info": shape,
    }
