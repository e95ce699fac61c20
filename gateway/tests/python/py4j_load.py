"""Loads a py4j gateway from many Python threads with the real py4j client.

Run by gateway/tests/server_load.rs against sparkwire's server. Every thread
makes its own objects (ArrayList, HashMap, int[]), calls methods on them and
static methods, and now and then provokes a Java exception, so objects are
created and released (py4j's `m d`) all the time. Each call's answer is checked
against what it must be, computed here from the inputs. A call is one py4j
client call and one round trip, except an array element's get or set, for
which py4j first asks the array's length (`a e`).

usage: py4j_load.py MODE PORT TOKEN THREADS WARMUP_CALLS CALLS
  MODE: clientserver (ClientServer client, what PySpark uses by default) or
        gateway (classic JavaGateway client, pooled connections)

The run is in phases; after each it prints one JSON line and waits for a line
on stdin (end of stdin means stop), so the test can look at the server while
this process still holds what it holds:
  warm: a warm-up round of WARMUP_CALLS calls, references dropped, gc run
  load: CALLS calls, timed, references dropped, gc run
"""

import gc
import itertools
import json
import os
import sys
import threading
import time
import traceback

from py4j.clientserver import ClientServer, JavaParameters, PythonParameters
from py4j.finalizer import ThreadSafeFinalizer
from py4j.java_gateway import GatewayParameters, JavaGateway
from py4j.protocol import Py4JJavaError

MODE, PORT, TOKEN = sys.argv[1], int(sys.argv[2]), sys.argv[3]
THREADS, WARMUP_CALLS, CALLS = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])

# py4j ids the Java side never frees; a live Python object with one of these
# ids holds nothing in the registry.
RESERVED = {"t", "j", "GATEWAY_SERVER"}

if MODE == "clientserver":
    gw = ClientServer(
        java_parameters=JavaParameters(port=PORT, auth_token=TOKEN),
        # A daemon thread, so that a failure here ends the process instead of
        # leaving the interpreter waiting for the callback server at exit.
        python_parameters=PythonParameters(port=0, auth_token=TOKEN, daemonize=True),
    )
else:
    gw = JavaGateway(gateway_parameters=GatewayParameters(port=PORT, auth_token=TOKEN))
jvm = gw.jvm
client = gw._gateway_client

# Every command py4j sends (calls, reflection, `m d`), counted where they all
# pass. `next` on an itertools.count is atomic under the GIL.
sent = itertools.count()
_send = client.send_command


def counting_send(*args, **kwargs):
    next(sent)
    return _send(*args, **kwargs)


client.send_command = counting_send

# Classes and static methods resolved once: each use below is then exactly one
# round trip (a `jvm.a.b.C` lookup costs reflection round trips of its own).
ArrayList = jvm.java.util.ArrayList
HashMap = jvm.java.util.HashMap
MAX = jvm.java.lang.Math.max
PARSE = jvm.java.lang.Integer.parseInt
INT = jvm.int

# Held for the whole run: these ids must survive every release.
keep_list = ArrayList()
keep_list.add("kept")
keep_map = HashMap()
keep_map.put("kept", 1)


class Done(Exception):
    """The thread's call budget is spent."""


def worker(k, budget, out, start):
    """Rounds of 17 calls until `budget` calls are made; records mismatches,
    the sum of every int answer and the sum it must be."""
    calls = 0
    got_sum = 0
    want_sum = 0
    raised = 0
    want_raised = 0
    mismatches = []

    def call(label, fn, want):
        nonlocal calls, got_sum, want_sum
        if calls >= budget:
            raise Done
        calls += 1
        got = fn()
        if isinstance(want, int) and not isinstance(want, bool):
            want_sum += want
            if isinstance(got, int) and not isinstance(got, bool):
                got_sum += got
        if want is not object and got != want and len(mismatches) < 5:
            mismatches.append([k, label, repr(got), repr(want)])
        return got

    start.wait()
    try:
        r = 0
        while True:
            values = [k * 100_000 + r * 4 + j for j in range(4)]
            lst = call("new ArrayList", ArrayList, object)
            for v in values:
                call("add", lambda v=v: lst.add(v), True)
            call("get 0", lambda: lst.get(0), values[0])
            call("get 3", lambda: lst.get(3), values[3])
            call("size", lambda: lst.size(), 4)
            m = call("new HashMap", HashMap, object)
            key = "k%d.%d" % (k, r)
            call("put", lambda: m.put(key, r), None)
            call("put again", lambda: m.put(key, r + 1), r)
            call("map get", lambda: m.get(key), r + 1)
            call("Math.max", lambda: MAX(k, r), max(k, r))
            arr = call("new int[3]", lambda: gw.new_array(INT, 3), object)
            call("array set", lambda: arr.__setitem__(1, r), None)
            call("array get", lambda: arr[1], r)
            if r % 8 == 0:
                # A Java exception: its object is registered, handed to Python
                # inside Py4JJavaError, and released when the error is dropped.
                want_raised += 1
                try:
                    call("parseInt bad", lambda: PARSE("x%d" % r), object)
                    mismatches.append([k, "parseInt bad", "no exception", "NumberFormatException"])
                except Py4JJavaError:
                    raised += 1
            else:
                call("parseInt", lambda: PARSE(str(r)), r)
            r += 1
    except Done:
        pass
    except Exception as e:  # noqa: BLE001 - reported to the test
        out[k] = {"error": "%s: %s" % (type(e).__name__, e)}
        return
    out[k] = {
        "calls": calls,
        "got_sum": got_sum,
        "want_sum": want_sum,
        "raised": raised,
        "want_raised": want_raised,
        "mismatches": mismatches,
    }


def held_ids():
    """Ids of the Java objects py4j still tracks as alive on this side."""
    prefix = str(client.address) + str(client.port)
    ids = []
    for key, ref in list(ThreadSafeFinalizer.finalizers.items()):
        if ref() is not None and key.startswith(prefix):
            ids.append(key[len(prefix):])
    return sorted(i for i in ids if i not in RESERVED)


def pending_releases():
    """`m d` messages queued but not yet sent (ClientServer's finalizer
    worker sends them from a deque; JavaGateway sends them at once)."""
    return len(getattr(client, "finalizer_deque", ()) or ())


def phase(name, calls):
    out = [None] * THREADS
    start = threading.Barrier(THREADS + 1)
    per, extra = divmod(calls, THREADS)
    threads = [
        threading.Thread(target=worker, args=(k, per + (k < extra), out, start))
        for k in range(THREADS)
    ]
    for th in threads:
        th.start()
    sent_before = next(sent)
    start.wait()
    t0 = time.monotonic()
    for th in threads:
        th.join()
    wall = time.monotonic() - t0
    sent_during = next(sent) - sent_before - 1
    del threads
    # Drop every reference the run made, and wait for py4j's releases.
    gc.collect()
    deadline = time.monotonic() + 60
    while pending_releases() and time.monotonic() < deadline:
        time.sleep(0.05)
    errors = [o["error"] for o in out if o and "error" in o]
    done = [o for o in out if o and "error" not in o]
    report = {
        "phase": name,
        "threads": THREADS,
        "finished": len(done) + len(errors),
        "calls": sum(o["calls"] for o in done),
        "commands_sent": sent_during,
        "wall_s": wall,
        "errors": errors[:5],
        "error_count": len(errors),
        "mismatches": [m for o in done for m in o["mismatches"]][:10],
        "sums_wrong": sum(o["got_sum"] != o["want_sum"] for o in done),
        "raised": sum(o["raised"] for o in done),
        "want_raised": sum(o["want_raised"] for o in done),
        "pending_releases": pending_releases(),
        "held": held_ids(),
    }
    print(json.dumps(report), flush=True)
    return sys.stdin.readline().strip()


try:
    if phase("warm", WARMUP_CALLS) == "go":
        phase("load", CALLS)
    # Still held until here, on purpose.
    assert keep_list.size() == 1 and keep_map.get("kept") == 1
    gw.close()
except BaseException:  # noqa: BLE001 - any failure ends the process at once
    traceback.print_exc()
    sys.stderr.flush()
    os._exit(1)
