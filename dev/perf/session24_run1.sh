#!/usr/bin/env bash
# Session 24 call 1 (branch gqa-decode): the attention kernel tests and the session/batch tests, then decode at 32- and
# 2000-token prompts against main's build (e2fe682, alternating): TinyLlama (8 query heads a kv head) with a sweep of the
# split knobs, Llama-2-7B (1 a kv head).
set -uo pipefail
source dev/perf/device_env.sh
q
TEST_TIMEOUT=150 classes $D kern CudaKernelTests
TEST_TIMEOUT=200 classes $D sess CudaSessionTests CudaBatchTests
overlay /tmp/old .devrun-v/old
# mctx NAME MODEL PROMPT NEW [VAR=..]: ctx for any synthetic model
mctx() {
  local n=$1 m=$2 pt=$3 nt=$4; shift 4
  (export "$@"; timeout 200 dotnet $D/CodecLlm.Cli.dll bench --device cuda --prompt-tokens $pt --synthetic $m --new-tokens $nt --codec fixed > "$OUT/bench_$n.txt" 2>&1)
  echo "== $n [$*] t=$SECONDS"; sed -n '/^variant/,/^$/p' "$OUT/bench_$n.txt" | sed -n 2,4p
}
for i in 1 2; do
  D=/tmp/old ctx c32_old_$i 32 128 X=old
  ctx c32_new_$i 32 128 X=new
done
D=/tmp/old ctx c2000_old 2000 32 X=old
ctx c2000_new 2000 32 X=new
ctx c2000_s32 2000 32 CODECLLM_ATTN_SPLIT=32
ctx c2000_b528 2000 32 CODECLLM_ATTN_BLOCKS=528
ctx c2000_s128 2000 32 CODECLLM_ATTN_SPLIT=128
for v in old new; do
  dd=$D; [ $v = old ] && dd=/tmp/old
  timeout 200 dotnet $dd/CodecLlm.Cli.dll bench --device cuda --prompt-tokens 2000 --synthetic tinyllama-1.1b --new-tokens 32 --codec fixed --kv-cache bf16 > "$OUT/bench_c2000_bf16_$v.txt" 2>&1
  echo "== c2000_bf16_$v t=$SECONDS"; sed -n '/^variant/,/^$/p' "$OUT/bench_c2000_bf16_$v.txt" | sed -n 2,4p
done
q
D=/tmp/old mctx l7_c32_old llama-2-7b 32 64 X=old
mctx l7_c32_new llama-2-7b 32 64 X=new
D=/tmp/old mctx l7_c2000_old llama-2-7b 2000 32 X=old
mctx l7_c2000_new llama-2-7b 2000 32 X=new
q
