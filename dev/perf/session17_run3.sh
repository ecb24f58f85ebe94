#!/usr/bin/env bash
# Session 17 run 3: main with FM_PREDECODE=11 and FM_TABLE_SMEM=1 as defaults (runs 1-2: dev/perf/session17_levers.sh on
# branch s17-levers). Every CUDA test with the new defaults, then TinyLlama alternating the new defaults, session 16's
# kernels (-DFM_PREDECODE=0 -DFM_TABLE_SMEM=0: SASS identical to them under NVRTC 11.8) and ACTs 0 and 3 only (mask 9),
# then Llama-2-7B with the new defaults and the old kernels.
set -uo pipefail
source dev/perf/device_env.sh
q
cuda_tests 200
OLD="-DFM_PREDECODE=0 -DFM_TABLE_SMEM=0"
for i in 1 2; do
  bf tl_new_$i tinyllama-1.1b new
  bd tl_old_$i tinyllama-1.1b "$OLD"
  bd tl_pre9_$i tinyllama-1.1b "-DFM_PREDECODE=9"
done
q
bf l2_new llama-2-7b new
bd l2_old llama-2-7b "$OLD"
cat "$OUT"/bench_*.txt > "$OUT/benches.txt"; rm -f "$OUT"/bench_*.txt
q
echo "t=$SECONDS"
