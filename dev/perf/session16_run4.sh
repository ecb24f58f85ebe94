#!/usr/bin/env bash
# Session 16 run 4 (branch bulk-pf): a warp's tiles asked of L2 in one bulk prefetch when it starts its walk
# (-DFM_BULK_PF=1, the `fixed` kernels), and the persistent raw kernels asking L2 for their next row group's columns
# (-DFM_BULK_PF_RAW=1), against neither (= main), alternating; the bench checks bit identity at every step.
set -uo pipefail
source dev/perf/device_env.sh
q
for i in 1 2; do
  bf tl_base_$i tinyllama-1.1b base
  bd tl_pf_$i tinyllama-1.1b -DFM_BULK_PF=1
done
bd tl_pfraw tinyllama-1.1b -DFM_BULK_PF_RAW=1
bd tl_pfboth tinyllama-1.1b "-DFM_BULK_PF=1 -DFM_BULK_PF_RAW=1"
q
bf l2_base llama-2-7b base
bd l2_pf llama-2-7b -DFM_BULK_PF=1
cat "$OUT"/bench_*.txt > "$OUT/benches.txt"; rm -f "$OUT"/bench_*.txt
echo "t=$SECONDS"
