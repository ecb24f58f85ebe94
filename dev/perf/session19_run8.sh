#!/usr/bin/env bash
# Session 19, call 8: the committed default (every kernel at a 50 % shared-memory carveout) against the driver's per-kernel
# choice (CODECLLM_SMEM_CARVEOUT=driver), TinyLlama in alternation, then batches 2, 4 and 8 at the default.
set -uo pipefail
source dev/perf/device_env.sh
q
for i in 1 2 3; do
  bv def_$i tinyllama-1.1b CODECLLM_SMEM_CARVEOUT=
  bv drv_$i tinyllama-1.1b CODECLLM_SMEM_CARVEOUT=driver
done 2>&1 | grep -v matvec
q
for B in 2 4 8; do b tl_b$B --synthetic tinyllama-1.1b --new-tokens 64 --codec fixed --batch $B | grep -E "^==|^uncompressed|^fixed"; done
q
cat "$OUT"/bench_*.txt > "$OUT/benches.txt"; rm -f "$OUT"/bench_*.txt
echo "t=$SECONDS"
