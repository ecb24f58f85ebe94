#!/usr/bin/env bash
# entropy helper, device run 2: ptxas + SASS of entropy.cu (v3), the CUDA tests, TinyLlama and Llama-2 entropy bench
# (new, then main's CodecLlm.dll on the same card), then an ncu stall profile of a few entropy launches.
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
cp -r $D /tmp/binbase && cp $R/base/CodecLlm.dll /tmp/binbase/
for m in tinyllama-1.1b llama-2-7b; do
  for v in new base; do
    [[ $SECONDS -gt 200 ]] && { echo "skip $m $v (t=$SECONDS)"; continue; }
    bin=$D; [[ $v == base ]] && bin=/tmp/binbase
    echo "t=$SECONDS == bench $m $v"
    timeout 60 dotnet $bin/CodecLlm.Cli.dll bench --device cuda --synthetic $m --codec entropy --new-tokens 16 > "$OUT/bench_${m}_$v.txt" 2>&1
    grep -E "^entropy|decode entropy" "$OUT/bench_${m}_$v.txt"
  done
done
left=$((280 - SECONDS))
if [[ $left -gt 40 ]] && command -v ncu > /dev/null; then
  echo "t=$SECONDS == ncu (${left}s)"
  timeout $left ncu -k entropy_decode --launch-skip 20 --launch-count 2 --section SpeedOfLight --section WarpStateStats --section LaunchStats --section Occupancy \
    dotnet $D/CodecLlm.Cli.dll bench --device cuda --synthetic tinyllama-1.1b --codec entropy --new-tokens 4 > "$OUT/ncu.txt" 2>&1
  grep -E "Duration|Stall|Warp Cycles|Registers|Achieved|Block Limit|Theoretical Occ|Issue" "$OUT/ncu.txt" | head -60
fi
echo "t=$SECONDS done"
