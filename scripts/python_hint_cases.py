"""The functions scripts/record_python_hints.py pickles, one per construct whose
bytecode differs between CPython releases. Not imported: the recorder compiles
this text under the fixed file name /jobs/python_hint_cases.py, so payloads do not
depend on where the checkout lives.
"""

import asyncio
import math


OFFSET = 3


def plain(x):
    return x + 1


def with_globals(x):
    return math.sqrt(abs(x)) + OFFSET


def make_closure(n):
    def add(x):
        return x + n

    return add


def make_nested(scale):
    total = [0]

    def outer(xs):
        def inner(x):
            total[0] += x
            return x * scale

        return [inner(x) for x in xs]

    return outer


def generator(it):
    for x in it:
        if x is None or x in (1, 2):
            continue
        yield x * 2


def comprehensions(xs):
    a = [x for x in xs if x]
    b = {x: str(x) for x in xs}
    c = {x % 3 for x in xs}
    d = list(x * x for x in xs)
    return a, b, c, d


def defaults(a, b=2, *args, c, d=4, **kw) -> int:
    return a + b + c + d + len(args) + len(kw)


def annotated(x: int, y: "str" = "s") -> "list":
    return [x, y]


async def coroutine(x):
    await asyncio.sleep(0)
    return x


def exceptions(path):
    try:
        with open(path) as f:
            return f.read()
    except (OSError, ValueError) as e:
        return str(e)
    finally:
        pass


def loops(n):
    out, i = [], 0
    while True:
        i += 1
        if i > n:
            break
        if i % 2:
            continue
        out.append(f"{i:>4}|{i!r}")
    return out


def calls(xs):
    return sorted(xs, key=lambda v: -v, reverse=True) + list(map(str, [*xs, *xs]))


class Scaler:
    def __init__(self, k):
        self.k = k

    def apply(self, x):
        return x * self.k

    @staticmethod
    def static(x):
        return -x


class Child(Scaler):
    def apply(self, x):
        return super().apply(x) + 1


def cases():  # noqa: C901
    return [
        ("lambda", lambda x: x + 1),
        ("lambda_none", lambda: None),
        ("lambda_identity", lambda x: x),
        ("plain", plain),
        ("with_globals", with_globals),
        ("closure", make_closure(5)),
        ("nested", make_nested(2)),
        ("generator", generator),
        ("genexpr_lambda", lambda it: (x for x in it if x)),
        ("comprehensions", comprehensions),
        ("defaults_kwonly", defaults),
        ("annotated", annotated),
        ("coroutine", coroutine),
        ("exceptions", exceptions),
        ("loops", loops),
        ("calls", calls),
        ("bound_method", Scaler(3).apply),
        ("static_method", Scaler.static),
        ("subclass_super", Child(2).apply),
    ]


def command_functions():
    """(case name, the RDD method, the user's function) for the command forms."""
    return [
        ("command_map", "map", lambda x: x * 2),
        ("command_filter", "filter", lambda x: x % 2 == 0),
        ("command_flatMap", "flatMap", lambda x: range(x)),
        ("command_mapPartitions", "mapPartitions", generator),
    ]
