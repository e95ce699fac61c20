"""Drives a py4j gateway with the real py4j client and prints what it saw.

Run by gateway/tests/server_vs_py4j.rs against sparkwire's server and against
a real py4j GatewayServer started from the jar in the same venv; the test
compares the two outputs key by key.

usage: py4j_client.py MODE PORT TOKEN [CALLBACK_PORT]
  MODE: gateway (JavaGateway client; callbacks through a callback server on an
          ephemeral port, announced with resetCallbackClient)
        gateway-port CALLBACK_PORT (the callback server on a port the JVM was
          started with, no reset: a real py4j JVM forgets the auth token when
          its callback client is reset, so the reference JVM is driven this way)
        clientserver (ClientServer client, callbacks on the pinned socket)
Prints one JSON object: {check name: result}. A result is a JSON value, or
{"raised": <exception class>, "text": <first line of the Java trace or message>}.
"""

import decimal
import gc
import json
import math
import re
import socket
import sys
import threading

from py4j.java_gateway import (
    CallbackServerParameters,
    GatewayParameters,
    JavaGateway,
    JavaMember,
    get_field,
    get_java_class,
    is_instance_of,
    java_import,
)
from py4j.clientserver import ClientServer, JavaParameters, PythonParameters
from py4j.protocol import Py4JError, Py4JJavaError

MODE, PORT, TOKEN = sys.argv[1], int(sys.argv[2]), sys.argv[3]


def connect():
    if MODE == "gateway-port":
        return JavaGateway(
            gateway_parameters=GatewayParameters(port=PORT, auth_token=TOKEN, auto_convert=True),
            callback_server_parameters=CallbackServerParameters(port=int(sys.argv[4]), auth_token=TOKEN),
        )
    if MODE == "gateway":
        gw = JavaGateway(
            gateway_parameters=GatewayParameters(port=PORT, auth_token=TOKEN, auto_convert=True),
            callback_server_parameters=CallbackServerParameters(port=0, auth_token=TOKEN),
        )
        # The callback server listens on an ephemeral port: tell the JVM.
        py_port = gw.get_callback_server().get_listening_port()
        server = gw.java_gateway_server
        server.resetCallbackClient(server.getCallbackClient().getAddress(), py_port)
        return gw
    return ClientServer(
        java_parameters=JavaParameters(port=PORT, auth_token=TOKEN, auto_convert=True),
        python_parameters=PythonParameters(port=0, auth_token=TOKEN),
    )


def first_line(text):
    for line in str(text).splitlines():
        if line.strip():
            return line.strip()
    return ""


results = {}


def check(name, fn):
    try:
        value = fn()
    except Py4JJavaError as e:
        # The thrown Java object: its class and message, and the first line of
        # the `p` trace (str(e) fetches it).
        je = e.java_exception
        trace = str(e).split("\n: ", 1)[-1]
        value = {
            "raised": "Py4JJavaError",
            "class": je.getClass().getName(),
            "message": je.getMessage(),
            "trace": first_line(trace),
            "call": first_line(e.errmsg),
        }
    except Py4JError as e:
        # py4j's own error: what the client says, and the first line of the
        # Java trace when there is one.
        text = str(e)
        trace = text.split("Trace:\n", 1)[1] if "Trace:\n" in text else ""
        value = {"raised": type(e).__name__, "head": first_line(text), "trace": first_line(trace)}
    except Exception as e:  # noqa: BLE001 - recorded, compared like any result
        value = {"raised": type(e).__name__, "text": first_line(e)}
    results[name] = normalise(value)


def normalise(value):
    """Object ids are per-connection counters: `o12` in a message becomes `o#`."""
    if isinstance(value, str):
        return re.sub(r"\bo[0-9]+\b", "o#", value)
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [normalise(v) for v in value]
    return value


def plain(v):
    """JSON-safe form of a returned value."""
    if isinstance(v, float):
        if math.isnan(v):
            return "float:nan"
        return "float:" + repr(v)
    if isinstance(v, (bytes, bytearray)):
        return "bytes:" + bytes(v).hex()
    if isinstance(v, decimal.Decimal):
        return "decimal:" + str(v)
    return v


gw = connect()
jvm = gw.jvm

# Values through a Java list and back: the server's decoding and its own
# encoding (Java spellings for booleans and doubles).
values = [None, True, False, 0, -1, 2**31 - 1, -(2**31), 2**31, -(2**63), 2**63 - 1,
          0.0, -0.0, 1.5, 0.1, 1e16, 1e-5, 1e7, 123456.789, 1e300, 5e-324, float("inf"),
          float("-inf"), float("nan"), "", "a", "line\nbreak", "cr\rx", "back\\slash",
          "tab\tq\"uote", "é ü 漢 😀", decimal.Decimal("1.50"), decimal.Decimal("-0.001"),
          decimal.Decimal("1E+5"), b"", b"\x00\xffbytes", bytearray(b"xy")]
jl = jvm.java.util.ArrayList()
for i, v in enumerate(values):
    check(f"value.add.{i}", lambda v=v: jl.add(v))
for i in range(len(values)):
    check(f"value.get.{i}", lambda i=i: plain(jl.get(i)))
check("value.size", lambda: jl.size())
check("value.toString.numbers", lambda: str(jvm.java.util.ArrayList([1, 2**40, 2.5, True, None, "s"])))

# auto_convert: dict, list, set arguments become HashMap, ArrayList, HashSet.
holder = jvm.java.util.ArrayList()
check("auto.dict", lambda: holder.add({"a": 1, "b": "two"}))
check("auto.list", lambda: holder.add([1, "x", 2.5]))
check("auto.set", lambda: holder.add({"q"}))
check("auto.dict.class", lambda: holder.get(0).getClass().getName())
check("auto.dict.get", lambda: holder.get(0).get("b"))
check("auto.dict.len", lambda: len(holder.get(0)))
check("auto.list.class", lambda: holder.get(1).getClass().getName())
check("auto.list.items", lambda: list(holder.get(1)))
check("auto.set.class", lambda: holder.get(2).getClass().getName())
check("auto.set.contains", lambda: "q" in holder.get(2))
check("auto.nested", lambda: jvm.java.util.ArrayList([[1, 2], {"k": [3]}]).toString())

# JavaList protocol: l commands and plain calls.
lst = jvm.java.util.ArrayList()
for x in [5, 3, 9, 1, 3]:
    lst.append(x)
check("list.len", lambda: len(lst))
check("list.index", lambda: lst[1])
check("list.negative", lambda: lst[-1])
check("list.slice", lambda: list(lst[1:4]))
check("list.slice.step", lambda: list(lst[::2]))
check("list.count", lambda: lst.count(3))
check("list.in", lambda: 9 in lst)
check("list.concat", lambda: list(lst + lst))
check("list.mult", lambda: list(lst * 2))
check("list.sort", lambda: (lst.sort(), list(lst))[1])
check("list.reverse", lambda: (lst.reverse(), list(lst))[1])
check("list.max", lambda: max(lst))
check("list.pop", lambda: lst.pop())
check("list.insert", lambda: (lst.insert(0, 42), list(lst))[1])
check("list.del", lambda: (lst.__delitem__(0), list(lst))[1])
check("list.setitem", lambda: (lst.__setitem__(0, 7), list(lst))[1])
check("list.imult", lambda: (lst.__imul__(2), list(lst))[1])
check("list.str", lambda: str(lst))
check("list.equals", lambda: lst.equals(jvm.java.util.ArrayList(list(lst))))
check("list.hashCode", lambda: lst.hashCode())
check("list.index.out", lambda: lst.get(100))
check("list.iterator", lambda: list(lst.iterator()))
check("list.sort.mixed", lambda: jvm.java.util.Collections if False else list(jvm.java.util.ArrayList(["b", "a", "C"]).subList(0, 3)))

# JavaMap / JavaSet.
m = jvm.java.util.HashMap()
check("map.put", lambda: m.put("x", 1))
check("map.put.again", lambda: m.put("x", 2))
m["y"] = [1, 2]
check("map.get", lambda: m["x"])
check("map.get.missing", lambda: m.get("nope"))
check("map.len", lambda: len(m))
check("map.contains", lambda: "y" in m)
check("map.keys", lambda: sorted(m.keySet()))
check("map.del", lambda: (m.__delitem__("y"), len(m))[1])
check("map.str", lambda: str(m))
s = jvm.java.util.HashSet()
check("set.add", lambda: s.add("a"))
check("set.add.again", lambda: s.add("a"))
check("set.len", lambda: len(s))
check("set.remove", lambda: (s.remove("a"), len(s))[1])
check("set.remove.missing", lambda: s.remove("zz"))

# Arrays: a e / a g / a s / a l / a c.
sa = gw.new_array(jvm.java.lang.String, 3)
check("array.len", lambda: len(sa))
check("array.default", lambda: sa[0])
sa[1] = "mid"
check("array.set.get", lambda: sa[1])
check("array.slice", lambda: list(sa[1:3]))
check("array.iter", lambda: list(sa))
check("array.class", lambda: sa.getClass().getName())
check("array.set.wrong", lambda: sa.__setitem__(0, 5))
ia = gw.new_array(jvm.int, 2, 3)
check("array.int2d.len", lambda: (len(ia), len(ia[0])))
check("array.int2d.default", lambda: ia[1][2])
check("array.int2d.class", lambda: ia.getClass().getName())
ia[0][1] = 7
check("array.int.set", lambda: list(ia[0]))
check("array.int.set.wrong", lambda: ia[0].__setitem__(0, "x"))
check("array.out", lambda: sa[10])
check("array.toArray", lambda: list(jvm.java.util.ArrayList([1, "b"]).toArray()))

# Statics, reflection and views.
check("static.field", lambda: jvm.java.lang.Integer.MAX_VALUE)
check("static.field.long", lambda: jvm.java.lang.Long.MIN_VALUE)
check("static.double", lambda: plain(jvm.java.lang.Math.PI))
check("static.max.int", lambda: jvm.java.lang.Math.max(3, 7))
check("static.max.long", lambda: jvm.java.lang.Math.max(3, 2**40))
check("static.max.double", lambda: plain(jvm.java.lang.Math.max(1.5, 2)))
check("static.parse", lambda: jvm.java.lang.Integer.parseInt("-42"))
check("static.parse.bad", lambda: jvm.java.lang.Integer.parseInt("x1"))
check("static.parse.radix", lambda: jvm.java.lang.Integer.parseInt("ff", 16))
check("static.valueOf", lambda: jvm.java.lang.String.valueOf(2.5))
check("static.nonstatic", lambda: jvm.java.util.ArrayList.size)
check("static.nomember", lambda: jvm.java.lang.Integer.NOPE_NOT_HERE)
check("class.unknown.call", lambda: jvm.com.example.Nope())
check("ctor.mismatch", lambda: jvm.java.util.ArrayList("a", "b"))
check("method.missing", lambda: jvm.java.util.ArrayList().fooBar(1, "s", None))
check("java_class", lambda: get_java_class(jvm.java.util.ArrayList).getName())
check("is_instance_of", lambda: is_instance_of(gw, jvm.java.util.ArrayList(), "java.util.List"))
check("field.missing", lambda: get_field(jvm.java.util.ArrayList(), "nope"))
java_import(jvm, "java.util.*")
check("view.star", lambda: jvm.HashSet().getClass().getName())
view = gw.new_jvm_view()
java_import(view, "java.io.File")
check("view.single", lambda: view.File("/tmp/x").getName())
check("view.isolated", lambda: type(view.HashSet).__name__)

# Objects PySpark uses.
t = jvm.scala.Tuple2("k", 3)
check("tuple2", lambda: (t._1(), t._2(), str(t)))
f = jvm.java.io.File("/tmp/some/dir/")
check("file", lambda: (f.getName(), f.getParent(), f.getPath(), f.getAbsolutePath(), str(f)))
check("object.equals", lambda: jvm.scala.Tuple2("k", 3).equals(t))
check("object.toString", lambda: jvm.java.lang.Integer.toString(12))

# Iterators, dir, help.
check("iterator.exhaust", lambda: list(jvm.java.util.ArrayList(["a", "b"]).iterator()))
check("dir.has.add", lambda: "add" in dir(jvm.java.util.ArrayList()))
check("help.head", lambda: first_line(gw.help(jvm.java.util.ArrayList(), display=False)))


# Callbacks: a Python Comparator and Consumer called by Java.
class ByLength:
    def compare(self, a, b):
        # Re-entrant: call back into Java while Java waits for us.
        return jvm.java.lang.Integer.valueOf(len(a) - len(b))

    class Java:
        implements = ["java.util.Comparator"]


class Failing:
    def compare(self, a, b):
        raise ValueError("no order here")

    class Java:
        implements = ["java.util.Comparator"]


class Collect:
    def __init__(self):
        self.seen = []

    def accept(self, x):
        self.seen.append(x)

    class Java:
        implements = ["java.util.function.Consumer"]


def java_call(obj, name, *args):
    """Calls the Java method itself where py4j's Python wrapper shadows it
    (`JavaList.sort` is Python's list.sort)."""
    return JavaMember(name, obj, obj._target_id, obj._gateway_client)(*args)


words = jvm.java.util.ArrayList(["ccc", "a", "bb", "dddd"])
check("callback.sort", lambda: (java_call(words, "sort", ByLength()), list(words))[1])
collector = Collect()
check("callback.forEach", lambda: (words.forEach(collector), collector.seen)[1])
check("callback.raises", lambda: java_call(words, "sort", Failing()))

# Threads: each Python thread its own connection (ClientServer) or a pooled one.
errors = []
totals = [0] * 8


def worker(k):
    try:
        acc = jvm.java.util.ArrayList()
        for i in range(100):
            acc.add(i * k)
        totals[k] = sum(acc.get(i) for i in range(acc.size()))
    except Exception as e:  # noqa: BLE001
        errors.append(repr(e))


threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
for th in threads:
    th.start()
for th in threads:
    th.join()
check("threads", lambda: (totals, errors))

# Raw sockets: what the server answers before authentication.
def raw(payload):
    with socket.create_connection(("127.0.0.1", PORT), timeout=20) as s:
        s.sendall(payload)
        # End our side: the server answers, then sees the end of the stream.
        # A JVM that refused us may have reset the connection already.
        try:
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            data += chunk
        return data


def head(b):
    """The reply lines: the first whole (auth replies are short), then the
    status prefix of the rest (their traces differ between JVMs)."""
    lines = b.decode("utf-8", "replace").split("\n")
    return [lines[0]] + [line[:3] for line in lines[1:]]


check("auth.wrong", lambda: head(raw(b"A\nnot-the-token\n")))
check("auth.missing", lambda: head(raw(b"c\nt\nfoo\ne\n")))
check("auth.right.then.call", lambda: head(raw(("A\n%s\nc\nz:java.lang.Math\nmax\ni1\ni2\ne\n" % TOKEN).encode())))

# Reconnect: a new client on the same server.
gw.close()
gw = connect()
jvm = gw.jvm
check("reconnect", lambda: jvm.java.lang.Math.max(4, 2))

# Release what this client made, then report.
del jl, holder, lst, m, s, sa, ia, t, f, words, view
gc.collect()
print(json.dumps(results, sort_keys=True))
sys.stdout.flush()
gw.close()
