#!/usr/bin/env bash
# Session 8: verification run of main with decode attention v5 (rows staged in shared memory before the wait), in
# order of importance (the device budget may cut it short): every CUDA test with the HF reference, the TinyLlama
# bench, the serve tests, Llama-2, the batches, then TinyLlama alternating with v4 (its CodecLlm.dll in .devrun-v/v4).
set -uo pipefail
source dev/perf/device_env.sh
cuda_tests 200
echo "t=$SECONDS"
b tl --synthetic tinyllama-1.1b --new-tokens 128 --codec fixed,entropy
timeout 120 dotnet $D/CodecLlm.Tests.dll -class CodecLlm.Tests.Server.ServeCommandTests > "$OUT/serve.log" 2>&1; echo "== serve tests rc=$?"
grep -E '\[FAIL\]|Total:' "$OUT/serve.log"
b l2 --synthetic llama-2-7b --new-tokens 128 --codec fixed
for B in 2 4 8; do b tl_b$B --synthetic tinyllama-1.1b --new-tokens 64 --codec fixed --batch $B | grep -E "^==|^uncompressed|^fixed"; done
cat "$OUT"/bench_tl_b*.txt > "$OUT/bench_batches.txt" && rm -f "$OUT"/bench_tl_b*.txt
overlay /tmp/binv4 .devrun-v/v4
D=/tmp/binv4 bf tl_v4 tinyllama-1.1b "v4"
bf tl_v5 tinyllama-1.1b "v5"
echo "t=$SECONDS"
