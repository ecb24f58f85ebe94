#!/usr/bin/env bash
# Session 22 call 3: the tiled prefill attention (attention_prefill.cu) -- kernel, session, batch, F16/F32 and HF
# transformers tests; then 512-token prefill rates against the general kernel (CODECLLM_PREFILL_ATTN_GENERAL=1) in
# alternating processes, Llama-2-7B once each; the kernel-time breakdown of the new prefill (Nsight Compute).
set -uo pipefail
source dev/perf/device_env.sh
q
hf_classes k CudaKernelTests CudaSessionTests CudaF16F32SessionTests CudaBatchTests HfTransformersComparisonTests
pf tl_new1 tinyllama-1.1b 32 X=1
pf tl_old1 tinyllama-1.1b 32 CODECLLM_PREFILL_ATTN_GENERAL=1
pf tl_new2 tinyllama-1.1b 32 X=1
pf l7_new llama-2-7b 16 X=1
pf l7_old llama-2-7b 16 CODECLLM_PREFILL_ATTN_GENERAL=1
ncu_prefill 1700
q
