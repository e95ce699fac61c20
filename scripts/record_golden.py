"""Records golden framed streams with real PySpark, for sparkwire's framing tests.

Usage: <venv>/bin/python scripts/record_golden.py OUT_DIR
(scripts/record-golden.sh runs it once per pinned pyspark version.)

Every stream is written by PySpark's own code: its serializers' dump_stream and the
framing helpers (write_int, write_long, write_with_length, ChunkedStream). The
stream object records each write() call, and the manifest (NAME.json, next to
NAME.bin) is built from those calls: a 4-byte write_int is a length slot, the
writes after a non-negative one are its payload. So the manifest says what the
Python side wrote, independently of any byte parsing; sparkwire's decoder must
split NAME.bin into exactly these items.
"""

import hashlib
import io
import json
import os
import struct
import sys
import traceback

import pyspark
from pyspark import serializers as S

SL = S.SpecialLengths
NAMES = {v: k for k, v in vars(SL).items() if k.isupper()}


class Recorder(io.RawIOBase):
    """A byte sink that logs every write() call with its offset."""

    def __init__(self):
        self.data = bytearray()
        self.writes = []

    def writable(self):
        return True

    def write(self, b):
        b = bytes(b)
        self.writes.append((len(self.data), b))
        self.data += b
        return len(b)

    def close(self):  # ChunkedStream closes its target; keep the data
        pass


class Stream:
    def __init__(self, name, description):
        self.name = name
        self.description = description
        self.rec = Recorder()
        self.items = []

    def frames(self, fn):
        """Runs fn(stream); every write it makes must be a length slot or payload."""
        start = len(self.rec.writes)
        fn(self.rec)
        writes = self.rec.writes[start:]
        i = 0
        while i < len(writes):
            offset, head = writes[i]
            assert len(head) == 4, "expected a 4-byte length slot at %d, got %r" % (offset, head[:16])
            (n,) = struct.unpack("!i", head)
            i += 1
            if n == SL.NULL:
                self.items.append({"kind": "null", "offset": offset})
            elif n < 0:
                self.items.append({"kind": "marker", "offset": offset, "value": n, "name": NAMES[n]})
            else:
                payload = b""
                if n == 0:
                    # write_with_length writes an empty payload with one empty write().
                    if i < len(writes) and writes[i][1] == b"":
                        i += 1
                while len(payload) < n:
                    payload += writes[i][1]
                    i += 1
                assert len(payload) == n, "payload of %d bytes for length %d" % (len(payload), n)
                self.items.append(
                    {
                        "kind": "frame",
                        "offset": offset,
                        "len": n,
                        "sha256": hashlib.sha256(payload).hexdigest(),
                    }
                )

    def field(self, kind, value, fn):
        offset = len(self.rec.data)
        fn(self.rec)
        self.items.append({"kind": kind, "offset": offset, "value": value})

    def save(self, out_dir):
        with open(os.path.join(out_dir, self.name + ".bin"), "wb") as f:
            f.write(self.rec.data)
        manifest = {
            "name": self.name,
            "description": self.description,
            "pyspark": pyspark.__version__,
            "python": "%d.%d.%d" % sys.version_info[:3],
            "script": "scripts/record_golden.py",
            "total_bytes": len(self.rec.data),
            "items": self.items,
        }
        with open(os.path.join(out_dir, self.name + ".json"), "w") as f:
            json.dump(manifest, f, indent=1)
            f.write("\n")


def streams():
    cpickle = S.CPickleSerializer()

    s = Stream("cpickle_mixed", "CPickleSerializer().dump_stream over mixed Python values: one pickle per frame")
    values = [1, "a", None, 3.5, b"xy", (1, 2), {"k": [1, 2]}, 2**70, True, "é" * 40, []]
    s.frames(lambda f: cpickle.dump_stream(values, f))
    yield s

    s = Stream("batched_2_range5", "BatchedSerializer(CPickleSerializer(), 2).dump_stream(range(5)): lists of 2, 2, 1")
    s.frames(lambda f: S.BatchedSerializer(cpickle, 2).dump_stream(range(5), f))
    yield s

    s = Stream("batched_unlimited_empty", "BatchedSerializer(CPickleSerializer(), -1) over []: one frame holding []")
    s.frames(lambda f: S.BatchedSerializer(cpickle, -1).dump_stream([], f))
    yield s

    s = Stream(
        "batched_0_range3",
        "BatchedSerializer(CPickleSerializer(), 0).dump_stream(range(3)): one batch up to 4.0.1, nothing in 4.3.0",
    )
    s.frames(lambda f: S.BatchedSerializer(cpickle, 0).dump_stream(range(3), f))
    yield s

    s = Stream(
        "autobatched_range_20000",
        "AutoBatchedSerializer(CPickleSerializer()).dump_stream(range(20000)): batches 1, 2, 4, ... 8192, then the rest",
    )
    s.frames(lambda f: S.AutoBatchedSerializer(cpickle).dump_stream(range(20000), f))
    yield s

    s = Stream(
        "autobatched_ladder_best1024",
        "AutoBatchedSerializer(CPickleSerializer(), bestSize=1024) over 60 small then 40 large strings: "
        "doubles under 1 KiB, halves over 10 KiB (the 64 KiB/640 KiB ladder, scaled down)",
    )
    items = ["s%03d" % i + "x" * 200 for i in range(60)] + ["L%03d" % i + "y" * 3000 for i in range(40)]
    s.frames(lambda f: S.AutoBatchedSerializer(cpickle, bestSize=1024).dump_stream(items, f))
    yield s

    s = Stream(
        "large_frame_70k",
        "CPickleSerializer().dump_stream([b'x' * 70000, 'tail']): a frame over 64 KiB (pickled outside a FRAME)",
    )
    s.frames(lambda f: cpickle.dump_stream([b"x" * 70000, "tail"], f))
    yield s

    s = Stream(
        "utf8_records",
        "What the JVM sends for textFile: UTF-8 records (write_with_length of encoded text), "
        "a NULL, an empty line, END_OF_DATA_SECTION, END_OF_STREAM",
    )
    lines = ["first line", "", "naïve café ☕", "\U0001F600 emoji", "x" * 300]

    def utf8(f):
        for line in lines:
            S.write_with_length(line.encode("utf-8"), f)
        S.write_int(SL.NULL, f)
        S.write_with_length(b"", f)
        S.write_int(SL.END_OF_DATA_SECTION, f)
        S.write_int(SL.END_OF_STREAM, f)

    s.frames(utf8)
    yield s

    s = Stream(
        "noop_shuffle",
        "NoOpSerializer().dump_stream of the map-side shuffle shape: pack_long(partition) frames "
        "alternating with pickled (k, v) batches",
    )
    parts = [(0, [("a", 1), ("c", 3)]), (1, [("b", 2)]), (0, [("a", 4)])]
    raw = []
    for pid, kvs in parts:
        raw.append(S.pack_long(pid))
        raw.append(cpickle.dumps(kvs))
    s.frames(lambda f: S.NoOpSerializer().dump_stream(raw, f))
    yield s

    s = Stream("noop_empty_frames", "NoOpSerializer().dump_stream([b'ab', b'', b'', b'c'])")
    s.frames(lambda f: S.NoOpSerializer().dump_stream([b"ab", b"", b"", b"c"], f))
    yield s

    s = Stream("marshal_values", "MarshalSerializer().dump_stream([1, 'a', None, [1, 2], {'k': 2.5}])")
    s.frames(lambda f: S.MarshalSerializer().dump_stream([1, "a", None, [1, 2], {"k": 2.5}], f))
    yield s

    s = Stream(
        "compressed_cpickle",
        "CompressedSerializer(CPickleSerializer()).dump_stream: zlib level 1 payloads",
    )
    s.frames(lambda f: S.CompressedSerializer(cpickle).dump_stream([list(range(50)), "text" * 20], f))
    yield s

    s = Stream(
        "chunked_8192",
        "ChunkedStream(out, 8192) over a ~20 KB pickle written in five uneven pieces: chunks 8192, 8192, rest, -1",
    )

    def chunked(f):
        payload = cpickle.dumps(bytes(range(256)) * 78)[:20000]
        cs = S.ChunkedStream(f, 8192)
        pieces = [payload[0:100], payload[100:5000], payload[5000:8192], payload[8192:15000], payload[15000:]]
        for p in pieces:
            cs.write(p)
        cs.close()

    s.frames(chunked)
    yield s

    s = Stream(
        "worker_reply",
        "A worker's reply as worker.py writes it: AutoBatched output, TIMING_DATA and its longs, "
        "END_OF_DATA_SECTION, accumulator updates, END_OF_STREAM (3.5/4.0 timing layout)",
    )
    s.frames(lambda f: S.AutoBatchedSerializer(cpickle).dump_stream(iter(range(40)), f))
    s.frames(lambda f: S.write_int(SL.TIMING_DATA, f))
    for v in (1700000000000, 1700000000012, 1700000000042, 0, 0):
        s.field("i64", v, lambda f, v=v: S.write_long(v, f))
    s.frames(lambda f: S.write_int(SL.END_OF_DATA_SECTION, f))
    s.field("i32", 1, lambda f: S.write_int(1, f))
    s.frames(lambda f: cpickle._write_with_length((0, 3), f))
    s.frames(lambda f: S.write_int(SL.END_OF_STREAM, f))
    yield s

    s = Stream(
        "worker_exception",
        "A worker that failed: one output batch, then PYTHON_EXCEPTION_THROWN and the traceback text",
    )
    s.frames(lambda f: S.AutoBatchedSerializer(cpickle).dump_stream(iter([1]), f))
    try:
        raise ValueError("boom in a lambda: ünïcode")
    except ValueError:
        tb = traceback.format_exc().replace(os.getcwd(), "<cwd>")

    def exc(f):
        S.write_int(SL.PYTHON_EXCEPTION_THROWN, f)
        S.write_with_length(tb.encode("utf-8"), f)

    s.frames(exc)
    yield s

    if hasattr(SL, "START_OF_INIT_MESSAGE"):
        s = Stream(
            "init_message_marker",
            "4.3 only: START_OF_INIT_MESSAGE then a length-prefixed body, as the JVM frames the task header",
        )

        def init(f):
            S.write_int(SL.START_OF_INIT_MESSAGE, f)
            body = io.BytesIO()
            S.write_int(0, body)
            S.write_with_length(b"3.11", body)
            S.write_with_length(b'{"stageId":0}', body)
            S.write_with_length(body.getvalue(), f)
            S.write_int(SL.END_OF_DATA_SECTION, f)
            S.write_int(SL.END_OF_STREAM, f)

        s.frames(init)
        yield s


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    names = []
    for s in streams():
        s.save(out_dir)
        names.append(s.name)
    print("recorded %d streams with pyspark %s into %s" % (len(names), pyspark.__version__, out_dir))


if __name__ == "__main__":
    main()
