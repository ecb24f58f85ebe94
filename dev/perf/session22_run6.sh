#!/usr/bin/env bash
# Session 22 call 6: main as this session leaves it (0a05335 + docs) -- every CUDA test (HF reference included), the
# standard TinyLlama bench and a 512-token prefill of both models.
set -uo pipefail
source dev/perf/device_env.sh
q
cuda_tests 330
grep -E "Total:" "$OUT/tests.log" > "$OUT/tests_summary.txt"
bf tl_fixed tinyllama-1.1b
sed -n '/^variant/,/^$/p' "$OUT/bench_tl_fixed.txt"
for M in tinyllama-1.1b llama-2-7b; do
  timeout 300 dotnet $D/CodecLlm.Cli.dll bench --device cuda --prompt-tokens 512 --synthetic $M --new-tokens 16 --codec fixed > "$OUT/bench_${M}_p512.txt" 2>&1
  echo "== $M p512 t=$SECONDS"; sed -n '/^variant/,/^$/p' "$OUT/bench_${M}_p512.txt"
done
q
