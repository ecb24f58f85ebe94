#!/usr/bin/env bash
# Session 16 run 2 (branch glu-split): the batch-1 `fixed` SwiGLU kernels with blocks of 2W warps (gate's W warps, up's
# W warps; CODECLLM_GLU_SPLIT=1) against main's interleaved kernel, alternating: its bit identity (GPU tests with the
# switch on), 80 registers (768 threads a SM), 64 (1024) and two tiles ahead; then TinyLlama's q/k/v, o and down at 4 and
# at 16 warps a row group (raw and `fixed` alike), and Llama-2-7B with and without the split.
set -uo pipefail
source dev/perf/device_env.sh
q
(export CODECLLM_GLU_SPLIT=1; classes $D split GpuDecoderTests CudaSessionTests)
for i in 1 2; do
  bf tl_base_$i tinyllama-1.1b base
  bv tl_split_$i tinyllama-1.1b CODECLLM_GLU_SPLIT=1
  bv tl_split64_$i tinyllama-1.1b CODECLLM_GLU_SPLIT=1 CODECLLM_NVRTC_DEFINES=-DFM_FIXED_GLU_SPLIT_SM_THREADS=1024
  bv tl_split2_$i tinyllama-1.1b CODECLLM_GLU_SPLIT=1 CODECLLM_NVRTC_DEFINES=-DFM_SPLIT_TWO=1
done
q
bv tl_w4 tinyllama-1.1b CODECLLM_FM_W4_GROUPS=256
bv tl_w16 tinyllama-1.1b CODECLLM_FM_W8_GROUPS=400
bf l2_base llama-2-7b base
bv l2_split llama-2-7b CODECLLM_GLU_SPLIT=1
q
cat "$OUT"/bench_*.txt > "$OUT/benches.txt"; rm -f "$OUT"/bench_*.txt
echo "t=$SECONDS"
