#!/usr/bin/env bash
set -uo pipefail
OUT=${OUT:-/tmp/out}; D=.devrun-l2/bin
mkdir -p /tmp/dotnet "$OUT"
tar -xJf .device/dotnet-runtime-aspnet.tar.xz -C /tmp/dotnet
export DOTNET_ROOT=/tmp/dotnet PATH=/tmp/dotnet:$PATH CODECLLM_SHARED_MODELS=$PWD/.devrun-l2/models DOTNET_NOLOGO=1
echo "== CUDA tests"
timeout 200 dotnet $D/CodecLlm.Tests.dll -namespace CodecLlm.Tests.Backends.Cuda > "$OUT/tests.log" 2>&1; echo "tests rc=$?"
grep -E '\[FAIL\]|Total:|error' "$OUT/tests.log" | head -20
for f in ~/.cache/codecllm/kernels/fused_matvec-*.cubin; do cuobjdump -res-usage "$f" 2>/dev/null | grep -A1 -E 'fm_(raw|fixed)_a[012]_w(4|8|16)' | grep -E 'Function|REG' | paste - - | sed 's/Resource usage://' | cut -c1-150; done
for cfg in "x 0" "2 0" "4 0" "x 16"; do
  set -- $cfg
  echo "== tinyllama blocks/SM=$1 L2=$2"
  if [ "$1" = x ]; then unset CODECLLM_FM_BLOCKS_PER_SM; else export CODECLLM_FM_BLOCKS_PER_SM=$1; fi
  CODECLLM_L2_PREFETCH_MB=$2 timeout 90 dotnet $D/CodecLlm.Cli.dll bench --device cuda --synthetic tinyllama-1.1b --prompt-tokens 32 --new-tokens 128 --codec fixed > "$OUT/bench_tl_$1_$2.txt" 2>&1
  grep -E "^uncompressed |^fixed|^matvec" "$OUT/bench_tl_$1_$2.txt" | head -8
done
unset CODECLLM_FM_BLOCKS_PER_SM
echo "== llama-2-7b"
timeout 150 dotnet $D/CodecLlm.Cli.dll bench --device cuda --synthetic llama-2-7b --prompt-tokens 32 --new-tokens 128 --codec fixed > "$OUT/bench_l2.txt" 2>&1
grep -E "^uncompressed |^fixed|^matvec" "$OUT/bench_l2.txt" | head -8
