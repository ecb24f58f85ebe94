#!/usr/bin/env bash
# Session 4, final GPU run: every CUDA test (with the HF transformers reference), then the bench figures of issues #4/#5.
set -uo pipefail
OUT=${OUT:-/tmp/out}; D=.devrun-v/bin
mkdir -p /tmp/dotnet "$OUT"
tar -xJf .device/dotnet-runtime-aspnet.tar.xz -C /tmp/dotnet
export DOTNET_ROOT=/tmp/dotnet PATH=/tmp/dotnet:$PATH CODECLLM_SHARED_MODELS=$PWD/.devrun-v/models DOTNET_NOLOGO=1 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"
timeout 100 python3 .devrun-v/hf_reference.py /tmp/hfref --layers 4 --steps 64 2>&1 | grep -v Warning | tail -2 | tee "$OUT/hf.log"
export CODECLLM_HF_REFERENCE=/tmp/hfref
echo "== CUDA tests"
timeout 300 dotnet $D/CodecLlm.Tests.dll -namespace CodecLlm.Tests.Backends.Cuda > "$OUT/tests.log" 2>&1; echo "tests rc=$?"
grep -E '\[FAIL\]|Total:|HF comparison' "$OUT/tests.log" | head -20
grep -A8 '\[FAIL\]' "$OUT/tests.log" | grep -v "^\s*at " | head -60
timeout 30 dotnet $D/CodecLlm.Cli.dll run --device cuda --model .devrun-v/models/stories260K/stories260K.bin --max-tokens 40 > "$OUT/run.txt" 2>&1; tail -2 "$OUT/run.txt"
b() { n=$1; shift; timeout 150 dotnet $D/CodecLlm.Cli.dll bench --device cuda --prompt-tokens 32 "$@" > "$OUT/bench_$n.txt" 2>&1; echo "== $n: $*"; sed -n '/^variant/,$p' "$OUT/bench_$n.txt" | head -14; }
b tl --synthetic tinyllama-1.1b --new-tokens 128 --codec fixed,entropy
b l2 --synthetic llama-2-7b --new-tokens 128 --codec fixed
for B in 2 4 8; do b tl_b$B --synthetic tinyllama-1.1b --new-tokens 64 --codec fixed --batch $B; done
b tl_f32 --synthetic tinyllama-1.1b --dtype f32 --new-tokens 64 --codec fixed
