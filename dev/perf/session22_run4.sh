#!/usr/bin/env bash
# Session 22 call 4: f16/bf16 prefill GEMMs once over [hi | lo] (add_halves) on top of the tiled prefill attention -- the
# kernel, session, batch, F16/F32 and HF transformers tests; 512-token prefill against two GEMM calls
# (CODECLLM_PREFILL_GEMM_PAIRS=0) in alternating processes, Llama-2-7B once each; the kernel-time breakdown; the standard
# 32-token bench.
set -uo pipefail
source dev/perf/device_env.sh
q
hf_classes k CudaKernelTests CudaSessionTests CudaF16F32SessionTests CudaBatchTests HfTransformersComparisonTests
for i in 1 2; do
  pf tl_new$i tinyllama-1.1b 32 X=1
  pf tl_old$i tinyllama-1.1b 32 CODECLLM_PREFILL_GEMM_PAIRS=0
done
pf l7_new llama-2-7b 16 X=1
pf l7_old llama-2-7b 16 CODECLLM_PREFILL_GEMM_PAIRS=0
ncu_prefill 1500
bf tl_p32 tinyllama-1.1b
sed -n '/^variant/,/^$/p' "$OUT/bench_tl_p32.txt"
q
