"""Records the worked examples of the serializers spec (§1.5) from the real
PySpark serializers, so that serializers/tests/spec_examples.rs checks them
against what PySpark writes rather than against hex typed from the spec.

Usage: python scripts/record_spec_examples.py OUT.json
(run with the python of a pinned pyspark venv; scripts/record-spec-examples.sh
runs it for each). Each example: the id the spec gives it, and PySpark's bytes
as hex.
"""
import io
import json
import sys

import pyspark
from pyspark import serializers as S

cp = S.CPickleSerializer() if hasattr(S, "CPickleSerializer") else S.PickleSerializer()


def dump(ser, values):
    out = io.BytesIO()
    ser.dump_stream(iter(values), out)
    return out.getvalue().hex()


def batched(n):
    return S.BatchedSerializer(cp, n)


def attempt(f):
    """PySpark's bytes, or the exception it raises (4.2+ refuses some sizes)."""
    try:
        return {"hex": f()}
    except Exception as e:  # noqa: BLE001 — the exception is the recorded answer
        return {"error": type(e).__name__}


examples = {
    "E1": attempt(lambda: dump(cp, [1, "a"])),
    "E2": attempt(lambda: dump(batched(2), [0, 1, 2, 3, 4])),
    "E3": attempt(lambda: dump(batched(-1), [0, 1, 2])),
    "E4": attempt(lambda: dump(batched(-1), [])),
    "E5": attempt(lambda: dump(batched(2), [])),
    "E6": attempt(lambda: dump(batched(0), [0, 1, 2])),
    "E7": attempt(lambda: dump(S.AutoBatchedSerializer(cp), [0, 1, 2, 3, 4])),
    "E8": attempt(lambda: dump(S.MarshalSerializer(), [1, "a", None])),
    "E9": attempt(lambda: dump(S.BatchedSerializer(S.MarshalSerializer(), 2), [0, 1, 2])),
    "E10": attempt(lambda: dump(S.NoOpSerializer(), [b"ab", b""])),
    "E11": attempt(lambda: dump(S.CompressedSerializer(cp), [1])),
    "E12": attempt(lambda: dump(S.FlattenedValuesSerializer(cp, 2), [("k", [1, 2, 3])])),
}
with open(sys.argv[1], "w") as f:
    json.dump({"pyspark": pyspark.__version__, "examples": examples}, f, indent=1, sort_keys=True)
    f.write("\n")
