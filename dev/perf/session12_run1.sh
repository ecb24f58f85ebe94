#!/usr/bin/env bash
# Session 12, run 1: the SwiGLU epilogue for raw BF16 gate/up too (CODECLLM_GLU_RAW=1), its persistent kernel capped like
# ACT 1 (-DFM_RAWP_CAP_ACTS=10: fm_rawp_a3_w4 96 -> 80 registers, so TinyLlama's 704 pairs fit at once), against main.
# (Run with the switch as it was then: CODECLLM_GLU_RAW=1 turned raw GLU on; main now has it on, =0 turns it off.)
set -uo pipefail
source dev/perf/device_env.sh
C10=-DFM_RAWP_CAP_ACTS=10
bv tl_base tinyllama-1.1b X=0
bv tl_gluraw_cap tinyllama-1.1b CODECLLM_GLU_RAW=1 CODECLLM_NVRTC_DEFINES=$C10
bv tl_gluraw tinyllama-1.1b CODECLLM_GLU_RAW=1
bv tl_base2 tinyllama-1.1b X=0
bv tl_gluraw_cap2 tinyllama-1.1b CODECLLM_GLU_RAW=1 CODECLLM_NVRTC_DEFINES=$C10
bv l2_base llama-2-7b X=0
bv l2_gluraw_cap llama-2-7b CODECLLM_GLU_RAW=1 CODECLLM_NVRTC_DEFINES=$C10
echo "t=$SECONDS"
cat "$OUT"/bench_*.txt > "$OUT/benches.txt"; rm -f "$OUT"/bench_*.txt
