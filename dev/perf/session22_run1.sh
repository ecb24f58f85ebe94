#!/usr/bin/env bash
# Session 22 call 1: main (1ffb6a9) verified -- every CUDA test (HF reference included) -- and prefill rates at longer
# prompts (32, 128, 512 tokens) for uncompressed, `fixed` fused and `fixed` decode to scratch, TinyLlama and Llama-2-7B.
set -uo pipefail
source dev/perf/device_env.sh
q
cuda_tests 330
grep -E "Total:" "$OUT/tests.log" > "$OUT/tests_summary.txt"
for P in 32 128 512; do
  timeout 200 dotnet $D/CodecLlm.Cli.dll bench --device cuda --prompt-tokens $P --synthetic tinyllama-1.1b --new-tokens 32 --codec fixed > "$OUT/bench_tl_p$P.txt" 2>&1
  echo "== tl prompt $P t=$SECONDS"; sed -n '/^variant/,/^$/p' "$OUT/bench_tl_p$P.txt"
done
timeout 300 dotnet $D/CodecLlm.Cli.dll bench --device cuda --prompt-tokens 512 --synthetic llama-2-7b --new-tokens 16 --codec fixed > "$OUT/bench_l7_p512.txt" 2>&1
echo "== l7 prompt 512 t=$SECONDS"; sed -n '/^variant/,/^$/p' "$OUT/bench_l7_p512.txt"
q
