"""Seeds fuzz/corpus/pcap_decode from the golden loopback captures: one small
classic pcap per TCP connection (its packets only), so each seed is a real,
complete connection of one kind (worker, Py4J, data socket, accumulators).

Usage: python scripts/seed_pcap_corpus.py GOLDEN_PCAP_DIR CORPUS_DIR
"""
import os
import struct
import sys

src, out = sys.argv[1], os.path.join(sys.argv[2], "pcap_decode")


def block(kind, body):
    pad = (-len(body)) % 4
    total = 12 + len(body) + pad
    return struct.pack("<II", kind, total) + body + b"\0" * pad + struct.pack("<I", total)


def pcapng(records):
    """The same packets as pcapng: section header, one Ethernet interface, EPBs."""
    out = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    out += block(1, struct.pack("<HHI", 1, 0, 262144))
    for r in records:
        frame = r[16:]
        body = struct.pack("<IIIII", 0, 0, 0, len(frame), len(frame)) + frame
        out += block(6, body + b"\0" * ((-len(frame)) % 4))
    return out


os.makedirs(out, exist_ok=True)
for name in sorted(os.listdir(src)):
    if not name.endswith(".pcap"):
        continue
    data = open(os.path.join(src, name), "rb").read()
    header, at, flows = data[:24], 24, {}
    while at + 16 <= len(data):
        caplen = struct.unpack("<I", data[at + 8 : at + 12])[0]
        record = data[at : at + 16 + caplen]
        frame = record[16:]
        at += 16 + caplen
        ip = frame[14:]
        tcp = ip[(ip[0] & 15) * 4 :]
        ports = tuple(sorted(struct.unpack(">HH", tcp[:4])))
        flows.setdefault(ports, []).append(record)
    for i, records in enumerate(flows.values()):
        body = header + b"".join(records)
        if len(body) <= 32 * 1024:
            with open(os.path.join(out, "%s-%d.pcap" % (name[:-5], i)), "wb") as f:
                f.write(body)
            with open(os.path.join(out, "%s-%d.pcapng" % (name[:-5], i)), "wb") as f:
                f.write(pcapng(records))
