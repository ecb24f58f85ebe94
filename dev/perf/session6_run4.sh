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
timeout 200 dotnet $D/CodecLlm.Tests.dll -class CodecLlm.Tests.Backends.Cuda.GpuDecoderTests > "$OUT/tests.log" 2>&1; echo "== decoder tests rc=$? t=$SECONDS"
grep -E '\[FAIL\]|Total:' "$OUT/tests.log" | head; grep -A10 '\[FAIL\]' "$OUT/tests.log" | grep -v "^\s*at " | head -30
export CODECLLM_NVRTC_DEFINES=-DFM_CPA_SWEEP
bb() { local n=$1 kern=$2 depth=$3 m=$4; CODECLLM_FM_FIXED=$kern CODECLLM_FM_FIXED_DEPTH=$depth timeout 200 dotnet $D/CodecLlm.Cli.dll bench --device cuda --prompt-tokens 32 --synthetic $m --new-tokens 128 --codec fixed > "$OUT/bench_$n.txt" 2>&1
  echo "== $n [$kern $depth] t=$SECONDS"; grep -E "^uncompressed |^fixed \(fused|^matvec fused|rror" "$OUT/bench_$n.txt"; }
bb tl_c3 "" 3 tinyllama-1.1b
bb tl_regs regs 3 tinyllama-1.1b
bb tl_c2 "" 2 tinyllama-1.1b
bb tl_c4 "" 4 tinyllama-1.1b
bb tl_c3b "" 3 tinyllama-1.1b
bb l2_c3 "" 3 llama-2-7b
bb l2_regs regs 3 llama-2-7b
echo "t=$SECONDS"
