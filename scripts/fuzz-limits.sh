# Sourced by scripts/test.sh and scripts/fuzz-campaign.sh: the libFuzzer memory
# limits every fuzz target runs under.
#
# Every decoder is bounded by the bytes that actually arrived, never by a length
# the input declares (the guarantee under test), and no seed is larger than
# 1 MiB (libFuzzer keeps new inputs to the size of the largest seed, 4 KiB at
# least). So no single allocation needs more than a small multiple of the
# input: 64 MiB is 64 × the largest input, and a malloc above it means a
# declared length was trusted. libFuzzer applies -malloc_limit_mb only through a
# sanitizer's malloc hooks and ignores it silently in a build without one (the
# campaign's pickle targets, `-s none`): there fuzz/src/lib.rs's allocator
# aborts above the same 64 MiB (MAX_ALLOC, keep the two equal). -rss_limit_mb
# works in every build. The RSS bound covers AddressSanitizer's shadow
# memory, libFuzzer's corpus and the pickle targets' graphs (pickle::Limits in
# fuzz/src/lib.rs: 2^16 nodes, 2^16 expanded repr items): about 500 MiB seen in
# long runs.
fuzz_limits() {
  printf '%s\n' "-malloc_limit_mb=64" "-rss_limit_mb=1536"
}
