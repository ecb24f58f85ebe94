#!/usr/bin/env bash
# Session 6, run 5: the raw persistent matvec with two tiles in flight (now the only raw persistent path), and 2 warps
# per 8-row group for the large-row-count shapes (CODECLLM_FM_W2_GROUPS=1024: TinyLlama gate/up and head, Llama-2
# q/k/v, gate/up and head; raw and `fixed` alike, so they stay bit-identical): the decoder tests, then TinyLlama and
# Llama-2 alternating, same card.
set -uo pipefail
source dev/perf/device_env.sh
timeout 200 dotnet $D/CodecLlm.Tests.dll -class CodecLlm.Tests.Backends.Cuda.GpuDecoderTests > "$OUT/tests.log" 2>&1; echo "== decoder tests rc=$? t=$SECONDS"
grep -E '\[FAIL\]|Total:' "$OUT/tests.log" | head; grep -A10 '\[FAIL\]' "$OUT/tests.log" | grep -v "^\s*at " | head -30
bb() { CODECLLM_FM_W2_GROUPS=$2 bf "$1" "$3" "W2 from $2 groups"; }
bb tl "" tinyllama-1.1b
bb tl_w2 1024 tinyllama-1.1b
bb tl_b "" tinyllama-1.1b
bb tl_w2b 1024 tinyllama-1.1b
bb l2 "" llama-2-7b
bb l2_w2 1024 llama-2-7b
echo "t=$SECONDS"
