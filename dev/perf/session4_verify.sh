#!/usr/bin/env bash
# Session 4, verification run of the final main: every CUDA test (HF reference included) and one TinyLlama bench.
set -uo pipefail
source dev/perf/device_env.sh
timeout 100 python3 .devrun-v/hf_reference.py /tmp/hfref --layers 4 --steps 64 2>&1 | grep -v Warning | tail -1
export CODECLLM_HF_REFERENCE=/tmp/hfref
timeout 300 dotnet $D/CodecLlm.Tests.dll -namespace CodecLlm.Tests.Backends.Cuda > "$OUT/tests.log" 2>&1; echo "tests rc=$?"
grep -E '\[FAIL\]|Total:|HF comparison' "$OUT/tests.log" | head -20
grep -A8 '\[FAIL\]' "$OUT/tests.log" | grep -v "^\s*at " | head -40
b tl --synthetic tinyllama-1.1b --new-tokens 128 --codec fixed
b tl_b2 --synthetic tinyllama-1.1b --new-tokens 64 --codec fixed --batch 2
