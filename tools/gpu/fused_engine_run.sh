#!/usr/bin/env bash
# Runs on the GPU machine from the main checkout's root, with .devrun-integrate/ carried beside .device/:
#   .devrun-integrate/bin     test build (tests/CodecLlm.Tests/bin/Release/net10.0, which holds the CLI too)
#   .devrun-integrate/models  stories260K + arctic-embed-xs (CODECLLM_SHARED_MODELS)
# Fail-fast order: GPU decoder/kernel tests (NVRTC compiles here), TinyLlama bench, session tests, Llama-2-7B bench.
set -uo pipefail
OUT=${OUT:-/tmp/out}
D=.devrun-integrate/bin
mkdir -p /tmp/dotnet "$OUT"
tar -xJf .device/dotnet-runtime-aspnet.tar.xz -C /tmp/dotnet
export DOTNET_ROOT=/tmp/dotnet PATH=/tmp/dotnet:$PATH CODECLLM_SHARED_MODELS=$PWD/.devrun-integrate/models DOTNET_NOLOGO=1
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv | tee "$OUT/gpu.txt"
summary() {
  python3 - "$1" <<'PY'
import json,sys
r=json.load(open(sys.argv[1]))
print(r["gpu"], r["model"])
for x in r["runs"]:
    print(f'{x["variant"]:28s} w={x["weights_bytes_ratio"]:.3f} peak={x["peak_allocated_bytes"]/2**20:7.0f}MiB drv={x["device_used_at_peak_bytes"]/2**20:7.0f}MiB peakx={x["peak_ratio"]:.3f} prefill={x["prefill_tokens_per_second"]:7.0f} decode={x["decode_tokens_per_second"]:6.0f} x{x["decode_ratio"]:.3f} step={x["decode_step_gpu_ms"]:.3f}ms ident={x["logits_bit_identical"]}')
for k in r["kernels"]:
    print(f'{k["kernel"]:20s} {k["gigabytes_per_second"]:7.0f} GB/s {k["matrices"]} ({k["counting"]})')
PY
}
[[ ${SKIP_KERNEL_TESTS:-0} == 1 ]] || timeout 150 dotnet $D/CodecLlm.Tests.dll -class CodecLlm.Tests.Backends.Cuda.GpuDecoderTests -class CodecLlm.Tests.Backends.Cuda.CudaKernelTests > "$OUT/tests_kernels.log" 2>&1
grep -E '\[FAIL\]|Assert|Exception|error|Total:' "$OUT/tests_kernels.log" | head -30 || true
if grep -q 'CompileToCubin\|NVRTC_ERROR' "$OUT/tests_kernels.log"; then echo 'kernel compile failure: stopping'; exit 1; fi
for m in tinyllama-1.1b; do
  timeout 170 dotnet $D/CodecLlm.Cli.dll bench --device cuda --synthetic $m --prompt-tokens 32 --new-tokens 128 --codec fixed --json > "$OUT/bench_$m.json" 2> "$OUT/bench_$m.err"
  tail -4 "$OUT/bench_$m.err"; summary "$OUT/bench_$m.json"
done
timeout 150 dotnet $D/CodecLlm.Tests.dll -class CodecLlm.Tests.Backends.Cuda.CudaSessionTests > "$OUT/tests_session.log" 2>&1
grep -E '\[FAIL\]|Assert|Total:' "$OUT/tests_session.log" | head -30
for m in llama-2-7b; do
  timeout 240 dotnet $D/CodecLlm.Cli.dll bench --device cuda --synthetic $m --prompt-tokens 32 --new-tokens 128 --codec fixed --json > "$OUT/bench_$m.json" 2> "$OUT/bench_$m.err"
  tail -4 "$OUT/bench_$m.err"; summary "$OUT/bench_$m.json"
done
