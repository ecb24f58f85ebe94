#!/usr/bin/env bash
# Session 25 call 1 (branch gqa-v2 = main e686ddb + dev/perf/patches/session24-grouped-decode-attention-v2.patch):
# 1. the v2 grouped decode attention: kernel and session tests, then decode against main's build (its CodecLlm.dll in
#    .devrun-v/old), alternating: TinyLlama at 32- and 2000-token prompts (f32 and bf16 caches), Llama-2-7B at 32.
# 2. fixed_decode's grid (CODECLLM_FIXED_DECODE_GRID blocks a multiprocessor; 16 = main): the isolated decode rate, its
#    ceiling with the output kept in L2 (FM_DECODE_OUT_MASK) and the decode-to-scratch step, for 16, 8, 6 and 4.
set -uo pipefail
source dev/perf/device_env.sh
q
TEST_TIMEOUT=120 classes $D kern CudaKernelTests AttentionStageTests BatchKernelParamsTests
TEST_TIMEOUT=200 classes $D sess CudaSessionTests CudaBatchTests
overlay /tmp/old .devrun-v/old
# cb NAME DIR MODEL PROMPT NEW KV: one fixed bench of build DIR, its three variants' lines printed
cb() {
  timeout 120 dotnet $2/CodecLlm.Cli.dll bench --device cuda --synthetic $3 --prompt-tokens $4 --new-tokens $5 --codec fixed --kv-cache $6 > "$OUT/bench_$1.txt" 2>&1
  echo "== $1 t=$SECONDS"; sed -n '/^variant/,/^$/p' "$OUT/bench_$1.txt" | sed -n 2,4p
}
for i in 1 2; do cb c32_old_$i /tmp/old tinyllama-1.1b 32 128 f32; cb c32_new_$i $D tinyllama-1.1b 32 128 f32; done
for kv in f32 bf16; do cb c2000_${kv}_old /tmp/old tinyllama-1.1b 2000 32 $kv; cb c2000_${kv}_new $D tinyllama-1.1b 2000 32 $kv; done
q
for g in 16 8 6 4; do
  (export CODECLLM_FIXED_DECODE_GRID=$g; cb grid$g /tmp/old tinyllama-1.1b 32 64 f32 > /dev/null)
  echo "== grid $g t=$SECONDS"; grep -E "^decode fixed|^fixed \(decode to scratch|^uncompressed " "$OUT/bench_grid$g.txt"
  (export CODECLLM_FIXED_DECODE_GRID=$g CODECLLM_NVRTC_DEFINES=-DFM_DECODE_OUT_MASK=0x3ffffc; cb grid${g}_l2 /tmp/old tinyllama-1.1b 32 16 f32 > /dev/null)
  echo "== grid $g, output kept in L2"; grep -E "^decode fixed" "$OUT/bench_grid${g}_l2.txt"
done
q
cb l7_c32_old /tmp/old llama-2-7b 32 64 f32; cb l7_c32_new $D llama-2-7b 32 64 f32
q
