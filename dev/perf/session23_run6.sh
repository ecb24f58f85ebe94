#!/usr/bin/env bash
# Session 23 call 6: the session-level test of decode past one attention block's share (a 290-token prompt against the
# CPU engine; batched beside a short sequence, bit for bit as alone).
set -uo pipefail
source dev/perf/device_env.sh
timeout 200 dotnet $D/CodecLlm.Tests.dll -method CodecLlm.Tests.Backends.Cuda.CudaSessionTests.LongContextDecodeSplitsAttentionAndMatchesCpu > "$OUT/tests_long.log" 2>&1
echo "== rc=$?"; grep -E '\[FAIL\]|Total:' "$OUT/tests_long.log"; grep -A6 '\[FAIL\]' "$OUT/tests_long.log" | grep -v "^\s*at " | head -20
