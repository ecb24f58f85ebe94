#!/usr/bin/env bash
# Session 4, GPU run 8: warps per row group on Llama-2-7B shapes (default now 8 for 512..1024 groups): q/k/v (1536 groups)
# on 8 warps too (CODECLLM_FM_W4_GROUPS=2000); o/down on 16 (CODECLLM_FM_W8_GROUPS=600).
set -uo pipefail
OUT=${OUT:-/tmp/out}; D=.devrun-v/bin
mkdir -p /tmp/dotnet "$OUT"
tar -xJf .device/dotnet-runtime-aspnet.tar.xz -C /tmp/dotnet
export DOTNET_ROOT=/tmp/dotnet PATH=/tmp/dotnet:$PATH CODECLLM_SHARED_MODELS=$PWD/.devrun-v/models DOTNET_NOLOGO=1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
b() { n=$1; shift; timeout 200 dotnet $D/CodecLlm.Cli.dll bench --device cuda --prompt-tokens 32 "$@" > "$OUT/bench_$n.txt" 2>&1; echo "== $n: $*"; sed -n '/^variant/,$p' "$OUT/bench_$n.txt" | head -4; }
CODECLLM_FM_W4_GROUPS=2000 b l2_qkv8 --synthetic llama-2-7b --new-tokens 128 --codec fixed --scratch-slices 0
CODECLLM_FM_W8_GROUPS=600 b l2_od16 --synthetic llama-2-7b --new-tokens 128 --codec fixed --scratch-slices 0
