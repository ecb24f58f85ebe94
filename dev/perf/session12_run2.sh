#!/usr/bin/env bash
# Session 12, run 2 (run 1's machine was thermally throttled): the SwiGLU epilogue for raw BF16 gate/up too (main's
# working tree: FM_RAWP_CAP_ACTS = 10, raw GLU on) against session 11's main (CODECLLM_GLU_RAW=0 and
# -DFM_RAWP_CAP_ACTS=2: its kernels byte for byte), alternating; the clocks and temperature before and after.
set -uo pipefail
source dev/perf/device_env.sh
q() { nvidia-smi --query-gpu=temperature.gpu,power.draw,clocks.sm,clocks.mem,clocks_event_reasons.active --format=csv,noheader | tee -a "$OUT/clocks.txt"; }
q
OLD="CODECLLM_GLU_RAW=0 CODECLLM_NVRTC_DEFINES=-DFM_RAWP_CAP_ACTS=2"
bv tl_new tinyllama-1.1b X=0
bv tl_old tinyllama-1.1b $OLD
bv tl_new2 tinyllama-1.1b X=0
bv tl_old2 tinyllama-1.1b $OLD
bv tl_rawglu_uncapped tinyllama-1.1b CODECLLM_NVRTC_DEFINES=-DFM_RAWP_CAP_ACTS=2
q
bv l2_new llama-2-7b X=0
bv l2_old llama-2-7b $OLD
q
echo "t=$SECONDS"
cat "$OUT"/bench_*.txt > "$OUT/benches.txt"; rm -f "$OUT"/bench_*.txt
