"""A long-lived oracle process: answers requests by running real PySpark code.

Run with the interpreter of a venv that has one pinned pyspark installed. Protocol:
one JSON object per line on stdin, one JSON object per line on stdout:

    request:  {"op": "<name>", ...arguments}
    response: {"ok": <result>}  or  {"err": "<exception type>: <message>"}

Bytes travel as lowercase hex strings. Nothing else is ever written to stdout:
anything PySpark or user code prints goes to stderr.

Each op calls the pyspark functions it is named after and nothing of ours, so the
answers are what PySpark itself does. Later layers add ops here (pickle, serializers).
"""

import gc as _gc
import io
import json
import os
import socket
import sys
import threading
import traceback

# Keep the protocol channel private before importing anything that might print.
_out = sys.stdout
sys.stdout = sys.stderr
os.environ.setdefault("SPARK_AUTH_SOCKET_TIMEOUT", "5")

import pyspark  # noqa: E402
from pyspark import serializers as S  # noqa: E402

try:  # 4.x
    from pyspark.util import local_connect_and_auth  # noqa: E402
except ImportError:  # 3.5
    from pyspark.java_gateway import local_connect_and_auth  # noqa: E402


class KeepOpen(io.BytesIO):
    """A BytesIO whose close() keeps the contents (ChunkedStream closes its target)."""

    def close(self):
        pass


def unhex(h):
    return bytes.fromhex(h)


def op_hello(req):
    return {"pyspark": pyspark.__version__, "python": "%d.%d.%d" % sys.version_info[:3]}


def op_write_int(req):
    out = io.BytesIO()
    for v in req["values"]:
        S.write_int(v, out)
    return out.getvalue().hex()


def op_write_long(req):
    out = io.BytesIO()
    for v in req["values"]:
        S.write_long(v, out)
    return out.getvalue().hex()


def op_write_with_length(req):
    out = io.BytesIO()
    for p in req["payloads"]:
        S.write_with_length(unhex(p), out)
    return out.getvalue().hex()


def op_write_strs(req):
    """Strings as PySpark sends them: write_with_length(s.encode("utf-8"))."""
    out = io.BytesIO()
    for s in req["strs"]:
        S.write_with_length(s.encode("utf-8"), out)
    return out.getvalue().hex()


def op_read_fields(req):
    """Reads `layout` (a list of "i32" | "i64" | "bool" | "frame") with PySpark's readers."""
    stream = io.BytesIO(unhex(req["hex"]))
    values = []
    for kind in req["layout"]:
        if kind == "i32":
            values.append(S.read_int(stream))
        elif kind == "i64":
            values.append(S.read_long(stream))
        elif kind == "bool":
            values.append(S.read_bool(stream))
        elif kind == "frame":
            # FramedSerializer._read_with_length, without the loads.
            n = S.read_int(stream)
            if n == S.SpecialLengths.NULL:
                values.append(None)
            elif n < 0:
                values.append({"special": n})
            else:
                values.append(stream.read(n).hex())
        else:
            raise ValueError("unknown field kind %r" % kind)
    return {"values": values, "rest": stream.read().hex()}


def op_utf8_load(req):
    """UTF8Deserializer().load_stream over the bytes, keeping what it yielded before
    any exception."""
    items = []
    error = None
    try:
        for item in S.UTF8Deserializer().load_stream(io.BytesIO(unhex(req["hex"]))):
            items.append(item)
    except Exception as e:  # UnicodeDecodeError, as PySpark would raise it
        error = type(e).__name__
    return {"items": items, "error": error}


def op_chunked(req):
    out = KeepOpen()
    stream = S.ChunkedStream(out, req["buffer_size"])
    for w in req["writes"]:
        stream.write(unhex(w))
    stream.close()
    return out.getvalue().hex()


def op_auth_client(req):
    """local_connect_and_auth(port, secret) as PySpark's workers and driver call it,
    then sends `after` through the authenticated socket."""
    try:
        sockfile, sock = local_connect_and_auth(req["port"], req["secret"])
    except Exception as e:
        return {"authenticated": False, "error": type(e).__name__}
    try:
        sockfile.write(unhex(req.get("after", "")))
        sockfile.flush()
    finally:
        sockfile.close()
        sock.close()
    return {"authenticated": True, "error": None}


_servers = {}


def op_auth_server_start(req):
    """Listens on 127.0.0.1 and authenticates one client exactly as pyspark.daemon's
    forked worker does (UTF8Deserializer().loads, ==, write_with_length ok/err)."""
    secret = req["secret"]
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(10)
    port = listener.getsockname()[1]
    result = {}

    def serve():
        try:
            conn, _ = listener.accept()
            conn.settimeout(10)
            infile = conn.makefile("rb")
            outfile = conn.makefile("wb")
            received = S.UTF8Deserializer().loads(infile)
            if received == secret:
                S.write_with_length("ok".encode("utf-8"), outfile)
                result["accepted"] = True
            else:
                S.write_with_length("err".encode("utf-8"), outfile)
                result["accepted"] = False
            outfile.flush()
            if result["accepted"]:
                result["after"] = infile.read().hex()
            conn.close()
        except Exception as e:
            result["error"] = "%s: %s" % (type(e).__name__, e)
        finally:
            listener.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    _servers[port] = (thread, result)
    return {"port": port}


def op_auth_server_result(req):
    thread, result = _servers.pop(req["port"])
    thread.join(15)
    if thread.is_alive():
        return {"error": "server thread still running"}
    return result


# ---------------------------------------------------------------------------
# pickle (issue 3): CPython's own pickle and pickletools.

import pickle as _pickle  # noqa: E402
import pickletools as _pickletools  # noqa: E402
import struct as _struct  # noqa: E402
import importlib as _importlib  # noqa: E402


# The globals a description may name: classes and functions whose construction
# from pickled arguments is what pickle.loads would do anyway. Nothing else is
# imported, so a description cannot make the oracle run arbitrary code.
_SAFE_GLOBALS = {
    "builtins": {"set", "frozenset", "bytes", "bytearray", "complex", "list", "tuple", "dict",
                 "int", "float", "str", "object", "range", "slice"},
    "copyreg": {"_reconstructor", "__newobj__"},
    "_codecs": {"encode"},
    "datetime": {"datetime", "date", "time", "timedelta", "timezone"},
    "decimal": {"Decimal"},
    "fractions": {"Fraction"},
    "uuid": {"UUID"},
    "collections": {"OrderedDict", "defaultdict", "deque", "Counter"},
    "pyspark.sql.types": {"_create_row", "Row"},
    "oracle_objects": None,  # our own helper module (testkit/python/oracle_objects.py)
}


def _safe_global(module, name):
    allowed = _SAFE_GLOBALS.get(module, set())
    ok = (name in allowed) if allowed is not None else not any(
        part.startswith("__") for part in name.split("."))
    if not ok:
        raise ValueError("global %s.%s is not on the oracle's allowlist" % (module, name))
    obj = _importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def _apply_state(obj, state):
    """BUILD as pickle.loads applies it: __setstate__ if the object has one,
    else a dict state (optionally paired with a dict of slot values) set as
    attributes."""
    setstate = getattr(obj, "__setstate__", None)
    if setstate is not None:
        setstate(state)
        return
    slots = None
    if isinstance(state, tuple) and len(state) == 2:
        state, slots = state
    if state:
        obj.__dict__.update(state)
    if slots:
        for k, v in slots.items():
            setattr(obj, k, v)


def _fill_object(obj, extras, objs):
    """A reducer's listitems, dictitems and states, in pickle's order."""
    items = [objs[j] for j in extras.get("items", [])]
    if items:
        extend = getattr(obj, "extend", None)
        if extend is not None:
            extend(items)
        else:
            for x in items:
                obj.append(x)
    for k, v in extras.get("pairs", []):
        obj[objs[k]] = objs[v]
    for st in extras.get("states", []):
        if st[0] == "build":
            _apply_state(obj, objs[st[1]])
        elif st[0] == "setter":
            objs[st[1]](obj, objs[st[2]])
        else:
            raise ValueError("unknown state kind %r" % st[0])


def build_graph(desc):
    """Builds the Python object graph a testkit description stands for.

    Every node is a distinct object (strings and bytes are created at run time,
    so they are not interned, except "istr" ones), the same index twice is the
    same object. Lists,
    dicts and objects' items and states are filled as soon as what they refer
    to is complete, or after every node exists when they are part of a cycle.
    Objects (REDUCE, NEWOBJ, NEWOBJ_EX) are made as pickle.loads makes them,
    from the allowlisted globals above only.
    """
    nodes = desc["nodes"]
    objs = [None] * len(nodes)
    pending = set()
    fill = []

    # Whether a tuple holds no pending node, however deep: final once the tuple
    # exists (its items come before it), so cached (shared tuples would
    # otherwise make this exponential).
    complete = {}

    def ready(j, i):
        if j >= i or j in pending:
            return False
        if nodes[j][0] != "tuple":
            return True
        if j not in complete:
            complete[j] = all(ready(k, i) for k in nodes[j][1])
        return complete[j]

    def refs(n):
        t = n[0]
        if t == "list":
            return n[1]
        if t == "dict":
            return [x for kv in n[1] for x in kv]
        extras = n[-1] if isinstance(n[-1], dict) else {}
        out = list(extras.get("items", []))
        out += [x for kv in extras.get("pairs", []) for x in kv]
        out += [x for st in extras.get("states", []) for x in st[1:]]
        return out

    for i, n in enumerate(nodes):
        t = n[0]
        extras = None
        if t == "none":
            o = None
        elif t == "bool":
            o = n[1]
        elif t == "int":
            o = int(n[1])
        elif t == "float":
            o = _struct.unpack(">d", bytes.fromhex(n[1]))[0]
        elif t == "str":
            o = bytes.fromhex(n[1]).decode("utf-8", "surrogatepass")
        elif t == "istr":
            o = sys.intern(bytes.fromhex(n[1]).decode("utf-8", "surrogatepass"))
        elif t == "bytes":
            o = bytes.fromhex(n[1])
        elif t == "bytearray":
            o = bytearray.fromhex(n[1])
        elif t == "list":
            o = []
        elif t == "dict":
            o = {}
        elif t == "tuple":
            o = tuple([objs[j] for j in n[1]])
        elif t == "set":
            o = set(objs[j] for j in n[1])
        elif t == "frozenset":
            o = frozenset(objs[j] for j in n[1])
        elif t == "global":
            o = _safe_global(objs[n[1]], objs[n[2]])
        elif t == "reduce":
            o = objs[n[1]](*objs[n[2]])
        elif t == "newobj":
            o = objs[n[1]].__new__(objs[n[1]], *objs[n[2]])
        elif t == "newobj_ex":
            o = objs[n[1]].__new__(objs[n[1]], *objs[n[2]], **objs[n[3]])
        else:
            raise ValueError("unknown node type %r" % t)
        objs[i] = o
        if t in ("list", "dict") or t in ("reduce", "newobj", "newobj_ex") and isinstance(n[-1], dict):
            if all(ready(j, i) for j in refs(n)):
                _fill(objs, i, n)
            else:
                pending.add(i)
                fill.append((i, n))
    for i, n in fill:
        _fill(objs, i, n)
    return objs, objs[desc["root"]]


def _fill(objs, i, n):
    o = objs[i]
    if n[0] == "list":
        o.extend(objs[j] for j in n[1])
    elif n[0] == "dict":
        for k, v in n[1]:
            o[objs[k]] = objs[v]
    else:
        _fill_object(o, n[-1], objs)


def set_orders(desc, objs):
    """The order Python iterates each described set in, as positions in its
    description (the helper's locals die with it, so no reference lingers)."""
    orders = {}
    for i, n in enumerate(desc["nodes"]):
        if n[0] in ("set", "frozenset"):
            pos = {objs[j]: k for k, j in enumerate(n[1])}
            orders[str(i)] = [pos[x] for x in objs[i]]
    return orders


def op_pickle_dumps(req):
    """pickle.dumps of a described graph in each requested protocol, the
    iteration order of every set (by position in the description) and repr."""
    objs, obj = build_graph(req["graph"])
    out = {"pickles": {}, "set_orders": set_orders(req["graph"], objs)}
    for p in req["protocols"]:
        out["pickles"][str(p)] = _pickle.dumps(obj, p).hex()
    if req.get("repr", True):
        out["repr"] = repr(obj)
    return out


def op_pickle_loads(req):
    """repr(pickle.loads(data)), or the exception."""
    try:
        obj = _pickle.loads(unhex(req["data"]))
    except Exception as e:
        return {"error": "%s: %s" % (type(e).__name__, e)}
    try:
        return {"repr": repr(obj)}
    except Exception as e:
        return {"error": "repr: %s: %s" % (type(e).__name__, e)}


def op_pickletools(req):
    """What pickletools.dis prints for data, and the error it raises, if any."""
    buf = io.StringIO()
    err = None
    try:
        _pickletools.dis(io.BytesIO(unhex(req["data"])), buf)
    except Exception as e:
        err = "%s: %s" % (type(e).__name__, e)
    return {"out": buf.getvalue(), "error": err}


def op_literal_dumps(req):
    """pickle.dumps(ast.literal_eval(literal), protocol), or why literal_eval refused."""
    import ast
    try:
        obj = ast.literal_eval(req["literal"])
    except Exception as e:
        return {"error": "%s: %s" % (type(e).__name__, e)}
    return {"pickle": _pickle.dumps(obj, req["protocol"]).hex()}


def op_pyspark_pickles(req):
    """Real pickles PySpark produces: cloudpickled lambdas, closures, classes and
    the (func, profiler, deserializer, serializer) command tuple PythonRDD ships;
    Rows from a schema; datetime, date, time, timedelta and Decimal values.
    Returns {name: {"data": hex, "repr": repr of the loaded value or None}}."""
    import datetime as dt
    import decimal
    from pyspark import cloudpickle
    from pyspark.serializers import AutoBatchedSerializer, BatchedSerializer, CloudPickleSerializer
    from pyspark.sql import Row
    from pyspark.sql.types import IntegerType, StringType, StructField, StructType

    ser = CloudPickleSerializer()
    offset = 10

    def closure(x):
        return x + offset

    def recursive(n):
        return 1 if n <= 1 else n * recursive(n - 1)

    class Point:
        def __init__(self, x, y):
            self.x, self.y = x, y

        def norm(self):
            return (self.x ** 2 + self.y ** 2) ** 0.5

    schema = StructType([StructField("id", IntegerType()), StructField("name", StringType())])
    rows = [schema.fromInternal((i, "n%d" % i)) for i in range(5)]
    funcs = {
        "lambda": lambda x: x * 2,
        "closure": closure,
        "recursive": recursive,
        "class": Point,
        "instance": Point(1, 2),
        "generator_func": lambda it: (x + 1 for x in it),
        "command": (lambda split, it: map(closure, it), None,
                    BatchedSerializer(ser, 100), AutoBatchedSerializer(ser)),
    }
    out = {}
    for name, f in funcs.items():
        out["cloudpickle_" + name] = {"data": ser.dumps(f).hex(), "repr": None}
    values = {
        "rows_from_schema": rows,
        "rows_kwargs": [Row(a=1, b="x"), Row(a=2, b="y")],
        "row_class": [Row("a", "b")(1, 2)],
        "datetimes": [dt.datetime(2020, 1, 2, 3, 4, 5, 6), dt.datetime(1999, 12, 31, 23, 59),
                      dt.date(2020, 1, 2), dt.time(1, 2, 3), dt.time(0, 0, 0, 5),
                      dt.timedelta(1, 2, 3), dt.timedelta(0), dt.timedelta(-1)],
        "tz_datetime": [dt.datetime(2020, 1, 2, tzinfo=dt.timezone.utc)],
        "decimals": [decimal.Decimal("1.50"), decimal.Decimal("-0"), decimal.Decimal("1E+3")],
        "batch_of_tuples": [(i, "s%d" % i, i / 3, None, i % 2 == 0) for i in range(200)],
    }
    for name, v in values.items():
        data = ser.dumps(v)
        r = repr(_pickle.loads(data))
        out[name] = {"data": data.hex(), "repr": r}
    return out


def _object_cases():
    """The real objects op_object_pickles pickles: (name, object, kind), kind
    "data" (pickle.dumps can pickle it) or "code" (only cloudpickle can)."""
    import collections
    import datetime as dt
    import decimal
    import fractions
    import functools
    import math
    import operator
    import uuid
    import zoneinfo

    import oracle_objects as O
    from pyspark.serializers import AutoBatchedSerializer, BatchedSerializer, CloudPickleSerializer
    from pyspark.sql import Row
    from pyspark.sql.types import (ArrayType, IntegerType, MapType, StringType, StructField,
                                   StructType)

    D = decimal.Decimal
    utc = dt.timezone.utc
    ist = dt.timezone(dt.timedelta(hours=5, minutes=30), "IST")
    pst = dt.timezone(dt.timedelta(hours=-8))
    paris = zoneinfo.ZoneInfo("Europe/Paris")

    schema = StructType([StructField("id", IntegerType()), StructField("name", StringType())])
    nested = StructType([
        StructField("k", StringType()),
        StructField("inner", schema),
        StructField("xs", ArrayType(IntegerType())),
        StructField("m", MapType(StringType(), IntegerType())),
    ])
    RowAB = Row("a", "b")

    def ordered(n):
        return collections.OrderedDict(("k%d" % i, i) for i in range(n))

    od_self = collections.OrderedDict(a=1)
    od_self["self"] = od_self
    plain_a, plain_b = O.Plain(name="a"), O.Plain(name="b")
    plain_a.other, plain_b.other = plain_b, plain_a
    plain_self = O.Plain(n=1)
    plain_self.me = plain_self
    shared_dt = dt.datetime(2020, 1, 2, 3, 4, 5, 6)
    self_list = [1]
    self_list.append(self_list)
    # A tuple reached again through the state of an object inside it.
    back = O.Plain(kind="back")
    loop_tuple = (back, 1, 2, 3)
    back.up = loop_tuple
    listish = O.Listish([1, "two", 3.0])
    listish.attr = "x"
    partly = O.SlottedPartly(1, extra=[1, 2])
    stateful = O.Stateful(1, [2, 3])
    point = O.Point(1, 2)
    recursive_row = Row(a=[], b=1)
    recursive_row.a.append(recursive_row)

    data = {
        # pyspark.sql.Row in each form.
        "row_kwargs": Row(a=1, b="x"),
        "rows_kwargs": [Row(a=1, b="x"), Row(a=2, b="y"), Row(name="n", value=None)],
        "row_nested": Row(outer=Row(x=1, y=[Row(z=2)]), when=dt.date(2020, 1, 2)),
        "rows_from_schema": [schema.fromInternal((i, "n%d" % i)) for i in range(5)],
        "rows_nested_schema": [nested.fromInternal(("k%d" % i, (i, "n"), [i, i + 1], {"a": i}))
                               for i in range(3)],
        "row_class": RowAB(1, 2),
        "rows_of_one_class": [RowAB(1, 2), RowAB(3, "x")],
        "row_fields": RowAB,
        "row_empty": Row(),
        # datetime, naive, aware and with fold.
        "datetimes": [dt.datetime(2020, 1, 2, 3, 4, 5, 6), dt.datetime(1999, 12, 31, 23, 59),
                      dt.datetime(2020, 1, 2, 0, 0, 0, 999999), dt.datetime.min, dt.datetime.max],
        "dates": [dt.date(2020, 1, 2), dt.date.min, dt.date.max],
        "times": [dt.time(1, 2, 3), dt.time(0, 0, 0, 5), dt.time(23, 59, 59, 999999), dt.time()],
        "timedeltas": [dt.timedelta(1, 2, 3), dt.timedelta(0), dt.timedelta(-1),
                       dt.timedelta(microseconds=-1), dt.timedelta.max, dt.timedelta.min,
                       dt.timedelta(days=999999999, seconds=86399)],
        "datetime_utc": dt.datetime(2020, 1, 2, tzinfo=utc),
        "datetime_offsets": [dt.datetime(2020, 1, 2, 3, 4, 5, 6, tzinfo=ist),
                             dt.datetime(2020, 6, 1, tzinfo=pst), dt.time(12, 30, tzinfo=ist)],
        "datetime_zoneinfo": [dt.datetime(2021, 3, 28, 3, tzinfo=paris),
                              dt.datetime(2021, 10, 31, 2, 30, fold=1, tzinfo=paris)],
        "datetime_fold": [dt.datetime(2021, 11, 7, 1, 30, fold=1), dt.time(1, 30, fold=1)],
        "timezones": [utc, ist, pst, dt.timezone(dt.timedelta(0), "Z")],
        "shared_datetime": [shared_dt, shared_dt, {"at": shared_dt}],
        # decimal.Decimal: exponents, signs, specials, one-character strings.
        "decimals": [D("1.50"), D("-0"), D("1E+3"), D("0E-7"), D("-1.2345678901234567890123456789E-40"),
                     D("12345678901234567890"), D("0.000001")],
        "decimal_specials": [D("NaN"), D("-NaN"), D("sNaN"), D("-sNaN123"), D("Infinity"), D("-Infinity")],
        "decimal_one_char": [D("1"), D("1"), "1", D("7")],
        # collections.
        "namedtuples": [point, O.Record("r", ["a"], point), point],
        "namedtuple_default": O.Record("leaf", ()),
        "ordered_dict_empty": collections.OrderedDict(),
        "ordered_dict_1": ordered(1),
        "ordered_dict_3": ordered(3),
        "ordered_dict_1000": ordered(1000),
        "ordered_dict_1001": ordered(1001),
        "ordered_dict_2001": ordered(2001),
        "ordered_dict_self": od_self,
        "defaultdicts": [collections.defaultdict(list, {"a": [1], "b": []}),
                         collections.defaultdict(int), collections.defaultdict(None, {1: 2})],
        "deques": [collections.deque([1, 2, 3]), collections.deque(maxlen=2), collections.deque(["x"], 5)],
        "deque_1001": collections.deque(range(1001)),
        "counter": collections.Counter("abracadabra"),
        # numbers, uuid, enum.
        "fractions": [fractions.Fraction(3, 4), fractions.Fraction(-1, 3), fractions.Fraction(0),
                      fractions.Fraction(10**30, 7)],
        "uuids": [uuid.UUID("12345678-1234-5678-1234-567812345678"),
                  uuid.UUID(int=0, is_safe=uuid.SafeUUID.safe)],
        "enums": [uuid.SafeUUID.safe, uuid.SafeUUID.unknown, uuid.SafeUUID.unsafe],
        "complex": [complex(1, -2.5), complex(0, 0), 1j, complex(float("inf"), -0.0)],
        "complex_shared": [1j, 1j],
        # builtins with reduce spellings in older protocols.
        "bytearrays": [bytearray(), bytearray(b"x"), bytearray(b"\x00\xff\x80'"), bytearray(b"abc" * 100)],
        "bytes_values": [b"", b"x", b"x", b"\xff\x00\x80", b"abc" * 100],
        "sets_mixed": [{1, "a", b"b", (1, 2), None, 2.5, frozenset({3})}, set(),
                       frozenset({"x", point, 7}), frozenset()],
        "set_1001": set(range(1001)),
        "range_slice": [range(1, 10, 2), range(0), slice(1, 2, 3), slice(None)],
        "singletons": [Ellipsis, NotImplemented, type(None), type(Ellipsis), int, type],
        "functions": [len, math.sqrt, operator.add, O._set_note, O.Plain, collections.OrderedDict],
        "partial": functools.partial(max, 1, key=abs),
        "itemgetter": [operator.itemgetter(1), operator.attrgetter("a.b"),
                       operator.methodcaller("split", ",")],
        "bound_method": O.WEIRD_SINGLETON.__repr__,
        # module-level classes with each reduce mechanism.
        "reduce": O.Reduced(1, "x"),
        "reduce_ex_full": O.ReducedFull("t", items=[1, "a"], pairs=[("k", 1), ("j", [2])], note="n"),
        "reduce_ex_one_each": O.ReducedFull("t", items=[1], pairs=[("k", 1)]),
        "reduce_ex_1000": O.ReducedFull("t", items=range(1000), pairs=[(i, i) for i in range(1000)]),
        "reduce_ex_1001": O.ReducedFull("t", items=range(1001), pairs=[(i, i) for i in range(1001)]),
        "reduce_ex_2001": O.ReducedFull("t", items=range(2001), pairs=[(i, i) for i in range(2001)]),
        "state_setter": O.WithSetter("t", "n"),
        "getstate_setstate": stateful,
        "plain_dict_state": O.Plain(a=1, b="two", c=[3]),
        "slots": O.Slotted(1, "b"),
        "slots_and_dict": partly,
        "getnewargs": O.NewArgs(5, "five"),
        "getnewargs_ex": O.NewArgsEx(1, 2, k=3),
        "getnewargs_ex_no_kwargs": O.NewArgsExNoKw(1, "a"),
        "list_subclass": listish,
        "dict_subclass": O.Dictish(a=1, b=[2]),
        "reduce_to_global_name": O.WEIRD_SINGLETON,
        "enum_helper": [O.Color.RED, O.Color.GREEN, O.Color.RED],
        # shared references and cycles among them.
        "shared_objects": [stateful, stateful, (stateful, point), {"p": point}],
        "mutual_cycle": [plain_a, plain_b],
        "self_cycle": plain_self,
        "list_cycle_with_objects": [self_list, O.Reduced(self_list), self_list],
        "tuple_through_state": [loop_tuple, back],
        "recursive_reduce": O.Recursive(),
        "recursive_row": recursive_row,
        "everything": {"row": Row(a=1, b="x"), "dt": shared_dt, "dec": D("1.5"), "od": ordered(2),
                       "nt": point, "uuid": uuid.UUID(int=1), "again": [shared_dt, point]},
    }

    offset = 10

    def closure(x):
        return x + offset

    def recursive(n):
        return 1 if n <= 1 else n * recursive(n - 1)

    def with_defaults(a, b=2, *args, c=3, **kw) -> int:
        "A docstring."
        return a + b + c + len(args) + len(kw) + int(math.floor(offset))

    def outer():
        y = [1, 2]

        def inner(z):
            return y + [z]
        return inner

    class Point2:
        dims = 2

        def __init__(self, x, y):
            self.x, self.y = x, y

        def norm(self):
            return (self.x ** 2 + self.y ** 2) ** 0.5

        @classmethod
        def origin(cls):
            return cls(0, 0)

        @staticmethod
        def unit():
            return 1

        @property
        def first(self):
            return self.x

    class SlottedLocal:
        __slots__ = ("v",)

        def __init__(self, v):
            self.v = v

    import enum

    class Mood(enum.Enum):
        HAPPY = 1
        SAD = 2

    LocalTuple = collections.namedtuple("LocalTuple", "a b")
    ser = CloudPickleSerializer()
    code = {
        "lambda": lambda x: x * 2,
        "closure": closure,
        "recursive": recursive,
        "defaults_annotations_doc": with_defaults,
        "nested_closure": outer(),
        "generator_func": lambda it: (x + 1 for x in it),
        "class": Point2,
        "instance": Point2(1, 2),
        "slotted_class_instance": SlottedLocal(3),
        "enum_class": [Mood, Mood.SAD],
        "local_namedtuple": LocalTuple(1, "b"),
        "lambda_with_row": lambda: Row(a=1),
        "partial_of_closure": functools.partial(closure, 1),
        "command": (lambda split, it: map(closure, it), None,
                    BatchedSerializer(ser, 100), AutoBatchedSerializer(ser)),
        "functions_and_data": [closure, closure, shared_dt, Row(a=1, b="x")],
    }
    cases = [(n, v, "data") for n, v in data.items()]
    cases += [("cloudpickle_" + n, v, "code") for n, v in code.items()]
    return cases


def op_stack_after_names(req):
    """Each opcode's name and the names of the stack objects pickletools
    pushes for it (what its messages print)."""
    return [[o.name, [s.name for s in o.stack_after]] for o in _pickletools.opcodes]


def op_object_pickles_0_1(req):
    """The data objects of _object_cases pickled by pickle.dumps in protocols 0
    and 1 (what Python 2-era code and `protocol=0` callers write). Objects
    CPython cannot pickle below protocol 2 are left out, with the reason.
    Returns {"cases": [{"name", "protocol", "data": hex}], "refused": [[name, protocol, why]]}."""
    cases, refused = [], []
    for name, obj, kind in _object_cases():
        if kind != "data":
            continue
        for p in (0, 1):
            try:
                data = _pickle.dumps(obj, p)
            except Exception as e:
                refused.append([name, p, "%s: %s" % (type(e).__name__, e)])
                continue
            cases.append({"name": name, "protocol": p, "data": data.hex()})
    return {"cases": cases, "refused": refused}


def op_object_pickles(req):
    """Real objects pickled by CPython and by PySpark's serializers (see
    _object_cases): for data, pickle.dumps in protocols 2-5 and
    PickleSerializer().dumps and CloudPickleSerializer().dumps (and
    CPickleSerializer's, when it is a class of its own); for functions and
    classes, cloudpickle.dumps in protocols 2-5 and CloudPickleSerializer().dumps;
    also the module-level helper classes pickled by value (register_pickle_by_value).
    Returns [{"name", "via", "protocol", "data": hex, "repr": repr(pickle.loads(data))}]."""
    from pyspark import cloudpickle

    import oracle_objects

    serializers = [("PickleSerializer", S.PickleSerializer()),
                   ("CloudPickleSerializer", S.CloudPickleSerializer())]
    if S.CPickleSerializer not in (S.PickleSerializer, S.CloudPickleSerializer):
        serializers.append(("CPickleSerializer", S.CPickleSerializer()))
    proto = S.pickle_protocol
    out = []

    def add(name, via, protocol, data):
        out.append({"name": name, "via": via, "protocol": protocol, "data": data.hex(),
                    "repr": repr(_pickle.loads(data))})

    for name, obj, kind in _object_cases():
        for p in range(2, 6):
            if kind == "data":
                add(name, "pickle.dumps", p, _pickle.dumps(obj, p))
            else:
                add(name, "cloudpickle.dumps", p, cloudpickle.dumps(obj, protocol=p))
        for via, ser in serializers:
            if kind == "data" or via == "CloudPickleSerializer":
                add(name, via, proto, ser.dumps(obj))
    by_value = [oracle_objects.Plain(a=1), oracle_objects.Stateful(1, 2), oracle_objects._set_note]
    cloudpickle.register_pickle_by_value(oracle_objects)
    try:
        for p in range(2, 6):
            data = cloudpickle.dumps(by_value, protocol=p)
            # Not loaded here: cloudpickle would find the original classes by their
            # tracker ids and set the loaded state on them (a new __module__ string
            # object, for one), changing how later requests pickle them.
            out.append({"name": "cloudpickle_helpers_by_value", "via": "cloudpickle.dumps",
                        "protocol": p, "data": data.hex(), "repr": None})
    finally:
        cloudpickle.unregister_pickle_by_value(oracle_objects)
    return out


def op_float_reprs(req):
    """repr() of each float given by its 64 bits (hex)."""
    return [repr(_struct.unpack(">d", bytes.fromhex(h))[0]) for h in req["bits"]]


def op_opcodes(req):
    return [
        [ord(o.code), o.name, o.proto, o.arg.name if o.arg else None,
         ["mark" if s is _pickletools.markobject else ("slice" if s is _pickletools.stackslice else "any")
          for s in o.stack_before],
         ["mark" if s is _pickletools.markobject else "any" for s in o.stack_after]]
        for o in _pickletools.opcodes
    ]


def make_serializer(spec):
    """The pyspark.serializers object a JSON tree names, e.g. ["batched", ["cpickle"], 2]."""
    kind, args = spec[0], spec[1:]
    sub = [make_serializer(a) if isinstance(a, list) else a for a in args]
    table = {
        "cpickle": S.CPickleSerializer,
        "cloudpickle": S.CloudPickleSerializer,
        "pickle": S.PickleSerializer,
        "marshal": S.MarshalSerializer,
        "noop": S.NoOpSerializer,
        "utf8": S.UTF8Deserializer,
        "auto": S.AutoSerializer,
        "compressed": S.CompressedSerializer,
        "batched": S.BatchedSerializer,
        "autobatched": S.AutoBatchedSerializer,
        "flattened": S.FlattenedValuesSerializer,
        "pair": S.PairDeserializer,
        "cartesian": S.CartesianDeserializer,
    }
    return table[kind](*sub)


def op_ser_dump(req):
    """ser.dump_stream(values) for the elements of a described list, fed from a
    generator that hands each element over (so, as in a worker, the batch list is
    the only holder of its elements: this matters to marshal's reference flags).
    Also returns the iteration order of every set, as op_pickle_dumps does."""
    objs, root = build_graph(req["graph"])
    orders = set_orders(req["graph"], objs)
    del objs
    ser = make_serializer(req["serializer"])
    items = list(reversed(root))
    del root
    # Unreferenced cycles of the description would otherwise still hold elements.
    _gc.collect()

    def feed():
        while items:
            yield items.pop()

    buf = io.BytesIO()
    try:
        ser.dump_stream(feed(), buf)
    except Exception as e:
        return {"error": "%s: %s" % (type(e).__name__, e), "set_orders": orders}
    return {"data": buf.getvalue().hex(), "set_orders": orders}


def op_ser_load(req):
    """[repr(x) for x in ser.load_stream(data)], or the exception."""
    ser = make_serializer(req["serializer"])
    out = []
    try:
        for x in ser.load_stream(io.BytesIO(unhex(req["data"]))):
            out.append(repr(x))
    except Exception as e:
        return {"error": "%s: %s" % (type(e).__name__, e), "items": out}
    return {"items": out}


def op_command_pickle(req):
    """A NON_UDF command as PySpark's RDD code pickles it:
    CloudPickleSerializer().dumps((func, None, deserializer, serializer)), where
    func is defined by compiling req["source"] under req["filename"] and is
    named req["name"]. Returns the pickle and what the code object says."""
    ns = {}
    if "broadcast_id" in req:
        # A reference to broadcast `id`, pickled as PySpark's Broadcast pickles
        # itself (_from_id(id)); the worker resolves it through the header.
        try:
            from pyspark.core.broadcast import _from_id
        except ImportError:
            from pyspark.broadcast import _from_id

        class BroadcastRef:
            def __reduce__(self):
                return (_from_id, (req["broadcast_id"],))

        ns["bc"] = BroadcastRef()
    if "accumulator_id" in req:
        from pyspark.accumulators import Accumulator, AddingAccumulatorParam

        ns["acc"] = Accumulator(req["accumulator_id"], 0, AddingAccumulatorParam(0))
    exec(compile(req["source"], req["filename"], "exec"), ns)
    func = ns[req["name"]]
    cmd = (func, None, make_serializer(req["deserializer"]), make_serializer(req["serializer"]))
    data = S.CloudPickleSerializer().dumps(cmd)
    code = func.__code__
    return {
        "data": data.hex(),
        "name": code.co_name,
        "filename": code.co_filename,
        "first_line": code.co_firstlineno,
        "names": list(code.co_names),
    }


def op_shuffle_blocks(req):
    """The map side of rdd.partitionBy: runs PySpark's own add_shuffle_key (the
    closure partitionBy defines) over described (k, v) pairs and frames its
    output as the worker writes it (NoOpSerializer: i32 length + bytes)."""
    from pyspark.rdd import RDD

    class Captured(Exception):
        pass

    class Ctx:
        _unbatched_serializer = S.CPickleSerializer()

    class Fake:
        partitioner = None
        ctx = Ctx()

        def _memory_limit(self):
            return 1 << 40

        def mapPartitionsWithIndex(self, f, preservesPartitioning=False):
            raise Captured(f)

    try:
        RDD.partitionBy(Fake(), req["partitions"])
    except Captured as c:
        add_shuffle_key = c.args[0]
    objs, root = build_graph(req["graph"])
    buf = io.BytesIO()
    for chunk in add_shuffle_key(0, iter(root)):
        S.write_with_length(chunk, buf)
    return {"data": buf.getvalue().hex()}


def op_arrow_streams(req):
    """Arrow IPC streams as PySpark's Arrow serializers write them, from random
    columns: req["batches"] lists of (ints, strings) rows per record batch. Returns
    the plain stream (ArrowStreamSerializer.dump_stream), the same in the legacy
    (pre-0.15) format, and the kinds of pyarrow's messages in order."""
    import pyarrow as pa

    try:
        from pyspark.sql.pandas.serializers import ArrowStreamSerializer
    except ImportError:  # pragma: no cover
        ArrowStreamSerializer = None
    schema = pa.schema([("i", pa.int64()), ("s", pa.string()), ("d", pa.dictionary(pa.int32(), pa.string()))])
    batches = []
    for rows in req["batches"]:
        ints = [r[0] for r in rows]
        strs = [r[1] for r in rows]
        batches.append(pa.record_batch([pa.array(ints, pa.int64()), pa.array(strs, pa.string()),
                                        pa.array(strs, pa.string()).dictionary_encode()], schema=schema))
    buf = io.BytesIO()
    ArrowStreamSerializer().dump_stream(iter(batches), buf)
    plain = buf.getvalue()
    legacy = io.BytesIO()
    w = pa.ipc.new_stream(legacy, schema, options=pa.ipc.IpcWriteOptions(use_legacy_format=True))
    for b in batches:
        w.write_batch(b)
    w.close()
    kinds = []
    reader = pa.ipc.MessageReader.open_stream(pa.BufferReader(plain))
    while True:
        try:
            m = reader.read_next_message()
        except StopIteration:
            break
        if m is None:
            break
        kinds.append(m.type)
    return {"plain": plain.hex(), "legacy": legacy.getvalue().hex(), "kinds": kinds}


def op_arrow_rows(req):
    """An Arrow IPC stream of random columns of every type sparkwire's
    arrow_rows reads (nulls included), written by pyarrow from req["seed"], and
    what pyarrow's to_pylist() holds: each row as the repr of a tuple, struct
    values as tuples of their fields."""
    import random

    import pyarrow as pa

    rnd = random.Random(req["seed"])
    n = rnd.randrange(0, 40)

    def maybe(v):
        return None if rnd.random() < 0.2 else v

    def text():
        return "".join(rnd.choice(["a", "é", "\\", "'", '"', "\n", "\u2028", "\U0001f600", "z"]) for _ in range(rnd.randrange(0, 6)))

    floats = [0.0, -0.0, 0.1, 1e16, 1.5e-7, float("inf"), float("-inf"), 123456789.125, 2.0**70]
    cols = {
        "i8": (pa.int8(), lambda: rnd.randrange(-128, 128)),
        "u8": (pa.uint8(), lambda: rnd.randrange(0, 256)),
        "i16": (pa.int16(), lambda: rnd.randrange(-(2**15), 2**15)),
        "u32": (pa.uint32(), lambda: rnd.randrange(0, 2**32)),
        "i64": (pa.int64(), lambda: rnd.randrange(-(2**63), 2**63)),
        "u64": (pa.uint64(), lambda: rnd.randrange(0, 2**64)),
        "f32": (pa.float32(), lambda: rnd.choice(floats + [rnd.uniform(-1e6, 1e6)])),
        "f64": (pa.float64(), lambda: rnd.choice(floats + [rnd.uniform(-1e300, 1e300)])),
        "b": (pa.bool_(), lambda: rnd.random() < 0.5),
        "s": (pa.string(), text),
        "ls": (pa.large_string(), text),
        "bin": (pa.binary(), lambda: bytes(rnd.randrange(256) for _ in range(rnd.randrange(0, 5)))),
        "n": (pa.null(), lambda: None),
    }
    names = rnd.sample(sorted(cols), rnd.randrange(1, 6))
    arrays, fields = [], []
    for name in names:
        t, gen = cols[name]
        arrays.append(pa.array([maybe(gen()) for _ in range(n)], type=t))
        fields.append(pa.field(name, t))
    if rnd.random() < 0.5:
        # A struct column, as PySpark's grouped-map output wraps its rows.
        k = pa.array([rnd.randrange(-5, 5) for _ in range(n)], type=pa.int64())
        v = pa.array([maybe(text()) for _ in range(n)], type=pa.string())
        mask = pa.array([rnd.random() < 0.1 for _ in range(n)], type=pa.bool_())
        st = pa.StructArray.from_arrays([k, v], names=["k", "v"], mask=mask)
        arrays.append(st)
        fields.append(pa.field("_0", st.type))
    batch = pa.record_batch(arrays, schema=pa.schema(fields))
    buf = io.BytesIO()
    w = pa.ipc.new_stream(buf, batch.schema)
    w.write_batch(batch)
    w.close()

    def plain(v):
        return tuple(plain(x) for x in v.values()) if isinstance(v, dict) else v

    rows = [repr(tuple(plain(v) for v in row.values())) for row in batch.to_pylist()]
    return {"stream": buf.getvalue().hex(), "rows": rows}


def op_marshal_dumps(req):
    """marshal.dumps of a described value held only by its container chain."""
    import marshal

    objs, root = build_graph(req["graph"])
    del objs
    _gc.collect()
    try:
        return {"data": marshal.dumps(root).hex()}
    except Exception as e:
        return {"error": "%s: %s" % (type(e).__name__, e)}


def op_marshal_loads(req):
    """repr(marshal.loads(data)), or the exception."""
    import marshal

    try:
        return {"repr": repr(marshal.loads(unhex(req["data"])))}
    except Exception as e:
        return {"error": "%s: %s" % (type(e).__name__, e)}


# ---------------------------------------------------------------------------
# eval types (worker/tests/real_worker_eval_types.rs): the cases live in
# eval_cases.py, next to this file.


def op_eval_types(req):
    """{name: code} of every eval type the release's PythonEvalType defines."""
    import eval_cases

    return eval_cases.defined_eval_types()


def op_eval_case(req):
    """The payloads, data section and expected rows of one task of eval type
    req["name"] (and variant req["variant"]; None when there is no such case);
    bytes as hex."""
    import eval_cases

    return eval_cases.case(req["name"], req.get("variant"))


def op_eval_output(req):
    """The rows of a worker's reply data (req["kind"]: ["pickle", n] or ["arrow"]),
    the columns req["project"] only, rows of nulls left out if req["skip_null_rows"]."""
    import eval_cases

    return eval_cases.output_rows(
        req["kind"], unhex(req["data"]), req.get("project"), req.get("skip_null_rows", False)
    )


def op_eval_accumulators(req):
    """Each pickled accumulator update of req["updates"] (hex): [id, dict keys]."""
    import eval_cases

    return eval_cases.accumulator_updates([unhex(u) for u in req["updates"]])


def op_parse_init_message(req):
    """4.3: the init message body read by pyspark.worker_message.WorkerInitInfo."""
    import eval_cases

    return eval_cases.parse_init_message(unhex(req["data"]))



# --- py4j: the protocol functions of the py4j package this venv's PySpark uses.
# Values travel as {"t": kind, ...}: ints and decimals as text, floats as the
# hex of their IEEE bits (JSON has no NaN), bytes as hex.


class _Py4jRef(object):
    """Stands for a JavaObject when building a command part: only the id matters."""

    def __init__(self, target_id):
        self._target_id = target_id

    def _get_object_id(self):
        return self._target_id


class _Py4jProxyPool(object):
    def __init__(self):
        self.next_id = None

    def put(self, obj):
        return self.next_id


def _py4j_from_json(d, pool):
    import decimal
    import struct

    t = d["t"]
    if t == "none":
        return None
    if t == "bool":
        return bool(d["v"])
    if t == "int":
        return int(d["v"])
    if t == "float":
        return struct.unpack(">d", bytes.fromhex(d["bits"]))[0]
    if t == "decimal":
        return decimal.Decimal(d["v"])
    if t == "str":
        return d["v"]
    if t == "bytes":
        return bytes.fromhex(d["hex"])
    if t == "bytearray":
        return bytearray.fromhex(d["hex"])
    if t == "ref":
        return _Py4jRef(d["id"])
    if t == "proxy":
        class Proxy(object):
            class Java:
                implements = list(d["interfaces"])
        pool.next_id = d["id"]
        return Proxy()
    raise ValueError("unknown py4j value kind %r" % t)


def _py4j_to_json(v):
    import decimal
    import struct

    if v is None:
        return {"t": "none"}
    if isinstance(v, bool):
        return {"t": "bool", "v": v}
    if isinstance(v, int):
        return {"t": "int", "v": str(v)}
    if isinstance(v, float):
        return {"t": "float", "bits": struct.pack(">d", v).hex()}
    if isinstance(v, decimal.Decimal):
        return {"t": "decimal", "v": str(v)}
    if isinstance(v, str):
        return {"t": "str", "v": v}
    if isinstance(v, (bytes, bytearray)):
        return {"t": "bytes", "hex": bytes(v).hex()}
    if hasattr(v, "_target_id"):
        return {"t": "ref", "kind": type(v).__name__, "id": v._target_id}
    if hasattr(v, "_fqn"):
        return {"t": "class", "fqn": v._fqn}
    if isinstance(v, list):
        return {"t": "list", "items": [_py4j_to_json(x) for x in v]}
    return {"t": "other", "repr": repr(v)[:200]}


def op_py4j_command_parts(req):
    """py4j.protocol.get_command_part for each value: the exact argument line."""
    from py4j.protocol import get_command_part

    pool = _Py4jProxyPool()
    out = []
    for d in req["values"]:
        out.append(get_command_part(_py4j_from_json(d, pool), pool))
    return out


class _Py4jFakeClient(object):
    """Enough of a GatewayClient for get_return_value to build JavaObjects."""

    address = "127.0.0.1"
    port = 0
    converters = None

    def __init__(self):
        from py4j.java_gateway import GatewayProperty, PythonProxyPool

        self.gateway_property = GatewayProperty(False, PythonProxyPool(), False)


def op_py4j_return_values(req):
    """py4j.protocol.get_return_value on each answer (a reply line without its
    "!", as GatewayClient.send_command hands it over), described as JSON."""
    from py4j.protocol import Py4JError, Py4JJavaError, get_return_value

    client = _Py4jFakeClient()
    out = []
    for answer in req["answers"]:
        try:
            out.append({"ok": _py4j_to_json(get_return_value(answer, client, "o1", "m"))})
        except Py4JJavaError as e:
            out.append({"java_error": e.java_exception._target_id})
        except Py4JError as e:
            out.append({"py4j_error": e.args[0]})
        except Exception as e:
            out.append({"raised": type(e).__name__})
    return out


def op_py4j_escapes(req):
    """escape_new_line / unescape_new_line / encode_bytearray / decode_bytearray."""
    from py4j.protocol import decode_bytearray, encode_bytearray, escape_new_line, unescape_new_line

    return {
        "escaped": [escape_new_line(x) for x in req["strs"]],
        "unescaped": [unescape_new_line(x) for x in req["escaped"]],
        "b64": [encode_bytearray(bytes.fromhex(h)) for h in req["bytes"]],
        "unb64": [bytes(decode_bytearray(x)).hex() for x in req["b64"]],
    }


def op_py4j_client_session(req):
    """Drives py4j's own client (JavaGateway, or ClientServer as PySpark uses by
    default) against the JVM stand-in at req["port"], exercising every command
    form the Python client can send. Answers what each step returned."""
    import gc

    from py4j.java_gateway import (
        GatewayParameters, JavaGateway, get_field, java_import, set_field)

    mode = req["mode"]
    if mode == "clientserver":
        from py4j.clientserver import ClientServer, JavaParameters, PythonParameters

        gw = ClientServer(
            java_parameters=JavaParameters(
                port=req["port"], auth_token=req["token"], auto_convert=True),
            python_parameters=PythonParameters(port=0, eager_load=False))
    else:
        gw = JavaGateway(gateway_parameters=GatewayParameters(
            port=req["port"], auth_token=req["token"], auto_convert=True))
    pool = _Py4jProxyPool()
    out = []

    def rec(label, f):
        try:
            out.append([label, {"ok": _py4j_to_json(f())}])
        except Exception as e:
            out.append([label, {"raised": type(e).__name__, "msg": str(e)[:300]}])

    jvm = gw.jvm
    rec("import", lambda: java_import(jvm, "org.apache.spark.SparkConf"))
    rec("import star", lambda: java_import(jvm, "java.util.*"))
    conf = jvm.SparkConf(True)
    for i, d in enumerate(req["echo"]):
        rec("echo %d" % i, lambda d=d: conf.echo(_py4j_from_json(d, pool)))
    rec("static", lambda: jvm.java.lang.Math.echo(-5))
    rec("static field", lambda: jvm.java.lang.Integer.f_MAX)
    rec("auto list", lambda: conf.echo([1, "a", None]))
    rec("auto dict", lambda: conf.echo({"k": 1.5}))
    rec("auto set", lambda: conf.echo({7}))
    rec("field", lambda: get_field(conf, "f"))
    rec("field missing", lambda: get_field(conf, "missing"))
    rec("field set", lambda: set_field(conf, "f", "x\ny"))
    view = gw.new_jvm_view("myview")
    rec("view import", lambda: java_import(view, "a.b\\c.*"))
    arr = conf.getArray()
    rec("array len", lambda: len(arr))
    rec("array get", lambda: arr[1])
    rec("array set", lambda: arr.__setitem__(0, "x"))
    rec("array slice", lambda: arr[0:2])
    rec("new array", lambda: gw.new_array(jvm.java.lang.String, 2, 3))
    lst = conf.getList()
    lst2 = conf.getList()
    rec("list slice", lambda: lst[0:2])
    rec("list concat", lambda: lst + lst2)
    rec("list mult", lambda: lst * 3)
    rec("list count", lambda: lst.count("x"))
    rec("list sort", lambda: lst.sort())
    rec("list reverse", lambda: lst.reverse())

    def imult():
        global_lst = lst
        global_lst *= 2
        return None
    rec("list imult", imult)
    rec("help object", lambda: gw.help(conf, display=False))
    rec("help class", lambda: gw.help(jvm.java.lang.String, pattern="rep*", display=False))
    rec("dir object", lambda: sorted(dir(conf))[:3])
    rec("dir class", lambda: dir(jvm.java.lang.String))
    rec("dir view", lambda: dir(jvm))
    rec("class object", lambda: jvm.java.lang.String._java_lang_class)
    rec("typed returns", lambda: [conf.getDouble(), conf.getLong(), conf.getDecimal(),
                                  conf.getBytes(), conf.getString(), conf.getBool(),
                                  conf.getNull()])

    def java_error():
        try:
            conf.fail()
        except Exception as e:
            return [type(e).__name__, str(e)]
    rec("java error", java_error)
    rec("py4j error", lambda: conf.broken())
    rec("bare error", lambda: conf.bare())

    class Runner(object):
        calls = []

        def run(self, *args):
            Runner.calls.append(list(args))
            return len(args)

        class Java:
            implements = ["java.lang.Runnable"]
    runner = Runner()
    if mode == "clientserver":
        rec("callback", lambda: conf.callMeBack(runner))
        rec("callback calls", lambda: Runner.calls)
    else:
        rec("proxy arg", lambda: conf.takeProxy(runner))

        def stream():
            # A GatewayConnectionGuard: the raw bytes after the "!yv" reply.
            guard = conf.readStream.stream()
            data = guard.read()
            guard._connection.close()
            return data
        rec("stream", stream)
    del arr, lst, lst2, view
    gc.collect()
    if mode == "clientserver":
        def cancel():
            conn = gw._gateway_client._get_connection()
            conn.shutdown_socket(40000, 25333)
        rec("cancel", cancel)
    gc.collect()
    rec("shutdown", lambda: gw.shutdown())
    return out


OPS = {name[3:]: fn for name, fn in globals().items() if name.startswith("op_")}


def _count_file():
    """Where this process records how many requests it answered, so that the test
    command can say how many differential comparisons each oracle served
    ($SPARKWIRE_ORACLE_COUNTS/pyspark-<version>.<pid>); None when not asked."""
    d = os.environ.get("SPARKWIRE_ORACLE_COUNTS")
    if not d:
        return None
    os.makedirs(d, exist_ok=True)
    return os.path.join(d, "pyspark-%s.%d" % (pyspark.__version__, os.getpid()))


def main():
    count_file = _count_file()
    answered = 0
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            req = json.loads(line)
            resp = {"ok": OPS[req["op"]](req)}
        except Exception as e:
            traceback.print_exc(file=sys.stderr)
            resp = {"err": "%s: %s" % (type(e).__name__, e)}
        _out.write(json.dumps(resp) + "\n")
        _out.flush()
        if req.get("op") != "hello":
            answered += 1
            if count_file:
                # Rewritten after every answer: the process may be killed at any time.
                with open(count_file, "w") as f:
                    f.write("%d\n" % answered)


if __name__ == "__main__":
    main()
