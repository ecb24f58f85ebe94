#!/usr/bin/env bash
# Verification run of main on the GPU machine: every CUDA test (HF transformers reference first), the serve --batching
# GPU test, dev/cuda/prod_check, then the bench figures (TinyLlama twice, Llama-2, TinyLlama batches 2/4/8).
set -uo pipefail
source dev/perf/device_env.sh
cuda_tests 280
echo "t=$SECONDS"
timeout 120 dotnet $D/CodecLlm.Tests.dll -class CodecLlm.Tests.Server.ServeCommandTests > "$OUT/serve.log" 2>&1; echo "== serve tests rc=$?"
grep -E '\[FAIL\]|\[SKIP\]|Total:' "$OUT/serve.log"; grep -A8 '\[FAIL\]' "$OUT/serve.log" | grep -v "^\s*at " | head -20
prod_check
b tl --synthetic tinyllama-1.1b --new-tokens 128 --codec fixed,entropy
b tl2 --synthetic tinyllama-1.1b --new-tokens 128 --codec fixed
b l2 --synthetic llama-2-7b --new-tokens 128 --codec fixed
for B in 2 4 8; do b tl_b$B --synthetic tinyllama-1.1b --new-tokens 64 --codec fixed --batch $B | grep -E "^==|^uncompressed|^fixed"; done
echo "t=$SECONDS"
cat "$OUT"/bench_tl_b*.txt > "$OUT/bench_batches.txt" && rm -f "$OUT"/bench_tl_b*.txt  # the device tool returns at most 8 files
