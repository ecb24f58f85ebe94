#!/usr/bin/env bash
# Session 4, GPU run 6: the F32 session tests again after their allocator fix (the test read another context's allocator).
set -uo pipefail
source dev/perf/device_env.sh
timeout 200 dotnet $D/CodecLlm.Tests.dll -class CodecLlm.Tests.Backends.Cuda.CudaF16F32SessionTests -class CodecLlm.Tests.Backends.Cuda.CudaSessionTests > "$OUT/tests.log" 2>&1; echo "tests rc=$?"
grep -E '\[FAIL\]|Total:' "$OUT/tests.log" | head
grep -A6 '\[FAIL\]' "$OUT/tests.log" | grep -v "^\s*at " | head -40
