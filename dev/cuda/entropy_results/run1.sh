#!/usr/bin/env bash
# entropy helper, device run: ptxas report + SASS of entropy.cu, the CUDA tests, TinyLlama entropy bench (new, then main's CodecLlm.dll).
set -uo pipefail
OUT=${OUT:-/tmp/out}; R=.devrun-entropy; D=$R/bin
mkdir -p /tmp/dotnet "$OUT"
tar -xJf .device/dotnet-runtime-aspnet.tar.xz -C /tmp/dotnet
export DOTNET_ROOT=/tmp/dotnet PATH=/tmp/dotnet:$PATH CODECLLM_SHARED_MODELS=$PWD/$R/models DOTNET_NOLOGO=1
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader | tee "$OUT/gpu.txt"
echo "t=$SECONDS == ptxas"
(cd $R/kernels && timeout 60 nvcc -arch=sm_90 -cubin -Xptxas -v -std=c++17 entropy.cu -o /tmp/entropy.cubin > "$OUT/ptxas.txt" 2>&1; cuobjdump -sass /tmp/entropy.cubin > "$OUT/entropy.sass" 2>&1)
grep -E "registers|spill|error" "$OUT/ptxas.txt" | head
echo "t=$SECONDS == CUDA tests"
timeout 120 dotnet $D/CodecLlm.Tests.dll -namespace CodecLlm.Tests.Backends.Cuda > "$OUT/tests.log" 2>&1; echo "tests rc=$?"
grep -E '\[FAIL\]|Total:' "$OUT/tests.log" | head -20
B="bench --device cuda --synthetic tinyllama-1.1b --codec entropy --new-tokens 16"
echo "t=$SECONDS == bench new"
timeout 70 dotnet $D/CodecLlm.Cli.dll $B > "$OUT/bench_new.txt" 2>&1; grep -E "entropy|^uncompressed" "$OUT/bench_new.txt"
echo "t=$SECONDS == bench base (main's CodecLlm.dll)"
cp -r $D /tmp/binbase && cp $R/base/CodecLlm.dll /tmp/binbase/
timeout 70 dotnet /tmp/binbase/CodecLlm.Cli.dll $B > "$OUT/bench_base.txt" 2>&1; grep -E "entropy" "$OUT/bench_base.txt"
left=$((285 - SECONDS))
if [[ $left -gt 80 ]]; then
  echo "t=$SECONDS == bench llama-2-7b new (${left}s)"
  timeout $left dotnet $D/CodecLlm.Cli.dll bench --device cuda --synthetic llama-2-7b --codec entropy --new-tokens 8 > "$OUT/bench_llama2_new.txt" 2>&1; grep -E "entropy" "$OUT/bench_llama2_new.txt"
fi
echo "t=$SECONDS done"
