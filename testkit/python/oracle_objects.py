"""Module-level classes for the oracle's real-object pickles (op_object_pickles).

Each class exercises one way CPython's pickler takes an object apart: its own
__reduce__, __reduce_ex__ (with state, listitems, dictitems and a state setter),
__getstate__/__setstate__, __slots__, __getnewargs__ and __getnewargs_ex__. They
live at module level, next to oracle.py, so that pickle can name them and the
oracle process can load what it pickled (repr(pickle.loads(data)) is part of
every answer). Every repr is deterministic: no addresses.
"""

import collections
import enum


def _fields(obj, names):
    return ", ".join("%s=%r" % (n, getattr(obj, n, "<unset>")) for n in names)


class Reduced:
    """__reduce__ -> (cls, args): REDUCE."""

    def __init__(self, a, b=None):
        self.a, self.b = a, b

    def __reduce__(self):
        return (Reduced, (self.a, self.b))

    def __repr__(self):
        return "Reduced(%s)" % _fields(self, ("a", "b"))


class ReducedFull:
    """__reduce_ex__ -> (cls, args, state, listitems, dictitems): REDUCE, then
    APPEND(S) and SETITEM(S) on the object, then BUILD."""

    def __init__(self, tag, items=(), pairs=(), note=None):
        self.tag = tag
        self.items = list(items)
        self.pairs = list(pairs)
        self.note = note

    def __reduce_ex__(self, protocol):
        state = {"note": self.note} if self.note is not None else None
        return (ReducedFull, (self.tag,), state, iter(self.items), iter(self.pairs))

    def append(self, x):
        self.items.append(x)

    def extend(self, xs):
        self.items.extend(xs)

    def __setitem__(self, k, v):
        self.pairs.append((k, v))

    def __repr__(self):
        return "ReducedFull(tag=%r, items=%r, pairs=%r, note=%r)" % (
            self.tag, self.items, self.pairs, self.note)


def _set_note(obj, state):
    obj.note = state["note"]
    return obj


class WithSetter:
    """A 6-tuple reduce with a state setter: `setter (obj, state) TUPLE2 REDUCE POP`."""

    def __init__(self, tag, note):
        self.tag, self.note = tag, note

    def __reduce__(self):
        return (WithSetter, (self.tag, None), {"note": self.note}, None, None, _set_note)

    def __repr__(self):
        return "WithSetter(%s)" % _fields(self, ("tag", "note"))


class Stateful:
    """__getstate__/__setstate__: copyreg.__newobj__ (NEWOBJ), then BUILD of a tuple."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __getstate__(self):
        return (self.x, self.y)

    def __setstate__(self, state):
        self.x, self.y = state

    def __repr__(self):
        return "Stateful(%s)" % _fields(self, ("x", "y"))


class Plain:
    """Nothing special: NEWOBJ and BUILD of its __dict__ (cycles go through it)."""

    def __init__(self, **kw):
        self.__dict__.update(kw)

    def __repr__(self):
        # Recursion-safe: attributes that are Plain show their names only.
        parts = []
        for k, v in self.__dict__.items():
            parts.append("%s=%s" % (k, "<Plain>" if isinstance(v, Plain) else repr(v)))
        return "Plain(%s)" % ", ".join(parts)


class Slotted:
    """__slots__ without __dict__: BUILD of (None, {slot: value})."""

    __slots__ = ("a", "b")

    def __init__(self, a, b):
        self.a, self.b = a, b

    def __repr__(self):
        return "Slotted(%s)" % _fields(self, ("a", "b"))


class SlottedPartly:
    """__slots__ and a __dict__: BUILD of ({attr: value}, {slot: value}); one slot unset."""

    __slots__ = ("a", "unset", "__dict__")

    def __init__(self, a, **kw):
        self.a = a
        self.__dict__.update(kw)

    def __repr__(self):
        return "SlottedPartly(a=%r, unset=%s, %r)" % (
            self.a, hasattr(self, "unset"), self.__dict__)


class NewArgs(int):
    """__getnewargs__ on an int subclass: NEWOBJ with the args, BUILD of __dict__."""

    def __new__(cls, value, label):
        obj = int.__new__(cls, value)
        obj.label = label
        return obj

    def __getnewargs__(self):
        return (int(self), self.label)

    def __repr__(self):
        return "NewArgs(%d, label=%r)" % (int(self), self.label)


class NewArgsEx:
    """__getnewargs_ex__ with keyword arguments: NEWOBJ_EX in protocol 4+, and
    functools.partial(cls.__new__, cls, *args, **kwargs) REDUCE in protocols 2-3."""

    def __new__(cls, *args, **kwargs):
        obj = object.__new__(cls)
        obj.args, obj.kwargs = args, kwargs
        return obj

    def __getnewargs_ex__(self):
        return (self.args, self.kwargs)

    def __getstate__(self):
        return None

    def __repr__(self):
        return "NewArgsEx(args=%r, kwargs=%r)" % (self.args, self.kwargs)


class NewArgsExNoKw(NewArgsEx):
    """__getnewargs_ex__ with empty kwargs: CPython falls back to NEWOBJ."""

    def __getnewargs_ex__(self):
        return (self.args, {})


class Listish(list):
    """A list subclass with an attribute: NEWOBJ, APPENDS on the object, BUILD."""

    def __repr__(self):
        return "Listish(%s, %r)" % (list.__repr__(self), self.__dict__)


class Dictish(dict):
    """A dict subclass: NEWOBJ, SETITEMS on the object."""

    def __repr__(self):
        return "Dictish(%s)" % dict.__repr__(self)


class Weird:
    """A reduce returning a global by name: pickle saves the string as a global."""

    def __reduce__(self):
        return "WEIRD_SINGLETON"

    def __repr__(self):
        return "WEIRD_SINGLETON"


WEIRD_SINGLETON = Weird()


class Recursive:
    """__reduce__ whose arguments contain the object itself (through a list):
    CPython pickles it, discards the second REDUCE (POP) and fetches the memo."""

    def __init__(self):
        self.holder = [self]

    def __reduce__(self):
        return (_make_recursive, (self.holder,))

    def __repr__(self):
        return "Recursive(holder of %d)" % len(self.holder)


def _make_recursive(holder):
    obj = Recursive.__new__(Recursive)
    obj.holder = holder
    return obj


Point = collections.namedtuple("Point", "x y")
Record = collections.namedtuple("Record", ["name", "tags", "parent"], defaults=[None])


class Color(enum.Enum):
    RED = 1
    GREEN = "g"
