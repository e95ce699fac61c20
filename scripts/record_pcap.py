"""Captures the loopback traffic of a real local Spark job as pcap and pcapng.

Usage (as root, with the python of a pinned pyspark venv):
    python scripts/record_pcap.py OUT_PREFIX [--expected-only]

Besides the captures it writes OUT_PREFIX.expected.json: what the job computed
(Spark's own results, not typed by hand), which tests/pcap_capture.rs compares
with what the decoded traffic carries. `--expected-only` runs the job without
capturing and writes only that file.

What tcpdump -i lo would record, without needing tcpdump: an AF_PACKET socket on
`lo` sees every Ethernet frame once (the kernel's outgoing copies are skipped,
as libpcap does on loopback). The job covers every kind of connection
`sparkwire decode` recognises: the Py4J gateway, daemon-mode workers, simple
(non-daemon) workers, collect sockets and the accumulator update server.
Frames are written unchanged to OUT_PREFIX.pcap (classic, microseconds) and
OUT_PREFIX.pcapng (one interface, nanosecond timestamps); other programs'
loopback traffic at the same time lands in the file too, as it would with
tcpdump, and is skipped by the decoder as unrecognised.
"""
import json
import os
import platform
import socket
import struct
import sys
import threading
import time

out = os.path.abspath(sys.argv[1])
expected_only = "--expected-only" in sys.argv[2:]
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
if not expected_only:
    sniffer = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sniffer.bind(("lo", 0))
    sniffer.settimeout(0.2)
packets = []
stop = threading.Event()


def sniff():
    while not stop.is_set():
        try:
            data, addr = sniffer.recvfrom(262144)
        except socket.timeout:
            continue
        if addr[2] == PACKET_OUTGOING:
            continue
        packets.append((time.time_ns(), data))


thread = threading.Thread(target=sniff, daemon=True)
if not expected_only:
    thread.start()

from pyspark import SparkConf, SparkContext  # noqa: E402

conf = SparkConf().setMaster("local[1]").setAppName("sparkwire-pcap").set("spark.ui.enabled", "false")
sc = SparkContext(conf=conf)
sc.setLogLevel("ERROR")
acc = sc.accumulator(0)


def count(x):
    acc.add(1)
    return (x % 3, x)


# Daemon-mode workers (the default), a shuffle, a collect socket and the
# accumulator server.
first = sorted(sc.parallelize(range(30), 2).map(count).reduceByKey(lambda a, b: a + b).collect())
assert acc.value == 30, acc.value
sc.stop()
# Simple workers: the worker connects back to the JVM.
sc = SparkContext(conf=conf.set("spark.python.use.daemon", "false"))
sc.setLogLevel("ERROR")
second = sc.parallelize(["x", "y"], 1).map(lambda s: s * 2).collect()
sc.stop()
import pyspark  # noqa: E402

with open(out + ".expected.json", "w") as f:
    json.dump({
        "pyspark": pyspark.__version__,
        "python": platform.python_version(),
        # The first job's collected pairs, the second job's strings, the
        # accumulator's final value: each as Python's repr.
        "first": [repr(x) for x in first],
        "second": [repr(x) for x in second],
        "accumulator": acc.value,
    }, f, indent=1)
    f.write("\n")
if expected_only:
    sys.exit(0)
time.sleep(0.5)
stop.set()
thread.join()

with open(out + ".pcap", "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
    for ts, data in packets:
        f.write(struct.pack("<IIII", ts // 10**9, (ts % 10**9) // 1000, len(data), len(data)))
        f.write(data)


def block(kind, body):
    pad = (-len(body)) % 4
    total = 12 + len(body) + pad
    return struct.pack("<II", kind, total) + body + b"\0" * pad + struct.pack("<I", total)


with open(out + ".pcapng", "wb") as f:
    f.write(block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)))
    # if_tsresol = 9 (nanoseconds), then opt_endofopt.
    f.write(block(1, struct.pack("<HHI", 1, 0, 262144) + struct.pack("<HHB3x", 9, 1, 9) + b"\0\0\0\0"))
    for ts, data in packets:
        body = struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(data), len(data)) + data
        body += b"\0" * ((-len(data)) % 4)
        f.write(block(6, body))
print("captured %d packets: %r %r" % (len(packets), first, second))
