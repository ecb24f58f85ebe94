#!/usr/bin/env bash
# NOTE: the one-stream code this run measured is on branch scratch-exp (not merged); see docs/PERFORMANCE.md, "Session 4".
# Session 4, GPU run 4: decode to scratch on one stream (fm_scr_*: each matvec launch over a decoded slot also decodes the
# next unit into the other slot), whole steps and row slices, block shares; the two-stream pipeline for comparison.
set -uo pipefail
source dev/perf/device_env.sh
b tl --synthetic tinyllama-1.1b --new-tokens 128 --codec fixed --scratch-slices 0,4,8,16
CODECLLM_SCRATCH_ONE_STREAM=0 b tl_two --synthetic tinyllama-1.1b --new-tokens 128 --codec fixed --scratch-slices 0
CODECLLM_SCR_MV_SHARE=700 b tl_s700 --synthetic tinyllama-1.1b --new-tokens 128 --codec fixed --scratch-slices 0,8
CODECLLM_SCR_MV_SHARE=1400 b tl_s1400 --synthetic tinyllama-1.1b --new-tokens 128 --codec fixed --scratch-slices 0,8
timeout 150 dotnet $D/CodecLlm.Tests.dll -class CodecLlm.Tests.Backends.Cuda.CudaSessionTests -class CodecLlm.Tests.Backends.Cuda.CudaBatchTests > "$OUT/tests.log" 2>&1; echo "tests rc=$?"
grep -E '\[FAIL\]|Total:' "$OUT/tests.log" | head
grep -B2 -A12 '\[FAIL\]' "$OUT/tests.log" | head -60
