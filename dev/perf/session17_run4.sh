#!/usr/bin/env bash
# Session 17 run 4 (the last of the session's device time): more TinyLlama processes with the new defaults
# (FM_PREDECODE=11, FM_TABLE_SMEM=1) for the ratio's spread, alternating session 16's kernels and FM_TWO_AHEAD_ACTS
# 0 and 11 on top of the new defaults.
set -uo pipefail
source dev/perf/device_env.sh
q
bf tl_new_3 tinyllama-1.1b new
bd tl_two0 tinyllama-1.1b "-DFM_TWO_AHEAD_ACTS=0"
bf tl_new_4 tinyllama-1.1b new
bd tl_two11 tinyllama-1.1b "-DFM_TWO_AHEAD_ACTS=11"
bf tl_new_5 tinyllama-1.1b new
bd tl_old_3 tinyllama-1.1b "-DFM_PREDECODE=0 -DFM_TABLE_SMEM=0"
bf tl_new_6 tinyllama-1.1b new
cat "$OUT"/bench_*.txt > "$OUT/benches.txt"; rm -f "$OUT"/bench_*.txt
q
echo "t=$SECONDS"
