#!/usr/bin/env bash
# Session 16 run 3 (branch table-smem): the batch-1 `fixed` kernels reading an exception's delta from a shared-memory copy
# of the table (-DFM_TABLE_SMEM=1: no shuffle, no table register; NVRTC 11.8 loop 613 -> 585 instructions for the SwiGLU
# kernel's two tiles, stack 16 -> 8 bytes) against the shuffle (the default, = main): every CUDA test with the define on,
# then TinyLlama three times and Llama-2-7B once, alternating; the serve tests.
set -uo pipefail
source dev/perf/device_env.sh
q
(export CODECLLM_NVRTC_DEFINES=-DFM_TABLE_SMEM=1; cuda_tests 200)
for i in 1 2 3; do
  bf tl_base_$i tinyllama-1.1b base
  bd tl_smem_$i tinyllama-1.1b -DFM_TABLE_SMEM=1
done
q
bf l2_base llama-2-7b base
bd l2_smem llama-2-7b -DFM_TABLE_SMEM=1
serve_tests
q
cat "$OUT"/bench_*.txt > "$OUT/benches.txt"; rm -f "$OUT"/bench_*.txt
echo "t=$SECONDS"
