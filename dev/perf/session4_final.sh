#!/usr/bin/env bash
# Session 4, final GPU run: every CUDA test (with the HF transformers reference), then the bench figures of issues #4/#5.
set -uo pipefail
source dev/perf/device_env.sh
timeout 100 python3 .devrun-v/hf_reference.py /tmp/hfref --layers 4 --steps 64 2>&1 | grep -v Warning | tail -2 | tee "$OUT/hf.log"
export CODECLLM_HF_REFERENCE=/tmp/hfref
echo "== CUDA tests"
timeout 300 dotnet $D/CodecLlm.Tests.dll -namespace CodecLlm.Tests.Backends.Cuda > "$OUT/tests.log" 2>&1; echo "tests rc=$?"
grep -E '\[FAIL\]|Total:|HF comparison' "$OUT/tests.log" | head -20
grep -A8 '\[FAIL\]' "$OUT/tests.log" | grep -v "^\s*at " | head -60
timeout 30 dotnet $D/CodecLlm.Cli.dll run --device cuda --model .devrun-v/models/stories260K/stories260K.bin --max-tokens 40 > "$OUT/run.txt" 2>&1; tail -2 "$OUT/run.txt"
b tl --synthetic tinyllama-1.1b --new-tokens 128 --codec fixed,entropy
b l2 --synthetic llama-2-7b --new-tokens 128 --codec fixed
for B in 2 4 8; do b tl_b$B --synthetic tinyllama-1.1b --new-tokens 64 --codec fixed --batch $B; done
b tl_f32 --synthetic tinyllama-1.1b --dtype f32 --new-tokens 64 --codec fixed
