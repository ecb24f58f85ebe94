#!/usr/bin/env bash
# Session 22 call 5: add_halves with a 2-D grid (a block row a token, no division an element) -- the kernel, session,
# F16/F32 and HF transformers tests; 512-token prefill against two GEMM calls (CODECLLM_PREFILL_GEMM_PAIRS=0), alternating;
# Llama-2-7B; the kernel-time breakdown.
set -uo pipefail
source dev/perf/device_env.sh
q
hf_classes k CudaKernelTests CudaSessionTests CudaF16F32SessionTests HfTransformersComparisonTests
pf tl_new1 tinyllama-1.1b 32 X=1
pf tl_old1 tinyllama-1.1b 32 CODECLLM_PREFILL_GEMM_PAIRS=0
pf tl_new2 tinyllama-1.1b 32 X=1
pf l7_new llama-2-7b 16 X=1
ncu_prefill 1500
q
