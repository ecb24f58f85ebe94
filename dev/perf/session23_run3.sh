#!/usr/bin/env bash
# Session 23 call 3: attention_decode split over positions (128 a block, the last block combining; CODECLLM_ATTN_SPLIT=0:
# one block a head, as before) -- the kernel, session, batch and F16/F32 session test classes; decode after 2000- and
# 512-token prompts and the standard bench, split against unsplit, alternating.
set -uo pipefail
source dev/perf/device_env.sh
q
TEST_TIMEOUT=260 classes $D k CudaKernelTests CudaSessionTests CudaF16F32SessionTests CudaBatchTests
for i in 1 2; do
  ctx c2000_split$i 2000 32 X=split
  ctx c2000_off$i 2000 32 CODECLLM_ATTN_SPLIT=0
done
ctx c512_split 512 128 X=split
ctx c512_off 512 128 CODECLLM_ATTN_SPLIT=0
ctx c32_split 32 128 X=split
ctx c32_off 32 128 CODECLLM_ATTN_SPLIT=0
timeout 300 dotnet $D/CodecLlm.Cli.dll bench --device cuda --prompt-tokens 2000 --synthetic llama-2-7b --new-tokens 16 --codec fixed > "$OUT/bench_l7_c2000.txt" 2>&1
echo "== l7 c2000"; sed -n '/^variant/,/^$/p' "$OUT/bench_l7_c2000.txt" | head -4
q
