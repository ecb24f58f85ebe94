#!/usr/bin/env bash
# Session 11, run 5: warps per row group of the largest launches (CODECLLM_FM_W4_GROUPS: 4 warps from that many groups,
# else 8): 2000 = TinyLlama gate/up on 8 warps, 5000 = gate/up and head on 8; main's default (1025) around them.
set -uo pipefail
source dev/perf/device_env.sh
bv tl_base tinyllama-1.1b X=0
bv tl_w4from2000 tinyllama-1.1b CODECLLM_FM_W4_GROUPS=2000
bv tl_w4from5000 tinyllama-1.1b CODECLLM_FM_W4_GROUPS=5000
bv tl_base2 tinyllama-1.1b X=0
echo "t=$SECONDS"
cat "$OUT"/bench_tl_*.txt > "$OUT/benches_tl.txt"; rm -f "$OUT"/bench_*.txt
