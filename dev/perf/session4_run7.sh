#!/usr/bin/env bash
# NOTE: the double-buffered fixed_decode this run measured was not kept (no gain); see docs/PERFORMANCE.md, "Session 4".
# Session 4, GPU run 7: fixed_decode with a register double buffer (next tile in flight); Llama-2-7B with 8 warps for
# 512-group matvecs (o, down) instead of 4 (CODECLLM_FM_W4_GROUPS=1025).
set -uo pipefail
OUT=${OUT:-/tmp/out}; D=.devrun-v/bin
mkdir -p /tmp/dotnet "$OUT"
tar -xJf .device/dotnet-runtime-aspnet.tar.xz -C /tmp/dotnet
export DOTNET_ROOT=/tmp/dotnet PATH=/tmp/dotnet:$PATH CODECLLM_SHARED_MODELS=$PWD/.devrun-v/models DOTNET_NOLOGO=1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
timeout 200 dotnet $D/CodecLlm.Tests.dll -class CodecLlm.Tests.Backends.Cuda.GpuDecoderTests -class CodecLlm.Tests.Backends.Cuda.CudaSessionTests > "$OUT/tests.log" 2>&1; echo "tests rc=$?"
grep -E '\[FAIL\]|Total:' "$OUT/tests.log" | head
b() { n=$1; shift; timeout 200 dotnet $D/CodecLlm.Cli.dll bench --device cuda --prompt-tokens 32 "$@" > "$OUT/bench_$n.txt" 2>&1; echo "== $n: $*"; sed -n '/^variant/,$p' "$OUT/bench_$n.txt" | head -12; }
b tl --synthetic tinyllama-1.1b --new-tokens 128 --codec fixed --scratch-slices 0,8,16
b l2 --synthetic llama-2-7b --new-tokens 128 --codec fixed --scratch-slices 0
CODECLLM_FM_W4_GROUPS=1025 b l2_w8 --synthetic llama-2-7b --new-tokens 128 --codec fixed --scratch-slices 0
