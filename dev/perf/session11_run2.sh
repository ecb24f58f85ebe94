#!/usr/bin/env bash
# Session 11, run 2: tail and latency knobs, A/B on one card: the persistent raw matvec's balanced grid
# (CODECLLM_FM_BALANCED=1), attention blocks of 256 / 128 threads (CODECLLM_ATTN_THREADS), the persistent raw kernels'
# register cap (-DFM_RAWP_SM_THREADS=768: 6 blocks of 4 warps a SM for the RMSNorm-input kernels); TinyLlama, then Llama-2.
set -uo pipefail
source dev/perf/device_env.sh
bv tl_base tinyllama-1.1b X=0
bv tl_bal tinyllama-1.1b CODECLLM_FM_BALANCED=1
bv tl_att256 tinyllama-1.1b CODECLLM_ATTN_THREADS=256
bv tl_att128 tinyllama-1.1b CODECLLM_ATTN_THREADS=128
bv tl_cap768 tinyllama-1.1b CODECLLM_NVRTC_DEFINES=-DFM_RAWP_SM_THREADS=768
bv tl_capbal tinyllama-1.1b CODECLLM_NVRTC_DEFINES=-DFM_RAWP_SM_THREADS=768 CODECLLM_FM_BALANCED=1
bv tl_base2 tinyllama-1.1b X=0
bv tl_bal2 tinyllama-1.1b CODECLLM_FM_BALANCED=1
bv tl_att128b tinyllama-1.1b CODECLLM_ATTN_THREADS=128
bv l2_base llama-2-7b X=0
bv l2_bal llama-2-7b CODECLLM_FM_BALANCED=1
bv l2_cap768 llama-2-7b CODECLLM_NVRTC_DEFINES=-DFM_RAWP_SM_THREADS=768
echo "t=$SECONDS"
cat "$OUT"/bench_tl_*.txt > "$OUT/benches_tl.txt"; cat "$OUT"/bench_l2_*.txt > "$OUT/benches_l2.txt"; rm -f "$OUT"/bench_*.txt
