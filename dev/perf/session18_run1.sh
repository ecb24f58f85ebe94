#!/usr/bin/env bash
# Prepared in session 17 (NOT YET RUN): two more predecode levers for the batch-1 `fixed` kernels, both off by default
# (the default build's SASS is main's under NVRTC 11.8; dev/perf/levers_model.py checks both walks for 0..31 tiles):
#   GLU2: -DFM_GLU_PRE_TILES=2, the SwiGLU kernel at W = 4 (TinyLlama's gate/up: 4 tiles of each matrix a warp) decodes
#         the gate's and the up projection's first two tiles before griddepcontrol.wait instead of one (NVRTC 11.8: 80
#         registers, stack 16 -> 32 bytes, 34.6 KB of shared memory);
#   A0S4: -DFM_PRE_SLOTS_A0=4 (CudaOps reads it from CODECLLM_NVRTC_DEFINES too), the o and down kernels decode four tiles a warp before the
#         wait instead of two (TinyLlama's down walks 5-6 a warp at W = 8), staged in 66.5 KB of dynamic shared memory
#         (NVRTC 11.8: 80 registers, no stack; 3 blocks a SM as before, bound by registers).
# Prediction: each takes ~2 tile decodes a warp off the path after the wait of its launches; TinyLlama `fixed` +1-3 %
# each, Llama-2-7B unchanged. One device call: the fused kernels' and the engine's tests with both on, then TinyLlama
# alternating main, GLU2, A0S4 and both, then Llama-2-7B main and both.
set -uo pipefail
source dev/perf/device_env.sh
q
GLU2="-DFM_GLU_PRE_TILES=2"
(export CODECLLM_NVRTC_DEFINES="$GLU2 -DFM_PRE_SLOTS_A0=4"; classes $D both GpuDecoderTests CudaSessionTests)
a0s4() { bd "$1" "$2" "$3 -DFM_PRE_SLOTS_A0=4"; }
for i in 1 2; do
  bf tl_main_$i tinyllama-1.1b main
  bd tl_glu2_$i tinyllama-1.1b "$GLU2"
  a0s4 tl_a0s4_$i tinyllama-1.1b ""
  a0s4 tl_both_$i tinyllama-1.1b "$GLU2"
done
q
bf l2_main llama-2-7b main
a0s4 l2_both llama-2-7b "$GLU2"
cat "$OUT"/bench_*.txt > "$OUT/benches.txt"; rm -f "$OUT"/bench_*.txt
q
echo "t=$SECONDS"
