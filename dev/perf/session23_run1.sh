#!/usr/bin/env bash
# Session 23 call 1: the fused session's one-slot prefill pipeline decoding on the compute stream (CODECLLM_PREFILL_INLINE=0:
# the second stream, as before) and o/gate/up/down's prefill GEMMs writing [hi | lo] rows that the residual add and SwiGLU
# sum (no add_halves for them) -- the kernel, session, batch and HF test classes; 512-token prefill against main's build
# (.devrun-v/old = d3b1643's CodecLlm.dll), alternating; the standard TinyLlama bench.
set -uo pipefail
source dev/perf/device_env.sh
q
TEST_TIMEOUT=260 hf_classes k CudaKernelTests CudaSessionTests CudaF16F32SessionTests CudaBatchTests HfTransformersComparisonTests
overlay /tmp/old .devrun-v/old
for i in 1 2; do
  D=/tmp/old pf tl_old$i tinyllama-1.1b 32 X=old
  pf tl_new$i tinyllama-1.1b 32 X=new
done
pf tl_noinl tinyllama-1.1b 32 CODECLLM_PREFILL_INLINE=0
D=/tmp/old pf l7_old llama-2-7b 16 X=old
pf l7_new llama-2-7b 16 X=new
q
