#!/usr/bin/env bash
# NOTE: the double-buffered fixed_decode this run measured was not kept (no gain); see docs/PERFORMANCE.md, "Session 4".
# Session 4, GPU run 7: fixed_decode with a register double buffer (next tile in flight); Llama-2-7B with 8 warps for
# 512-group matvecs (o, down) instead of 4 (CODECLLM_FM_W4_GROUPS=1025).
set -uo pipefail
source dev/perf/device_env.sh
timeout 200 dotnet $D/CodecLlm.Tests.dll -class CodecLlm.Tests.Backends.Cuda.GpuDecoderTests -class CodecLlm.Tests.Backends.Cuda.CudaSessionTests > "$OUT/tests.log" 2>&1; echo "tests rc=$?"
grep -E '\[FAIL\]|Total:' "$OUT/tests.log" | head
b tl --synthetic tinyllama-1.1b --new-tokens 128 --codec fixed --scratch-slices 0,8,16
b l2 --synthetic llama-2-7b --new-tokens 128 --codec fixed --scratch-slices 0
CODECLLM_FM_W4_GROUPS=1025 b l2_w8 --synthetic llama-2-7b --new-tokens 128 --codec fixed --scratch-slices 0
