#!/usr/bin/env bash
# Session 15, run 2 (H100): branch s15-scatter's build (.devrun-v/bin) -- every CUDA test, the serve tests -- then main
# (0eb6388: its CodecLlm.dll in .devrun-v/old laid over the build in /tmp/old) against it, alternating: TinyLlama twice,
# Llama-2-7B once, the batches 2, 4, 8.
set -uo pipefail
source dev/perf/device_env.sh
overlay /tmp/old .devrun-v/old
q
cuda_tests 200
serve_tests
old_new "2 4 8"  # the alternation these runs ran, moved into device_env.sh unchanged
q
cat "$OUT"/bench_*.txt > "$OUT/benches.txt"; rm -f "$OUT"/bench_*.txt
echo "t=$SECONDS"
