#!/usr/bin/env bash
set -uo pipefail
OUT=${OUT:-/tmp/out}; D=.devrun-l2/bin
mkdir -p /tmp/dotnet "$OUT"
tar -xJf .device/dotnet-runtime-aspnet.tar.xz -C /tmp/dotnet
export DOTNET_ROOT=/tmp/dotnet PATH=/tmp/dotnet:$PATH CODECLLM_SHARED_MODELS=$PWD/.devrun-l2/models DOTNET_NOLOGO=1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"
echo "== CUDA tests"
timeout 200 dotnet $D/CodecLlm.Tests.dll -namespace CodecLlm.Tests.Backends.Cuda > "$OUT/tests.log" 2>&1; echo "tests rc=$?"
grep -E '\[FAIL\]|failed:|succeeded:|skipped:|error' "$OUT/tests.log" | head -20
for cfg in "0 1" "24 1" "8 1" "16 1" "32 1" "24 0"; do
  set -- $cfg
  echo "== tinyllama D=$1 MB evict_first=$2"
  CODECLLM_L2_PREFETCH_MB=$1 CODECLLM_L2_EVICT_FIRST=$2 timeout 90 dotnet $D/CodecLlm.Cli.dll bench --device cuda --synthetic tinyllama-1.1b --prompt-tokens 32 --new-tokens 128 --codec fixed > "$OUT/bench_tl_$1_$2.txt" 2>&1
  grep -E "uncompressed|fixed|identical" "$OUT/bench_tl_$1_$2.txt" | head -8
done
