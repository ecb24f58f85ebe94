#!/usr/bin/env bash
# Session 25 call 2 (main e686ddb + sliding-window attention, uncommitted): decode speed against main's build (its
# CodecLlm.dll in .devrun-v/old), alternating (TinyLlama 32-token prompt twice, 2000-token prompt once; the window
# parameter is 0 there, so the kernels must run as before); then the HF transformers references (the Llama of
# every session and a Mistral with a 16-position sliding window and a 40-token prompt) and every CUDA test.
set -uo pipefail
source dev/perf/device_env.sh
q
overlay /tmp/old .devrun-v/old
cb() {
  timeout 120 dotnet $2/CodecLlm.Cli.dll bench --device cuda --synthetic $3 --prompt-tokens $4 --new-tokens $5 --codec fixed --kv-cache $6 > "$OUT/bench_$1.txt" 2>&1
  echo "== $1 t=$SECONDS"; sed -n '/^variant/,/^$/p' "$OUT/bench_$1.txt" | sed -n 2,4p
}
for i in 1 2; do cb c32_old_$i /tmp/old tinyllama-1.1b 32 128 f32; cb c32_new_$i $D tinyllama-1.1b 32 128 f32; done
cb c2000_old /tmp/old tinyllama-1.1b 2000 32 f32; cb c2000_new $D tinyllama-1.1b 2000 32 f32
q
timeout 100 python3 .devrun-v/hf_reference.py /tmp/hfref --layers 4 --steps 64 2>&1 | grep -v Warning | tail -1
timeout 100 python3 .devrun-v/hf_reference.py /tmp/hfref_sw --layers 4 --steps 64 --arch mistral --sliding-window 16 --prompt-len 40 2>&1 | grep -v Warning | tail -2
echo "== refs t=$SECONDS"
export CODECLLM_HF_REFERENCE=/tmp/hfref CODECLLM_HF_REFERENCE_SLIDING=/tmp/hfref_sw
timeout 360 dotnet $D/CodecLlm.Tests.dll -namespace CodecLlm.Tests.Backends.Cuda > "$OUT/tests.log" 2>&1; echo "== CUDA tests rc=$? t=$SECONDS"
grep -E 'Total:|HF comparison' "$OUT/tests.log" | head -20
grep -A8 '\[FAIL\]' "$OUT/tests.log" | grep -v "^\s*at " | head -60
q
