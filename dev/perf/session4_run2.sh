#!/usr/bin/env bash
# NOTE: this run used experiment code that was not kept (an L2 access-policy window over the scratch slots: the "n"/"p"
# suffixes and CODECLLM_SCRATCH_L2; an L2 discard of read scratch lines: CODECLLM_SCRATCH_DISCARD). Results and
# conclusions: docs/PERFORMANCE.md, "Session 4". The options no longer exist on main.
# Session 4, GPU run 2: whole-step decode units with an L2 set-aside over the scratch slots (a persisting fraction of the
# window), against none; 2 and 3 slots.
set -uo pipefail
source dev/perf/device_env.sh
b tl --synthetic tinyllama-1.1b --new-tokens 128 --codec fixed --scratch-slices 0,0n,16,16n
CODECLLM_SCRATCH_SLOTS=3 b tl_slots3 --synthetic tinyllama-1.1b --new-tokens 128 --codec fixed --scratch-slices 0,0n,16
timeout 120 dotnet $D/CodecLlm.Tests.dll -class CodecLlm.Tests.Backends.Cuda.CudaSessionTests > "$OUT/tests.log" 2>&1; echo "tests rc=$?"
grep -E '\[FAIL\]|Total:' "$OUT/tests.log" | head
