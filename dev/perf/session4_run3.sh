#!/usr/bin/env bash
# NOTE: this run used experiment code that was not kept (an L2 access-policy window over the scratch slots: the "n"/"p"
# suffixes and CODECLLM_SCRATCH_L2; an L2 discard of read scratch lines: CODECLLM_SCRATCH_DISCARD). Results and
# conclusions: docs/PERFORMANCE.md, "Session 4". The options no longer exist on main.
# Session 4, GPU run 3: decode to scratch with the scratch's L2 lines discarded after use (no write-back of decoded bytes
# still in L2), whole steps and row slices, 2 and 3 slots; discard off for comparison.
set -uo pipefail
source dev/perf/device_env.sh
timeout 120 dotnet $D/CodecLlm.Tests.dll -class CodecLlm.Tests.Backends.Cuda.CudaSessionTests -class CodecLlm.Tests.Backends.Cuda.CudaBatchTests > "$OUT/tests.log" 2>&1; echo "tests rc=$?"
grep -E '\[FAIL\]|Total:' "$OUT/tests.log" | head
b tl --synthetic tinyllama-1.1b --new-tokens 128 --codec fixed --scratch-slices 0,8,16,24
CODECLLM_SCRATCH_DISCARD=0 b tl_nodiscard --synthetic tinyllama-1.1b --new-tokens 128 --codec fixed --scratch-slices 0,16
CODECLLM_SCRATCH_SLOTS=3 b tl_slots3 --synthetic tinyllama-1.1b --new-tokens 128 --codec fixed --scratch-slices 0,16,24
