#!/usr/bin/env bash
# Session 22 call 7: the review's Gemm tidy-up and RMSNorm / SwiGLU writing the prefill GEMM's hi and lo halves themselves
# (rmsnorm_split, swiglu_split) -- every CUDA test (HF reference included); 512-token prefill against call 6's build
# (.devrun-v/old = its CodecLlm.dll), alternating; the kernel-time breakdown; the standard TinyLlama bench.
set -uo pipefail
source dev/perf/device_env.sh
q
cuda_tests 330
grep -E "Total:" "$OUT/tests.log" > "$OUT/tests_summary.txt"
overlay /tmp/old .devrun-v/old
for i in 1 2; do
  D=/tmp/old pf tl_old$i tinyllama-1.1b 32 X=old
  pf tl_new$i tinyllama-1.1b 32 X=new
done
D=/tmp/old pf l7_old llama-2-7b 16 X=old
pf l7_new llama-2-7b 16 X=new
ncu_prefill 1500
bf tl_fixed tinyllama-1.1b
sed -n '/^variant/,/^$/p' "$OUT/bench_tl_fixed.txt"
q
