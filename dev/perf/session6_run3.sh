#!/usr/bin/env bash
# Session 6, run 3: persistent blocks for the batch-1 `fixed` matvec (fm_engine_fixed_persistent, escape window
# fetched with each tile): the fused-matvec GPU tests, then TinyLlama and Llama-2 alternating persistent (default) and
# one block per group (CODECLLM_FM_FIXED_GRID=groups, main's kernel), same card.
set -uo pipefail
source dev/perf/device_env.sh
cp src/CodecLlm/Backends/Cuda/Kernels/fused_matvec.cu /tmp/fm.cu
nvcc -cubin -arch=sm_90 -std=c++17 -Xptxas -v -o /tmp/fm.cubin /tmp/fm.cu > /tmp/ptxas.txt 2>&1
for k in fm_fixedp_a1_w4 fm_fixedp_a2_w8 fm_fixedp_a1_w8 fm_fixedp_a0_w8 fm_fixed_a1_w4; do
  echo "$k: $(grep -A3 "Compiling entry function '$k'" /tmp/ptxas.txt | grep -E 'stack|registers' | sed 's/ptxas info *: //' | tr '\n' ' ')"; done
timeout 200 dotnet $D/CodecLlm.Tests.dll -class CodecLlm.Tests.Backends.Cuda.GpuDecoderTests > "$OUT/tests.log" 2>&1; echo "== decoder tests rc=$? t=$SECONDS"
grep -E '\[FAIL\]|Total:' "$OUT/tests.log" | head; grep -A10 '\[FAIL\]' "$OUT/tests.log" | grep -v "^\s*at " | head -30
bb() { CODECLLM_FM_FIXED_GRID=$2 bf "$1" "$3" "$2"; }
bb tl_p "" tinyllama-1.1b
bb tl_g groups tinyllama-1.1b
bb tl_p2 "" tinyllama-1.1b
bb tl_g2 groups tinyllama-1.1b
bb l2_p "" llama-2-7b
bb l2_g groups llama-2-7b
echo "t=$SECONDS"
