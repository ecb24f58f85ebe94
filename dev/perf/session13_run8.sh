#!/usr/bin/env bash
# Session 13, run 8 (branch late-input = main + FM_LATE_INPUT_ACTS): batch-1 `fixed` kernels load a tile's input before
# its decode and transform it after. NVRTC 13's registers; TinyLlama alternating mask 10 (default: ACT 1 and 3) / 0
# (main's kernels) / 2 / 8; Llama-2 10 / 0; every CUDA test of the build.
set -uo pipefail
source dev/perf/device_env.sh
q() { nvidia-smi --query-gpu=temperature.gpu,power.draw,clocks.sm,clocks.mem,clocks_event_reasons.active --format=csv,noheader | tee -a "$OUT/clocks.txt"; }
q
K=src/CodecLlm/Backends/Cuda/Kernels
for m in 10 0; do
  python3 dev/perf/nvrtc_dump.py /usr/local/cuda/lib64/libnvrtc.so.13 $K/fused_matvec.cu $OUT/fm_m$m -DFM_LATE_INPUT_ACTS=$m 2>&1 | head -5
  echo "== mask $m"; cuobjdump -res-usage $OUT/fm_m$m.cubin 2>&1 | grep -A1 -E 'fm_fixed_a[013]_w[48]\b' | grep -oE 'Function [a-z0-9_]+|REG:[0-9]+|STACK:[0-9]+' | paste - - -
done | tee $OUT/regs.txt
rm -f $OUT/*.cubin $OUT/*.ptx
L() { bv "$1" "$2" CODECLLM_NVRTC_DEFINES=-DFM_LATE_INPUT_ACTS=$3; }
L tl_m10a tinyllama-1.1b 10
L tl_m0a tinyllama-1.1b 0
L tl_m2 tinyllama-1.1b 2
L tl_m8 tinyllama-1.1b 8
L tl_m10b tinyllama-1.1b 10
L tl_m0b tinyllama-1.1b 0
q
BENCH_TIMEOUT=150 L l2_m10 llama-2-7b 10
BENCH_TIMEOUT=150 L l2_m0 llama-2-7b 0
q
cuda_tests 200
cat "$OUT"/bench_*.txt > "$OUT/benches.txt"; rm -f "$OUT"/bench_*.txt
echo "t=$SECONDS"
