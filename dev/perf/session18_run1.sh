#!/usr/bin/env bash
# Prepared in session 17 (NOT YET RUN): FM_GLU_PRE_TILES=2, the SwiGLU `fixed` kernel (W = 4: TinyLlama's gate/up, 4 tiles of
# each matrix a warp) decoding the gate's and the up projection's first two tiles before griddepcontrol.wait instead of
# one (NVRTC 11.8: 80 registers, stack 16 -> 32 bytes, 34.6 KB of shared memory; the default build's SASS is main's).
# Prediction: the gate/up launch loses ~2 tile decodes of its 8 from the path after the wait; TinyLlama `fixed` +1-3 %.
# One device call: the fused kernels' and the engine's tests with it on, then TinyLlama alternating it with main, then
# Llama-2-7B (W = 4 gate/up, 8 tiles of each matrix a warp).
set -uo pipefail
source dev/perf/device_env.sh
q
(export CODECLLM_NVRTC_DEFINES="-DFM_GLU_PRE_TILES=2"; classes $D pt2 GpuDecoderTests CudaSessionTests)
for i in 1 2 3; do
  bf tl_main_$i tinyllama-1.1b main
  bd tl_pt2_$i tinyllama-1.1b "-DFM_GLU_PRE_TILES=2"
done
q
bf l2_main llama-2-7b main
bd l2_pt2 llama-2-7b "-DFM_GLU_PRE_TILES=2"
cat "$OUT"/bench_*.txt > "$OUT/benches.txt"; rm -f "$OUT"/bench_*.txt
q
echo "t=$SECONDS"
