#!/usr/bin/env bash
# Session 19, call 7: the shared-memory carveout (CODECLLM_SMEM_CARVEOUT) 50 and 75 % against the driver's choice, TinyLlama
# in alternation and Llama-2-7B, then every CUDA test (with the HF transformers reference) at 50 %.
set -uo pipefail
source dev/perf/device_env.sh
q
for i in 1 2; do
  for v in "" 50 75; do bv c${v:-def}_$i tinyllama-1.1b CODECLLM_SMEM_CARVEOUT=$v; done
done 2>&1 | grep -v matvec
bv l2c50 llama-2-7b CODECLLM_SMEM_CARVEOUT=50 | grep -v matvec
q
CODECLLM_SMEM_CARVEOUT=50 cuda_tests 300
cat "$OUT"/bench_*.txt > "$OUT/benches.txt"; rm -f "$OUT"/bench_*.txt
echo "t=$SECONDS"
