#!/usr/bin/env bash
# Session 23 call 5: the final code (split attention at 256 positions a block by default) -- the kernel, params, session,
# batch and F16/F32 session test classes; the standard TinyLlama bench, decode after a 2000-token prompt and a
# 512-token prefill.
set -uo pipefail
source dev/perf/device_env.sh
q
TEST_TIMEOUT=280 classes $D k CudaKernelTests BatchKernelParamsTests CudaSessionTests CudaBatchTests CudaF16F32SessionTests
grep -E "Total:" "$OUT/tests_k.log" > "$OUT/tests_summary.txt"
bf tl_std tinyllama-1.1b
sed -n '/^variant/,/^$/p' "$OUT/bench_tl_std.txt"
timeout 200 dotnet $D/CodecLlm.Cli.dll bench --device cuda --prompt-tokens 2000 --synthetic tinyllama-1.1b --new-tokens 32 --codec fixed > "$OUT/bench_c2000.txt" 2>&1
echo "== c2000"; sed -n '/^variant/,/^$/p' "$OUT/bench_c2000.txt"
pf tl_512 tinyllama-1.1b 32 X=final
q
