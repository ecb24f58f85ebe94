#!/usr/bin/env bash
# Session 15, run 1: main (0eb6388: its CodecLlm.dll in .devrun-v/old, laid over the build in /tmp/old) against branch s15-scatter (.devrun-v/bin: the warps' partial sums
# reduced by halving exchanges instead of one butterfly per row, and the fixed tiles fetched from a per-warp pointer),
# alternating builds; then every CUDA test of the new build and its batches.
set -uo pipefail
source dev/perf/device_env.sh
overlay /tmp/old .devrun-v/old
q
old_new "4 8"  # the alternation these runs ran, moved into device_env.sh unchanged
cuda_tests 200
cat "$OUT"/bench_*.txt > "$OUT/benches.txt"; rm -f "$OUT"/bench_*.txt
echo "t=$SECONDS"
