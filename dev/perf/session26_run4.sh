#!/usr/bin/env bash
# Session 26 call 4, main as it stops (5398eb3): every CUDA test (the HF transformers reference first), then the CLI and
# server test classes (run, chat and serve on the GPU after their options moved to SamplingCliOptions/SessionCliOptions).
set -uo pipefail
source dev/perf/device_env.sh
q
cuda_tests 360
timeout 250 dotnet $D/CodecLlm.Tests.dll -namespace CodecLlm.Tests.Cli -class CodecLlm.Tests.Server.ServeCommandTests > "$OUT/cli.log" 2>&1; echo "== cli + serve tests rc=$?"
grep -E '\[FAIL\]|Total:' "$OUT/cli.log"; grep -A8 '\[FAIL\]' "$OUT/cli.log" | grep -v "^\s*at " | head -20
q
