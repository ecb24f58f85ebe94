#!/usr/bin/env bash
# Session 14, run 4: the build of d1f766c (branch glu-interleave, main's candidate): every CUDA test, the serve tests,
# TinyLlama and the batches 2, 4, 8.
set -uo pipefail
source dev/perf/device_env.sh
q
cuda_tests 200
serve_tests
bv tl tinyllama-1.1b X=0
for B in 2 4 8; do b tl_b$B --synthetic tinyllama-1.1b --new-tokens 64 --codec fixed --batch $B | grep -E "^==|^uncompressed|^fixed"; done
q
cat "$OUT"/bench_*.txt > "$OUT/benches.txt"; rm -f "$OUT"/bench_*.txt
echo "t=$SECONDS"
