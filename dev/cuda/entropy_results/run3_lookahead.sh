#!/usr/bin/env bash
# NOT RUN (the entropy work's device budget was spent): measures EN_LOOKUP_AHEAD against the default on the
# same card. Stage as for run2.sh (.devrun-entropy/bin = tests/CodecLlm.Tests/bin/Release/net10.0 without
# *.pdb, *.xml and localisation folders; .devrun-entropy/models = stories260K + arctic-embed-xs), carry
# [".device/dotnet-runtime-aspnet.tar.xz", ".devrun-entropy"], about 90 s.
set -uo pipefail
OUT=${OUT:-/tmp/out}; R=.devrun-entropy; D=$R/bin
mkdir -p /tmp/dotnet "$OUT"
tar -xJf .device/dotnet-runtime-aspnet.tar.xz -C /tmp/dotnet
export DOTNET_ROOT=/tmp/dotnet PATH=/tmp/dotnet:$PATH CODECLLM_SHARED_MODELS=$PWD/$R/models DOTNET_NOLOGO=1
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader | tee "$OUT/gpu.txt"
echo "t=$SECONDS == GPU decoder tests with EN_LOOKUP_AHEAD=1"
CODECLLM_NVRTC_DEFINES=-DEN_LOOKUP_AHEAD=1 timeout 120 dotnet $D/CodecLlm.Tests.dll -class 'CodecLlm.Tests.Backends.Cuda.GpuDecoderTests' > "$OUT/tests_lookahead.log" 2>&1
echo "tests rc=$?"; grep -E '\[FAIL\]|Total:' "$OUT/tests_lookahead.log" | head
for v in 0 1 0 1; do
  echo "t=$SECONDS == bench tinyllama EN_LOOKUP_AHEAD=$v"
  CODECLLM_NVRTC_DEFINES=-DEN_LOOKUP_AHEAD=$v timeout 60 dotnet $D/CodecLlm.Cli.dll bench --device cuda --synthetic tinyllama-1.1b --codec entropy --new-tokens 16 > "$OUT/bench_la$v.txt" 2>&1
  grep -E "^entropy|decode entropy" "$OUT/bench_la$v.txt"
done
echo "t=$SECONDS done"
