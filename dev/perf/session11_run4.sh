#!/usr/bin/env bash
# Session 11, run 4 (main at the fixed_decode parameter mend): the HF transformers reference, every CUDA test, the serve
# tests, one TinyLlama bench.
set -uo pipefail
source dev/perf/device_env.sh
cuda_tests 240
serve_tests
bf tl tinyllama-1.1b main
echo "t=$SECONDS"
mv "$OUT/bench_tl.txt" "$OUT/benches_tl.txt"
