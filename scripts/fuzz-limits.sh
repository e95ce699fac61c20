# Sourced by scripts/test.sh and scripts/fuzz-campaign.sh: the libFuzzer memory
# limits every fuzz target runs under.
#
# Every decoder is bounded by the bytes that actually arrived, never by a length
# the input declares (the guarantee under test), and no input is larger than
# FUZZ_MAX_LEN. So no single allocation needs more than a small multiple of the
# input: 64 MiB is 64 × the largest input, and a malloc above it means a
# declared length was trusted. The RSS bound covers libFuzzer's own corpus and
# the pickle targets' graphs (pickle::Limits in fuzz/src/lib.rs: 2^16 nodes,
# 2^16 expanded repr items), which peak around 500 MiB in long runs.
FUZZ_MAX_LEN=1048576
fuzz_limits() {
  printf '%s\n' "-malloc_limit_mb=64" "-rss_limit_mb=1536" "-max_len=$FUZZ_MAX_LEN"
}
