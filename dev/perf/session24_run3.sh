#!/usr/bin/env bash
# Session 24 call 3 (branch gqa-decode, heads split over the blocks a short context leaves idle): the kernel, session and
# batch tests; decode against main's build (e2fe682), alternating: TinyLlama at 32- and 2000-token prompts (f32 and bf16
# caches), Llama-2-7B at 32.
set -uo pipefail
source dev/perf/device_env.sh
q
TEST_TIMEOUT=120 classes $D kern CudaKernelTests
TEST_TIMEOUT=160 classes $D sess CudaSessionTests CudaBatchTests
overlay /tmp/old .devrun-v/old
for i in 1 2; do
  D=/tmp/old ctx c32_old_$i 32 128 X=old
  ctx c32_new_$i 32 128 X=new
done
for kv in f32 bf16; do
  for v in old new; do
    dd=$D; [ $v = old ] && dd=/tmp/old
    timeout 100 dotnet $dd/CodecLlm.Cli.dll bench --device cuda --prompt-tokens 2000 --synthetic tinyllama-1.1b --new-tokens 32 --codec fixed --kv-cache $kv > "$OUT/bench_c2000_${kv}_$v.txt" 2>&1
    echo "== c2000_${kv}_$v t=$SECONDS"; sed -n '/^variant/,/^$/p' "$OUT/bench_c2000_${kv}_$v.txt" | sed -n 2,4p
  done
done
q
for v in old new; do
  dd=$D; [ $v = old ] && dd=/tmp/old
  timeout 100 dotnet $dd/CodecLlm.Cli.dll bench --device cuda --prompt-tokens 32 --synthetic llama-2-7b --new-tokens 64 --codec fixed > "$OUT/bench_l7_c32_$v.txt" 2>&1
  echo "== l7_c32_$v t=$SECONDS"; sed -n '/^variant/,/^$/p' "$OUT/bench_l7_c32_$v.txt" | sed -n 2,4p
done
q
