#!/usr/bin/env bash
# NOTE: the one-stream code this run measured is on branch scratch-exp (not merged); see docs/PERFORMANCE.md, "Session 4".
# Session 4, GPU run 4: decode to scratch on one stream (fm_scr_*: each matvec launch over a decoded slot also decodes the
# next unit into the other slot), whole steps and row slices, block shares; the two-stream pipeline for comparison.
set -uo pipefail
OUT=${OUT:-/tmp/out}; D=.devrun-v/bin
mkdir -p /tmp/dotnet "$OUT"
tar -xJf .device/dotnet-runtime-aspnet.tar.xz -C /tmp/dotnet
export DOTNET_ROOT=/tmp/dotnet PATH=/tmp/dotnet:$PATH CODECLLM_SHARED_MODELS=$PWD/.devrun-v/models DOTNET_NOLOGO=1 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"
b() { n=$1; shift; timeout 200 dotnet $D/CodecLlm.Cli.dll bench --device cuda --prompt-tokens 32 "$@" > "$OUT/bench_$n.txt" 2>&1; echo "== $n: $*"; sed -n '/^variant/,$p' "$OUT/bench_$n.txt" | head -9; }
b tl --synthetic tinyllama-1.1b --new-tokens 128 --codec fixed --scratch-slices 0,4,8,16
CODECLLM_SCRATCH_ONE_STREAM=0 b tl_two --synthetic tinyllama-1.1b --new-tokens 128 --codec fixed --scratch-slices 0
CODECLLM_SCR_MV_SHARE=700 b tl_s700 --synthetic tinyllama-1.1b --new-tokens 128 --codec fixed --scratch-slices 0,8
CODECLLM_SCR_MV_SHARE=1400 b tl_s1400 --synthetic tinyllama-1.1b --new-tokens 128 --codec fixed --scratch-slices 0,8
timeout 150 dotnet $D/CodecLlm.Tests.dll -class CodecLlm.Tests.Backends.Cuda.CudaSessionTests -class CodecLlm.Tests.Backends.Cuda.CudaBatchTests > "$OUT/tests.log" 2>&1; echo "tests rc=$?"
grep -E '\[FAIL\]|Total:' "$OUT/tests.log" | head
grep -B2 -A12 '\[FAIL\]' "$OUT/tests.log" | head -60
