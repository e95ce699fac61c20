#!/usr/bin/env bash
# Seeds fuzz/corpus/<target>/ from the golden streams recorded by real PySpark,
# one file per distinct stream, named <stream>.<pyspark version>.bin. Streams over
# 32 KiB are left out to keep fuzzing iterations fast.
#
#   scripts/seed-fuzz-corpus.sh [SECTION...]   sections: framing pickle streams
#                                              worker header host_reply pcap py4j
#                                              (default: all of them)
set -euo pipefail
cd "$(dirname "$0")/.."
sections="${*:-framing pickle streams worker header host_reply pcap py4j}"
want() { case " $sections " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
declare -A seen
if want framing; then
for target in frame_decoder chunked_decoder utf8_records; do
  mkdir -p "fuzz/corpus/$target"
done
for f in tests/golden/framing/pyspark-*/*.bin; do
  size=$(stat -c %s "$f")
  [ "$size" -gt 0 ] && [ "$size" -le 32768 ] || continue
  sum=$(sha256sum "$f" | cut -c1-16)
  [ -z "${seen[$sum]:-}" ] || continue
  seen[$sum]=1
  version=$(basename "$(dirname "$f")" | sed 's/^pyspark-//')
  name="$(basename "$f" .bin).$version.bin"
  cp "$f" "fuzz/corpus/frame_decoder/$name"
  case "$name" in
    chunked_*) cp "$f" "fuzz/corpus/chunked_decoder/$name" ;;
    utf8_*) cp "$f" "fuzz/corpus/utf8_records/$name" ;;
  esac
done
mkdir -p fuzz/corpus/auth_server
printf '\0\0\0\x200123456789abcdef0123456789abcdef' > fuzz/corpus/auth_server/right-secret.bin
printf '\0\0\0\x20wrong-secret-of-the-right-length' > fuzz/corpus/auth_server/wrong-secret.bin
printf '\x7f\xff\xff\xffAAAA' > fuzz/corpus/auth_server/lying-length.bin
fi
py="${SPARKWIRE_PY_4_3_0:-$HOME/.cache/sparkwire/venv/pyspark-4.3.0/bin/python}"
if want pickle; then
# Real pickles from CPython and PySpark's cloudpickle.
"$py" scripts/seed_pickle_corpus.py fuzz/corpus
ls fuzz/corpus/* | head -100
fi
if want streams; then
# Streams written by the real pyspark.serializers, for the serializer-layer targets.
"$py" scripts/seed_stream_corpus.py fuzz/corpus
fi
if want worker; then
# Worker connections: tasks we send to the real pyspark.worker of each pinned
# release, and what it answers (recorded by the real-worker test).
rm -rf fuzz/corpus/worker_streams
SPARKWIRE_RECORD_CORPUS="$PWD/fuzz/corpus" cargo test -q -p sparkwire-worker --test real_worker >/dev/null
# Real Spark worker connections (tests/golden/worker), without their auth prelude.
i=0
for d in tests/golden/worker/spark-*; do
  v=$(basename "$d" | sed 's/^spark-//')
  idx=$(case "$v" in 3.5*) echo 0;; 4.0*) echo 1;; 4.1*) echo 2;; 4.2*) echo 3;; *) echo 4;; esac)
  for f in "$d"/*/to_worker.*.bin; do
    { printf "\\x$(printf %02x $((idx * 2)))\\x40"; tail -c +7 "$f"; } > "fuzz/corpus/worker_streams/spark-$v-$i-to.bin"
    g="${f/to_worker/from_worker}"
    { printf "\\x$(printf %02x $((idx * 2 + 1)))\\x40"; tail -c +73 "$g"; } > "fuzz/corpus/worker_streams/spark-$v-$i-from.bin"
    i=$((i + 1))
  done
done
# Large seeds slow the fuzzer down more than they help.
find fuzz/corpus/worker_streams -size +32k -delete
fi
if want header; then
# Task headers (header_prefix): the first task of each real Spark connection in
# simple mode (its prelude is the 6-byte "ok"), the version selector first.
rm -rf fuzz/corpus/header_prefix
mkdir -p fuzz/corpus/header_prefix
for d in tests/golden/worker/spark-*; do
  v=$(basename "$d" | sed 's/^spark-//')
  idx=$(case "$v" in 3.5*) echo 0;; 4.0*) echo 1;; 4.1*) echo 2;; 4.2*) echo 3;; *) echo 4;; esac)
  for f in "$d"/*/to_worker.*.bin; do
    [ "$(head -c 6 "$f" | od -An -tx1 | tr -d ' \n')" = 000000026f6b ] || continue
    job=$(basename "$(dirname "$f")")
    { printf "\\x$(printf %02x "$idx")"; tail -c +7 "$f" | head -c 16384; } \
      > "fuzz/corpus/header_prefix/spark-$v-$job-$(basename "$f" .bin).bin"
  done
done
fi
if want host_reply; then
# The host's reply handling (host_reply): what real workers answered, behind a
# daemon-style handshake (pid, then "ok"); a simple worker's secret and pid are
# turned into that form, since the target's secret is not the recorded one.
rm -rf fuzz/corpus/host_reply
mkdir -p fuzz/corpus/host_reply
i=0
for d in tests/golden/worker/spark-*; do
  v=$(basename "$d" | sed 's/^spark-//')
  idx=$(case "$v" in 3.5*) echo 0;; 4.0*) echo 1;; 4.1*) echo 2;; 4.2*) echo 3;; *) echo 4;; esac)
  for g in "$d"/*/from_worker.*.bin; do
    out="fuzz/corpus/host_reply/spark-$v-$i.bin"
    if [ "$(od -An -tx1 -N4 "$g" | tr -d ' \n')" = "00000040" ]; then
      { printf "\\x$(printf %02x "$idx")\\x00\\x40"; tail -c +69 "$g" | head -c 4; printf '\0\0\0\x02ok'; tail -c +73 "$g"; } > "$out"
    else
      { printf "\\x$(printf %02x "$idx")\\x00\\x40"; cat "$g"; } > "$out"
    fi
    i=$((i + 1))
  done
done
find fuzz/corpus/host_reply -size +32k -delete
fi
if want pcap; then
# Real loopback captures, one connection per seed.
rm -rf fuzz/corpus/pcap_decode
"$py" scripts/seed_pcap_corpus.py tests/golden/pcap fuzz/corpus
fi
if want py4j; then
# Py4J conversations of real PySpark drivers (tests/golden/py4j): what Python
# wrote for py4j_command, what the JVM wrote for py4j_reply. Both targets read a
# control byte first; 0 means the default limits, and for py4j_command the
# to-Java direction. The hand-written seeds stay; the recorded ones (golden-*)
# are replaced.
mkdir -p fuzz/corpus/py4j_command fuzz/corpus/py4j_reply fuzz/corpus/py4j_session
rm -f fuzz/corpus/py4j_command/golden-* fuzz/corpus/py4j_reply/golden-* fuzz/corpus/py4j_session/golden-*
for f in tests/golden/py4j/pyspark-*/*/C*.bin; do
  size=$(stat -c %s "$f")
  [ "$size" -gt 0 ] && [ "$size" -le 32768 ] || continue
  sum=$(sha256sum "$f" | cut -c1-16)
  [ -z "${seen[$sum]:-}" ] || continue
  seen[$sum]=1
  program=$(basename "$(dirname "$f")")
  version=$(basename "$(dirname "$(dirname "$f")")" | sed 's/^pyspark-//')
  conn=$(basename "$f" | cut -d. -f1)
  case "$f" in
    *.to_java.bin) target=py4j_command dir=to_java ;;
    *) target=py4j_reply dir=to_python ;;
  esac
  { printf '\0'; cat "$f"; } > "fuzz/corpus/$target/golden-$program.$conn.$dir.$version.bin"
  # py4j_session executes what Python wrote; it reads the stream as it is.
  if [ "$dir" = to_java ]; then
    cp "$f" "fuzz/corpus/py4j_session/golden-$program.$conn.$version.bin"
  fi
done
fi
