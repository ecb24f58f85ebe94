#!/usr/bin/env bash
# Session 6, run 4: the batch-1 `fixed` matvec with its tiles streamed through a shared-memory ring by cp.async
# (fm_fixedc{D}, D tiles ahead, no registers held by tiles in flight) against the register pipeline (CODECLLM_FM_FIXED=regs,
# main's kernel): the decoder tests, ptxas, then TinyLlama and Llama-2 alternating, same card.
set -uo pipefail
source dev/perf/device_env.sh
cp src/CodecLlm/Backends/Cuda/Kernels/fused_matvec.cu /tmp/fm.cu
nvcc -cubin -arch=sm_90 -std=c++17 -DFM_CPA_SWEEP -Xptxas -v -o /tmp/fm.cubin /tmp/fm.cu > /tmp/ptxas.txt 2>&1
for k in fm_fixedc3_a1_w4 fm_fixedc3_a2_w8 fm_fixedc3_a1_w8 fm_fixedc2_a1_w4 fm_fixedc4_a1_w4 fm_fixed_a1_w4; do
  echo "$k: $(grep -A3 "Compiling entry function '$k'" /tmp/ptxas.txt | grep -E 'stack|registers' | sed 's/ptxas info *: //' | tr '\n' ' ')"; done
if [ -z "${RUN4B:-}" ]; then  # run 4b skipped the tests
  timeout 200 dotnet $D/CodecLlm.Tests.dll -class CodecLlm.Tests.Backends.Cuda.GpuDecoderTests > "$OUT/tests.log" 2>&1; echo "== decoder tests rc=$? t=$SECONDS"
  grep -E '\[FAIL\]|Total:' "$OUT/tests.log" | head; grep -A10 '\[FAIL\]' "$OUT/tests.log" | grep -v "^\s*at " | head -30
fi
export CODECLLM_NVRTC_DEFINES=-DFM_CPA_SWEEP
bb() { CODECLLM_FM_FIXED=$2 CODECLLM_FM_FIXED_DEPTH=$3 bf "$1" "$4" "$2 $3"; }
bb tl_c3 "" 3 tinyllama-1.1b
bb tl_regs regs 3 tinyllama-1.1b
bb tl_c2 "" 2 tinyllama-1.1b
if [ -z "${RUN4B:-}" ]; then bb tl_c4 "" 4 tinyllama-1.1b; else bb tl_regs2 regs 3 tinyllama-1.1b; fi
bb tl_c3b "" 3 tinyllama-1.1b
bb l2_c3 "" 3 llama-2-7b
bb l2_regs regs 3 llama-2-7b
echo "t=$SECONDS"
