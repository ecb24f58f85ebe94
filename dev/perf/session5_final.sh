#!/usr/bin/env bash
# Session 5, final GPU run of main: every CUDA test (with the HF transformers reference), the step-kernel branch's tests
# (its two assemblies over the same build), stories260K on the CLI, then the bench figures of issues #4/#5.
set -uo pipefail
source dev/perf/device_env.sh
timeout 100 python3 .devrun-v/hf_reference.py /tmp/hfref --layers 4 --steps 64 2>&1 | grep -v Warning | tail -2 > /tmp/hf.log; cat /tmp/hf.log
export CODECLLM_HF_REFERENCE=/tmp/hfref
echo "== CUDA tests"
timeout 300 dotnet $D/CodecLlm.Tests.dll -namespace CodecLlm.Tests.Backends.Cuda > "$OUT/tests.log" 2>&1; echo "tests rc=$?"
grep -E '\[FAIL\]|Total:|HF comparison' "$OUT/tests.log" | head -20
grep -A8 '\[FAIL\]' "$OUT/tests.log" | grep -v "^\s*at " | head -40
echo "== step-kernel branch tests"
cp -r $D /tmp/bin2 && cp .devrun-v/branch/*.dll /tmp/bin2/
timeout 120 dotnet /tmp/bin2/CodecLlm.Tests.dll -class CodecLlm.Tests.Backends.Cuda.DecodeStepKernelTests > "$OUT/tests_step.log" 2>&1; echo "rc=$?"
grep -E 'Total:' "$OUT/tests_step.log"; grep -A3 '\[FAIL\]' "$OUT/tests_step.log" | grep -v "^\s*at \|Stack" | head -20
timeout 30 dotnet $D/CodecLlm.Cli.dll run --device cuda --model .devrun-v/models/stories260K/stories260K.bin --max-tokens 40 > /tmp/run.txt 2>&1; tail -2 /tmp/run.txt
b tl --synthetic tinyllama-1.1b --new-tokens 128 --codec fixed,entropy
b l2 --synthetic llama-2-7b --new-tokens 128 --codec fixed
for B in 2 4 8; do b tl_b$B --synthetic tinyllama-1.1b --new-tokens 64 --codec fixed --batch $B | grep -E "^==|^uncompressed|^fixed"; done
echo "t=$SECONDS"
