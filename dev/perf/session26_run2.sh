#!/usr/bin/env bash
# Session 26 call 2: prompt caching on the GPU (CudaPromptCacheTests, f32 and bf16 KV caches; ServeCommandTests, whose
# serve --device cuda runs go through the chat client's session pool), the `fixed` decoders with session 26's
# measurement switch in their source (off by default: GpuDecoderTests, GpuF16F32DecoderTests); then call 1's decode to
# scratch at 24 MiB slices (two slots: 48 MiB, at L2's 50 MB) with the real, bytes-only and no decoder.
set -uo pipefail
source dev/perf/device_env.sh
q
export TEST_TIMEOUT=300
classes $D cache CudaPromptCacheTests GpuDecoderTests GpuF16F32DecoderTests
grep -E "cached, max rel diff" "$OUT/tests_cache.log" | head -8
serve_tests
s() {  # s NAME DEFINES SLICES
  if [ -n "$2" ]; then export CODECLLM_NVRTC_DEFINES="$2"; else unset CODECLLM_NVRTC_DEFINES; fi
  timeout 240 dotnet $D/CodecLlm.Cli.dll bench --device cuda --synthetic tinyllama-1.1b --prompt-tokens 32 --new-tokens 64 --codec fixed --scratch-slices $3 > "$OUT/bench_$1.txt" 2>&1
  echo "== $1 [$2] t=$SECONDS"; sed -n '/^variant/,/^$/p' "$OUT/bench_$1.txt" | sed -n 2,6p
  unset CODECLLM_NVRTC_DEFINES
}
s real24 "" 24,16
s null1_24 "-DFM_DECODE_NULL=1" 24,16
s null2_24 "-DFM_DECODE_NULL=2" 24,16
q
