# -*- coding: utf-8 -*-
"""Pickles made by a real Python 2.7, protocols 0-2, for the repr view's
differential goldens (scripts/record_pickle_repr.py py2 loads them with
Python 3 and records repr(pickle.loads(data))). Python 2 syntax on purpose.

    python2.7 scripts/record_pickle_repr_py2.py OUT.json
"""
import collections
import datetime
import decimal
import json
import pickle
import sys
import uuid


def values():
    v = {}
    v["ints_longs"] = [0, -1, 2 ** 40, long(5), -(2 ** 70)]
    v["str_ascii"] = ["abc", "", "it's", "a\nb"]
    v["unicode"] = [u"abc", u"h\xe9", u"\U0001f600"]
    v["xrange"] = [xrange(5), xrange(1, 7), xrange(10, 0, -3)]
    v["sets"] = [set([5, 1025]), frozenset([1, 2, 3]), set(), set(range(40))]
    v["complex"] = [1 + 2j, 3j]
    v["exceptions"] = [ValueError("x"), KeyError(1), Exception(), UnicodeEncodeError(
        "ascii", u"h\xe9", 1, 2, "ouch"), StandardError("s"), ZeroDivisionError()]
    v["types"] = [int, long, unicode, str, xrange, reduce, len, object]
    v["dates_ascii"] = [datetime.date(1999, 1, 2), datetime.time(1, 2, 3),
                        datetime.timedelta(3, 4, 5), datetime.timedelta(-1)]
    v["decimal"] = [decimal.Decimal("1.5"), decimal.Decimal("-0"), decimal.Decimal("NaN")]
    v["ordered_dict"] = collections.OrderedDict([("a", 1), ("b", 2)])
    v["defaultdict"] = collections.defaultdict(list, {"k": [1]})
    v["deque"] = collections.deque([1, 2, 3], 2)
    v["counter"] = collections.Counter("abracadabra")
    v["uuid"] = uuid.UUID(int=2 ** 100)
    v["nested"] = {"a": [1, (2, 3)], "b": set([(1, 2)]), "c": None, "d": True, "e": 1.5}
    v["bytearray"] = bytearray("xyz")
    v["slice"] = slice(1, None, 2)
    return v


if __name__ == "__main__":
    recs = []
    for name, obj in sorted(values().items()):
        for p in range(3):
            try:
                data = pickle.dumps(obj, p)
            except Exception as e:
                continue
            recs.append([name, p, data.encode("hex")])
    with open(sys.argv[1], "w") as f:
        json.dump({"python2": sys.version.split()[0], "records": recs}, f)
