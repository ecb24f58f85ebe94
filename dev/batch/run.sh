#!/usr/bin/env bash
# Ran from /work/main/.devrun-batch (the device tool sends /work/main): bin/ = tests/CodecLlm.Tests/bin/Release/net10.0 of the batch worktree.
# Batched decode (batch helper): CUDA tests, then bench --batch B.
set -uo pipefail
OUT=${OUT:-/tmp/out}; D=.devrun-batch/bin
mkdir -p /tmp/dotnet "$OUT"
tar -xJf .device/dotnet-runtime-aspnet.tar.xz -C /tmp/dotnet
export DOTNET_ROOT=/tmp/dotnet PATH=/tmp/dotnet:$PATH CODECLLM_SHARED_MODELS=$PWD/.devrun-batch/models DOTNET_NOLOGO=1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$OUT/gpu.txt"
echo "== CUDA tests"
timeout 120 dotnet $D/CodecLlm.Tests.dll -namespace CodecLlm.Tests.Backends.Cuda > "$OUT/tests.log" 2>&1; echo "tests rc=$? at ${SECONDS}s"
grep -E '\[FAIL\]|Total:|Finished|Failed|Assert|error' "$OUT/tests.log" | head -40
bench() { # model batch budget
  local left=$((285 - SECONDS)); [ $left -lt 25 ] && { echo "skip $1 b$2 (${left}s left)"; return; }
  local lim=$(( left < $3 ? left : $3 ))
  timeout $lim dotnet $D/CodecLlm.Cli.dll bench --device cuda --synthetic $1 --codec fixed --batch $2 --prompt-tokens 32 --new-tokens 64 > "$OUT/bench_$1_b$2.txt" 2>&1
  echo "== bench $1 batch $2 rc=$? at ${SECONDS}s"; grep -E "^(variant|uncompressed|fixed)" "$OUT/bench_$1_b$2.txt" || tail -5 "$OUT/bench_$1_b$2.txt"
}
bench tinyllama-1.1b 1 40
bench tinyllama-1.1b 8 45
bench tinyllama-1.1b 2 40
bench tinyllama-1.1b 4 40
bench llama-2-7b 8 70  # run 2: the third variant (decode to scratch) did not finish inside 70 s
bench llama-2-7b 1 60
