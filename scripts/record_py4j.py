"""Records the exact Py4J bytes a real PySpark driver exchanges with its JVM.

Usage: <python of a pinned pyspark venv> scripts/record_py4j.py OUT_DIR PROGRAM
       scripts/record_py4j.py --describe   (README table rows)
(scripts/record-py4j.sh runs it once per program and pinned pyspark version.)

Before PySpark connects, the socket class that py4j.clientserver (pinned-thread
ClientServer mode, PySpark's default) and py4j.java_gateway (JavaGateway mode,
PYSPARK_PIN_THREAD=false) create their connections with is replaced by a
subclass that logs the bytes of every `sendall` and of every `readline` on the
`makefile("rb")` reader. These are the only calls py4j moves protocol bytes
with, so the files hold exactly what crossed each connection:

    OUT_DIR/C<n>.to_java.bin    what Python wrote (commands, callback replies)
    OUT_DIR/C<n>.to_python.bin  what Python read (replies, callback commands)

n counts connections in the order they were opened (C1 = the main thread's).
Bytes are appended to the files as they move, so a run that dies still leaves
what was exchanged up to that point.

The program is run with `SparkContext("local[2]", "app")` from plain `python`,
so PySpark's own launch path starts the JVM through spark-submit. After the
program, the helper waits until py4j's finalizer queue is empty and stops the
finalizer worker, so that interpreter exit cannot cut an `m d` exchange in half
(the JVM exits when this process does).
"""

import decimal
import gc
import os
import socket
import sys
import tempfile
import threading
import time
import types

OUT = os.path.abspath(sys.argv[1])
PROGRAM = sys.argv[2] if len(sys.argv) > 2 else None


class _Recorder:
    """Connection numbering and the per-connection output files."""

    def __init__(self, out):
        self.out = out
        self.lock = threading.Lock()
        self.count = 0

    def open(self):
        with self.lock:
            self.count += 1
            n = self.count
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        to_java = os.open(os.path.join(self.out, "C%d.to_java.bin" % n), flags, 0o644)
        to_python = os.open(os.path.join(self.out, "C%d.to_python.bin" % n), flags, 0o644)
        return to_java, to_python


def _write_all(fd, data, write=os.write):
    view = memoryview(data)
    while view:
        view = view[write(fd, view):]


class _RecordingReader:
    """The `makefile("rb")` reader, logging the bytes each readline returns."""

    def __init__(self, inner, fd):
        self._inner = inner
        self._fd = fd

    def readline(self, *args):
        line = self._inner.readline(*args)
        if line:
            _write_all(self._fd, line)
        return line

    def __getattr__(self, name):
        return getattr(self._inner, name)


def _recording_socket_module(recorder):
    """A stand-in for the `socket` module as py4j's modules see it: the same
    names, except a `socket` class whose connections are recorded."""

    class RecordingSocket(socket.socket):
        _sparkwire_fds = None

        def connect(self, address):
            super().connect(address)
            self._sparkwire_fds = recorder.open()

        def sendall(self, data, *args):
            result = super().sendall(data, *args)
            if self._sparkwire_fds is not None:
                _write_all(self._sparkwire_fds[0], data)
            return result

        def makefile(self, mode="r", *args, **kwargs):
            stream = super().makefile(mode, *args, **kwargs)
            if mode == "rb" and self._sparkwire_fds is not None:
                return _RecordingReader(stream, self._sparkwire_fds[1])
            return stream

    shim = types.ModuleType("socket")
    shim.__dict__.update(socket.__dict__)
    shim.socket = RecordingSocket
    return shim


def install(out):
    os.makedirs(out, exist_ok=True)
    import py4j.clientserver
    import py4j.java_gateway

    shim = _recording_socket_module(_Recorder(out))
    py4j.java_gateway.socket = shim
    py4j.clientserver.socket = shim


# ---------------------------------------------------------------------------
# The programs. Each gets a fresh SparkContext("local[2]", "app") and stops it.


def context_only(sc):
    """Creates the SparkContext and stops it: the setup every program shares."""


def map_collect(sc):
    """`parallelize(range(100), 4).map(lambda x: x * 2).collect()`."""
    print(sc.parallelize(range(100), 4).map(lambda x: x * 2).collect()[:5])


def reducebykey(sc):
    """Word pairs through `reduceByKey(add)` and `collect()`: a shuffle."""
    words = "a b a c b a d".split()
    pairs = sc.parallelize(words, 2).map(lambda w: (w, 1)).reduceByKey(lambda a, b: a + b)
    print(sorted(pairs.collect()))


def broadcast_accumulator(sc):
    """A broadcast dict and an accumulator used in a `map`, `acc.value`,
    `unpersist()`."""
    table = sc.broadcast({1: "one", 2: "two", 3: "three"})
    acc = sc.accumulator(0)

    def look(x):
        acc.add(1)
        return table.value.get(x, "?")

    print(sc.parallelize([1, 2, 3, 4], 2).map(look).collect(), acc.value)
    table.unpersist()


def textfile(sc):
    """`textFile` of a small temp file, `map(upper).collect()`, then
    `map(len).saveAsTextFile`."""
    d = tempfile.mkdtemp(prefix="sparkwire-py4j-")
    path = os.path.join(d, "in.txt")
    with open(path, "w") as f:
        f.write("alpha beta\ngamma\n\ndelta é\n")
    lines = sc.textFile(path)
    print(lines.map(lambda s: s.upper()).collect())
    lines.map(len).saveAsTextFile(os.path.join(d, "out"))
    print(sorted(os.listdir(os.path.join(d, "out"))))


def lambda_exception(sc):
    """A lambda raising ZeroDivisionError inside `collect()`; the Py4JJavaError
    is caught and `str(e)` taken, which sends the `p` command."""
    try:
        sc.parallelize(range(10), 2).map(lambda x: 1 // (x - 5)).collect()
    except Exception as e:
        # str() of a Py4JJavaError asks the JVM for the stack trace (`p`).
        text = str(e)
        print(type(e).__name__, len(text), "ZeroDivisionError" in text)


class _PyComparator:
    """A Python object Java calls back into (a java.util.Comparator)."""

    def compare(self, a, b):
        return (a > b) - (a < b)

    def equals(self, other):
        return other is self

    class Java:
        implements = ["java.util.Comparator"]


class _PointComparator:
    """Compares java.awt.Points: Java passes references, and Python calls back
    into Java (getX) while answering Java's call."""

    def compare(self, a, b):
        return int(a.getX() - b.getX())

    def equals(self, other):
        return other is self

    class Java:
        implements = ["java.util.Comparator"]


class _FailingComparator:
    """A callback that raises: Python answers Java with an error reply."""

    def compare(self, a, b):
        raise ValueError("no order\nhere")

    def equals(self, other):
        return other is self

    class Java:
        implements = ["java.util.Comparator"]


class _Callable:
    """A callback returning a string that needs escaping."""

    def call(self):
        return "called\nback \\ é"

    class Java:
        implements = ["java.util.concurrent.Callable"]


def py4j_surface(sc):
    """py4j forms PySpark's RDD code does not use, through `sc._jvm` and
    `sc._gateway`: arrays (new, set, get, len, slice, 2-D), an ArrayList as
    JavaList (append, slice, count, sort, reverse, `*`, `*=`, `+`, iterator),
    Python Comparators Java calls back (one calling Java again while it answers,
    one raising) and a Callable returning a string, dict/set auto_convert (HashMap,
    HashSet), static fields and methods, strings with newlines, backslashes,
    CR and non-ASCII, bytes, floats incl. inf/nan, large ints (`L`), Decimals,
    a Java exception and its text, a no-such-method error, `help`, `dir`,
    field get/set, `get_java_class`, a new JVM view with an import."""
    from py4j.java_gateway import get_field, get_java_class, java_import, set_field
    from py4j.protocol import Py4JError, Py4JJavaError

    gateway, jvm = sc._gateway, sc._jvm
    show = lambda *a: print(*a)  # noqa: E731

    # Arrays: create, set, get, length, slice; a two-dimensional int array.
    arr = gateway.new_array(jvm.java.lang.String, 3)
    arr[0] = "zero"
    arr[2] = "two"
    show(arr[0], arr[1], len(arr), list(arr[0:2]))
    grid = gateway.new_array(jvm.int, 2, 3)
    show(len(grid), len(grid[1]))

    # A java.util.ArrayList through the JavaList protocol.
    al = jvm.java.util.ArrayList()
    for x in [5, 3, 9, 3]:
        al.append(x)
    show(list(al[1:3]), al.count(3))
    al.sort()
    al.reverse()
    show(list(al))
    doubled = al * 2
    al *= 2
    show(len(doubled), len(al), len(al + doubled))
    show([x for x in al.iterator()])
    # A Python Comparator: Java calls back into Python on the same connection.
    jvm.java.util.Collections.sort(al, _PyComparator())
    show(list(al)[:3])
    points = jvm.java.util.ArrayList()
    for x in [3, 1, 2]:
        points.append(jvm.java.awt.Point(x, 0))
    jvm.java.util.Collections.sort(points, _PointComparator())
    show([p.getX() for p in points])
    try:
        jvm.java.util.Collections.sort(al, _FailingComparator())
    except Py4JError as e:
        show("callback error", type(e).__name__)
    task = jvm.java.util.concurrent.FutureTask(_Callable())
    task.run()
    show(repr(task.get()))

    # auto_convert: a dict becomes a HashMap, a set a HashSet.
    m = jvm.java.util.HashMap({"k": 1, "line\nbreak": "v"})
    show(m["k"], len(m), "k" in m)
    s = jvm.java.util.HashSet({1, 2, 3})
    show(len(s), 2 in s)

    # Static fields and methods.
    show(jvm.java.lang.Integer.MAX_VALUE, jvm.java.lang.Long.MIN_VALUE)
    show(jvm.java.lang.Math.max(3, 7), jvm.java.lang.Math.max(2.5, -1.0))

    # Strings, bytes, floats, large ints, decimals, None, booleans, both ways.
    for text in ["a\nb", "back\\slash", "cr\rlf", "é 中 🎉", "", "tab\tquote\"'"]:
        show(repr(jvm.java.util.Objects.requireNonNull(text)))
    enc = jvm.java.util.Base64.getEncoder()
    show(enc.encodeToString(b"\x00\x01\xfe\xff"), enc.encodeToString(bytearray(b"xy")))
    show(bytes(jvm.java.util.Base64.getDecoder().decode("AAH+/w==")))
    for x in [0.1, -0.0, 1e16, 5e-324, float("inf"), float("-inf"), float("nan")]:
        show(jvm.java.lang.Double.valueOf(x))
    for n in [2**31 - 1, 2**31, -(2**31) - 1, 2**62]:
        show(jvm.java.lang.Long.valueOf(n))
    for d in ["1.50", "-1E+3", "0.000"]:
        show(jvm.java.util.Objects.requireNonNull(decimal.Decimal(d)))
    show(jvm.java.util.Objects.isNull(None), jvm.java.lang.Boolean.valueOf(True))

    # A Java exception, and its text (the `p` command).
    try:
        jvm.java.lang.Integer.parseInt("x")
    except Py4JJavaError as e:
        show("java error", str(e).splitlines()[0])
    # A py4j-level error (no such method).
    try:
        al.noSuchMethod()
    except Py4JError as e:
        show("py4j error", str(e).splitlines()[0])

    # Help pages, dir(), fields, the Class object, JVM views.
    show(len(gateway.help(al, display=False)))
    show(len(gateway.help(jvm.java.lang.Math, pattern="max*", display=False)))
    show(len(dir(al)), len(dir(jvm.java.lang.Math)), len(dir(jvm)))
    point = jvm.java.awt.Point(3, 4)
    try:
        show(get_field(point, "x"))
        set_field(point, "y", 7)
        show(point.getY())
    except Py4JError as e:
        show("field access failed", str(e).splitlines()[0])
    show(get_java_class(jvm.java.util.ArrayList).getName())
    view = gateway.new_jvm_view("sparkwire")
    java_import(view, "java.util.concurrent.*")
    show(view.TimeUnit.SECONDS.toMillis(2))


PROGRAMS = {
    "context_only": (context_only, {}),
    "map_collect": (map_collect, {}),
    "map_collect_nopin": (map_collect, {"PYSPARK_PIN_THREAD": "false"}),
    "reducebykey": (reducebykey, {}),
    "broadcast_accumulator": (broadcast_accumulator, {}),
    "textfile": (textfile, {}),
    "lambda_exception": (lambda_exception, {}),
    "py4j_surface": (py4j_surface, {}),
}


def quiesce(gateway):
    """Lets py4j's finalizer worker (ClientServer mode) send what it has queued,
    then stops it, so no exchange is in flight when the interpreter exits."""
    gc.collect()
    client = gateway._gateway_client
    queue = getattr(client, "finalizer_deque", None)
    if queue is None:
        return
    deadline = time.time() + 30
    while len(queue) and time.time() < deadline:
        time.sleep(0.1)
    # A popped task is sent synchronously: give the last one time to finish.
    time.sleep(0.5)
    from py4j.clientserver import SHUTDOWN_FINALIZER_WORKER

    queue.appendleft(SHUTDOWN_FINALIZER_WORKER)
    for t in threading.enumerate():
        if type(t).__name__ == "FinalizerWorker":
            t.join(timeout=10)


def describe():
    """Markdown table rows for the README: program, extra env, what it does."""
    for name, (body, env) in PROGRAMS.items():
        doc = " ".join(body.__doc__.split())
        extra = " ".join("`%s=%s`" % kv for kv in env.items()) or "—"
        if env.get("PYSPARK_PIN_THREAD") == "false":
            doc = "as map_collect, in JavaGateway mode (a pool of connections, no finalizer connection)"
        print("| `%s` | %s | %s |" % (name, extra, doc))


def main():
    if sys.argv[1] == "--describe":
        return describe()
    body, env = PROGRAMS[PROGRAM]
    os.environ.update(env)
    install(OUT)
    from pyspark import SparkContext

    sc = SparkContext("local[2]", "app")
    sc.setLogLevel("ERROR")
    gateway = sc._gateway
    body(sc)
    sc.stop()
    quiesce(gateway)


if __name__ == "__main__":
    main()
