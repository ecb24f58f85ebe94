#!/usr/bin/env bash
# NOTE: this run used experiment code that was not kept (an L2 access-policy window over the scratch slots: the "n"/"p"
# suffixes and CODECLLM_SCRATCH_L2; an L2 discard of read scratch lines: CODECLLM_SCRATCH_DISCARD). Results and
# conclusions: docs/PERFORMANCE.md, "Session 4". The options no longer exist on main.
# Session 4, GPU run 1: the CUDA tests (commits since 7deb748 and sliced decode steps), then decode to scratch in row
# slices with and without an L2 set-aside (bench --scratch-slices), TinyLlama and Llama-2-7B shapes.
set -uo pipefail
source dev/perf/device_env.sh
b tl --synthetic tinyllama-1.1b --new-tokens 128 --codec fixed --scratch-slices 0,4,8,8n,16,24
echo "== CUDA tests"
timeout 240 dotnet $D/CodecLlm.Tests.dll -namespace CodecLlm.Tests.Backends.Cuda > "$OUT/tests.log" 2>&1; echo "tests rc=$?"
grep -E '\[FAIL\]|Total:|failed|passed' "$OUT/tests.log" | head -30
CODECLLM_SCRATCH_SLOTS=3 b tl_slots3 --synthetic tinyllama-1.1b --new-tokens 128 --codec fixed --scratch-slices 4,8,12
b tl_b4 --synthetic tinyllama-1.1b --new-tokens 64 --codec fixed --batch 4 --scratch-slices 0,8
b l2 --synthetic llama-2-7b --new-tokens 128 --codec fixed --scratch-slices 0,8,16
