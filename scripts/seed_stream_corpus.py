"""Seeds the serializer-layer fuzz corpora with streams written by real PySpark.

Usage: <pyspark venv python> scripts/seed_stream_corpus.py fuzz/corpus
serializer_stream inputs start with the fuzz target's two control bytes
(serializer selector, chunk split), then the stream.
"""
import io
import marshal
import os
import sys

from pyspark import serializers as S

out = sys.argv[1]


def put(target, name, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def stream(ser, values):
    buf = io.BytesIO()
    ser.dump_stream(iter(values), buf)
    return buf.getvalue()


values = [1, "a", None, 2.5, (1, "x"), [1, 2], {"k": b"v"}, {1, 2}, 10**30, -7]
# selector byte: low 3 bits = framed serializer, next 3 bits = wrapper (see the target).
cases = {
    "cpickle": (0x00, stream(S.CPickleSerializer(), values)),
    "marshal": (0x01, stream(S.MarshalSerializer(), values)),
    "noop": (0x02, stream(S.NoOpSerializer(), [b"ab", b"", b"xyz"])),
    "compressed": (0x04, stream(S.CompressedSerializer(S.CPickleSerializer()), values)),
    "batched": (0x08, stream(S.BatchedSerializer(S.CPickleSerializer(), 3), values)),
    "batched-marshal": (0x09, stream(S.BatchedSerializer(S.MarshalSerializer(), 3), values[:4])),
    "autobatched": (0x18, stream(S.AutoBatchedSerializer(S.CPickleSerializer()), list(range(300)))),
    "flattened": (0x38, stream(S.FlattenedValuesSerializer(S.CPickleSerializer(), 2), [("k", [1, 2, 3])])),
}
for name, (sel, data) in cases.items():
    put("serializer_stream", name + ".bin", bytes([sel, len(data) // 2 % 256]) + data + b"\xff\xff\xff\xff")
for i, v in enumerate(values + [[values, values], (), frozenset({1, 2})]):
    try:
        put("marshal_roundtrip", "value-%d.bin" % i, marshal.dumps(v))
    except ValueError:
        pass
# add_shuffle_key's output: 8-byte partition id, then the pickled bucket.
ser = S.CPickleSerializer()
shuffle = b""
for split, items in [(0, [(1, "a")]), (3, [(2, "b"), (5, "c")])]:
    shuffle += (8).to_bytes(4, "big") + split.to_bytes(8, "big")
    d = ser.dumps(items)
    shuffle += len(d).to_bytes(4, "big") + d
put("shuffle_decoder", "two-buckets.bin", shuffle + b"\xff\xff\xff\xff")
# Arrow framing around an empty IPC stream (no pyarrow in the venvs): grouped, one group.
put("arrow_section", "grouped-empty-stream.bin", b"\x01" + (1).to_bytes(4, "big") + b"\xff\xff\xff\xff\x00\x00\x00\x00" + (0).to_bytes(4, "big"))
# Real pyarrow streams of the column types arrow_rows reads (plain, grouped and
# cogrouped framing), so the fuzzer reaches the value decoder.
try:
    import pyarrow as pa
except ImportError:  # pragma: no cover
    pa = None
if pa is not None:
    ints = pa.array([1, None, -3], pa.int64())
    cols = {
        "ints": [ints],
        "mixed": [ints, pa.array([0.5, None, 1e300]), pa.array([True, False, None]), pa.array(["a", None, "é"])],
        "small": [pa.array([1, 2, 3], pa.int8()), pa.array([None, None, None], pa.null()), pa.array([b"x", b"", None])],
        "struct": [pa.StructArray.from_arrays([ints, pa.array(["k", "l", None])], names=["k", "v"])],
        "large": [pa.array(["x", "yy", None], pa.large_string()), pa.array([7, 8, 9], pa.uint64())],
    }
    for name, arrays in cols.items():
        batch = pa.record_batch(arrays, names=["c%d" % i for i in range(len(arrays))])
        buf = io.BytesIO()
        with pa.ipc.new_stream(buf, batch.schema) as w:
            w.write_batch(batch)
        one = buf.getvalue()
        put("arrow_section", "plain-%s.bin" % name, b"\x00" + one)
        put("arrow_section", "grouped-%s.bin" % name, b"\x01" + (1).to_bytes(4, "big") + one + (0).to_bytes(4, "big"))
        put("arrow_section", "cogrouped-%s.bin" % name, b"\x02" + (2).to_bytes(4, "big") + one + one + (0).to_bytes(4, "big"))
