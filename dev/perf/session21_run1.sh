#!/usr/bin/env bash
# Session 21 call 1: the entropy decoder's symbol pairs (EN_PAIRS=1: one table lookup decodes two symbols where both
# codes fit in its L bits; u32 table from GpuDecoders.EntropyTable) -- every CUDA test of the branch (HF reference
# included), then the bench's decode rates and `entropy` tok/s: main's CodecLlm.dll (/tmp/old), the branch, and the
# branch with EN_BRANCHLESS=1, alternating; then one `fixed` bench (main's figures unchanged).
set -uo pipefail
source dev/perf/device_env.sh
q
overlay /tmp/old .devrun-v/old
cuda_tests 330
for k in 1 2; do
  D=/tmp/old be tl_old_$k tinyllama-1.1b
  be tl_new_$k tinyllama-1.1b
  CODECLLM_NVRTC_DEFINES=-DEN_BRANCHLESS=1 be tl_nbl_$k tinyllama-1.1b
done
q
D=/tmp/old be l2_old llama-2-7b
be l2_new llama-2-7b
CODECLLM_NVRTC_DEFINES=-DEN_BRANCHLESS=1 be l2_nbl llama-2-7b
bf tl_fixed tinyllama-1.1b
q
