#!/usr/bin/env bash
# Session 7, run 3: the `fixed` tile with coalesced rest bytes (layout version 3, branch coalesce) against main's
# kernels (.devrun-v/main/CodecLlm.dll), alternating on one card; then the decoder tests of the new layout.
set -uo pipefail
source dev/perf/device_env.sh
cp -r .devrun-v/bin /tmp/binm && cp .devrun-v/main/CodecLlm.dll /tmp/binm/
DV=$D
for i in 1 2; do
  D=/tmp/binm b tl_main$i --synthetic tinyllama-1.1b --new-tokens 128 --codec fixed
  D=$DV b tl_coal$i --synthetic tinyllama-1.1b --new-tokens 128 --codec fixed
done
echo "t=$SECONDS"
D=/tmp/binm b l2_main --synthetic llama-2-7b --new-tokens 128 --codec fixed
D=$DV b l2_coal --synthetic llama-2-7b --new-tokens 128 --codec fixed
echo "t=$SECONDS"
D=$DV
timeout 200 dotnet $D/CodecLlm.Tests.dll -class CodecLlm.Tests.Backends.Cuda.GpuDecoderTests -class CodecLlm.Tests.Backends.Cuda.GpuF16F32DecoderTests -class CodecLlm.Tests.Backends.Cuda.CudaSessionTests > "$OUT/tests.log" 2>&1; echo "== tests rc=$?"
grep -E '\[FAIL\]|Total:' "$OUT/tests.log" | head; grep -A8 '\[FAIL\]' "$OUT/tests.log" | grep -v "^\s*at " | head -30
echo "t=$SECONDS"
