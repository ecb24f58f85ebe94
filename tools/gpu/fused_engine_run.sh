#!/usr/bin/env bash
# Runs on the GPU machine from the main checkout's root, with .devrun-integrate/ carried beside .device/:
#   .devrun-integrate/bin     test build (tests/CodecLlm.Tests/bin/Release/net10.0, which holds the CLI too)
#   .devrun-integrate/models  stories260K + arctic-embed-xs (CODECLLM_SHARED_MODELS)
# Usage: bash tools/fused_engine_run.sh [tests] [bench] [sweep]   (default: all three); logs under $OUT.
set -uo pipefail
OUT=${OUT:-/tmp/out}
D=.devrun-integrate/bin
what=" ${*:-tests bench sweep} "
mkdir -p /tmp/dotnet "$OUT"
tar -xJf .device/dotnet-runtime-aspnet.tar.xz -C /tmp/dotnet
export DOTNET_ROOT=/tmp/dotnet PATH=/tmp/dotnet:$PATH CODECLLM_SHARED_MODELS=$PWD/.devrun-integrate/models DOTNET_NOLOGO=1
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv | tee "$OUT/gpu.txt"
summary() {
  python3 - "$1" "${2:-}" <<'PY'
import json,sys
r=json.load(open(sys.argv[1])); tag=sys.argv[2]
if not tag: print(r["gpu"], r["model"])
for x in r["runs"]:
    print(f'{tag}{x["variant"]:28s} w={x["weights_bytes_ratio"]:.3f} peak={x["peak_allocated_bytes"]/2**20:7.0f}MiB drv={x["device_used_at_peak_bytes"]/2**20:7.0f}MiB peakx={x["peak_ratio"]:.3f} prefill={x["prefill_tokens_per_second"]:7.0f} decode={x["decode_tokens_per_second"]:6.0f} x{x["decode_ratio"]:.3f} step={x["decode_step_gpu_ms"]:.3f}ms ident={x["logits_bit_identical"]}')
if not tag:
    for k in r["kernels"]:
        print(f'{k["kernel"]:20s} {k["gigabytes_per_second"]:7.0f} GB/s {k["matrices"]} ({k["counting"]})')
PY
}
bench() {  # bench MODEL NAME [ENV...]
  local m=$1 name=$2; shift 2
  env "$@" timeout 240 dotnet $D/CodecLlm.Cli.dll bench --device cuda --synthetic $m --prompt-tokens 32 --new-tokens 128 --codec fixed --json > "$OUT/bench_$name.json" 2> "$OUT/bench_$name.err"
}
if [[ $what == *" tests "* ]]; then
  timeout 240 dotnet $D/CodecLlm.Tests.dll -namespace CodecLlm.Tests.Backends.Cuda > "$OUT/tests.log" 2>&1
  grep -E '\[FAIL\]|Assert\.|Total:' "$OUT/tests.log" | head -30
fi
if [[ $what == *" bench "* ]]; then
  for m in tinyllama-1.1b llama-2-7b; do
    bench $m $m; tail -3 "$OUT/bench_$m.err"; summary "$OUT/bench_$m.json"
  done
fi
if [[ $what == *" sweep "* ]]; then  # warps per row group of the fused matvec, all shapes at once
  for v in RAW=4 RAW=16 FIXED=8 FIXED=16; do
    bench tinyllama-1.1b tl_$v CODECLLM_FM_WARPS_$v; summary "$OUT/bench_tl_$v.json" "W_$v " | head -2
  done
fi
