#!/usr/bin/env bash
# Session 14, run 3 (branch l2-ahead = main d1f766c + FM_L2_AHEAD, default 11; 0 compiles d1f766c's fused kernels): the
# batch-1 `fixed` kernels ask L2 for the tile beyond those in their registers. NVRTC 13 registers, TinyLlama alternating
# off / SwiGLU kernels only (8) / ACT 0, 1, 3 (11), Llama-2 off / 11, every CUDA test and the serve tests of the build.
set -uo pipefail
source dev/perf/device_env.sh
q
K=src/CodecLlm/Backends/Cuda/Kernels
for v in 11 0; do
  python3 dev/perf/nvrtc_dump.py /usr/local/cuda/lib64/libnvrtc.so.13 $K/fused_matvec.cu $OUT/fm -DFM_L2_AHEAD=$v 2>&1 | head -5
  echo "== FM_L2_AHEAD=$v"; cuobjdump -res-usage $OUT/fm.cubin 2>&1 | grep -A1 -E 'fm_fixed_a[013]_w[48]\b' | grep -oE 'Function [a-z0-9_]+|REG:[0-9]+|STACK:[0-9]+' | paste - - -
done > $OUT/regs.txt 2>&1; grep -c STACK $OUT/regs.txt
rm -f $OUT/*.cubin $OUT/*.ptx
for i in 1 2; do
  bv tl_off$i tinyllama-1.1b CODECLLM_NVRTC_DEFINES=-DFM_L2_AHEAD=0
  bv tl_glu$i tinyllama-1.1b CODECLLM_NVRTC_DEFINES=-DFM_L2_AHEAD=8
  bv tl_all$i tinyllama-1.1b X=0
done
q
BENCH_TIMEOUT=150 bv l2_off llama-2-7b CODECLLM_NVRTC_DEFINES=-DFM_L2_AHEAD=0
BENCH_TIMEOUT=150 bv l2_all llama-2-7b X=0
q
cuda_tests 200
serve_tests
q
cat "$OUT"/bench_*.txt > "$OUT/benches.txt"; rm -f "$OUT"/bench_*.txt
echo "t=$SECONDS"
