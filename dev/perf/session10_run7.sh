#!/usr/bin/env bash
# Session 10, run 7 (branch two-ahead = main + FM_TWO_AHEAD_ACTS = 3: the ACT 0 and ACT 1 fused kernels fetch two tiles
# before griddepcontrol.wait): every CUDA test, the serve tests, the bench figures (TinyLlama with entropy, Llama-2,
# batches 2/4/8), the mask against 0 (= main's cubin) on both models, prod_check.
set -uo pipefail
source dev/perf/device_env.sh
cuda_tests 230
serve_tests
b tl --synthetic tinyllama-1.1b --new-tokens 128 --codec fixed,entropy
bd tl_m0 tinyllama-1.1b "-DFM_TWO_AHEAD_ACTS=0"
bd tl_m3 tinyllama-1.1b ""
bd l2_m3 llama-2-7b ""
bd l2_m0 llama-2-7b "-DFM_TWO_AHEAD_ACTS=0"
for B in 2 4 8; do b tl_b$B --synthetic tinyllama-1.1b --new-tokens 64 --codec fixed --batch $B | grep -E "^==|^uncompressed|^fixed"; done
echo "t=$SECONDS"
cat "$OUT"/bench_tl_b*.txt > "$OUT/benches_batches.txt"; rm -f "$OUT"/bench_tl_b*.txt
cat "$OUT"/bench_tl_*.txt > "$OUT/benches_tl_ab.txt"; rm -f "$OUT"/bench_tl_*.txt
cat "$OUT"/bench_l2*.txt > "$OUT/benches_l2.txt"; rm -f "$OUT"/bench_l2*.txt
prod_check
echo "t=$SECONDS"
