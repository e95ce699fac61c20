#!/usr/bin/env bash
# Records what `sparkwire decode` prints (text and JSON) for every bundled capture:
# the example, each golden worker transcript and each golden pcap/pcapng file.
# tests/cli_decode_expected.rs compares the CLI's output with these files, so a
# refactoring that changes a single character of `decode`'s output fails a test.
# Re-run this script only when a change of the output is intended, and review the diff.
#
# Usage: scripts/record-decode-expected.sh   (builds the release binary with cargo)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin sparkwire
bin="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/sparkwire"
out=tests/golden/decode
rm -rf "$out"
mkdir -p "$out"

# One line per input: NAME PATH; the names are the expected files' stems.
inputs() {
  echo "example examples/capture-spark-4.3.0"
  for d in tests/golden/worker/spark-*/*/; do
    d=${d%/}
    rel=${d#tests/golden/worker/}
    echo "worker-${rel//\//-} $d"
  done
  for f in tests/golden/pcap/spark-*.pcap tests/golden/pcap/spark-*.pcapng; do
    echo "pcap-$(basename "$f" | tr . _) $f"
  done
}

inputs | while read -r name path; do
  for format in text json; do
    # decode exits 0 on a complete decode; anything else is recorded too (a `.status`
    # file holds a non-zero exit status) so that the test checks failures as well.
    set +e
    "$bin" decode "$path" --format "$format" >"$out/$name.$format" 2>"$out/$name.$format.stderr"
    status=$?
    set -e
    [ "$status" = 0 ] || echo "$status" >"$out/$name.$format.status"
    [ -s "$out/$name.$format.stderr" ] || rm "$out/$name.$format.stderr"
  done
  echo "$name $path" >>"$out/INPUTS"
done
echo "recorded $(wc -l <"$out/INPUTS") inputs into $out" >&2
