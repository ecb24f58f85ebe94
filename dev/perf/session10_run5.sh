#!/usr/bin/env bash
# Session 10, run 5 (branch prefetch2, defaults = main's cubin): the per-group fused kernels' PDL behaviour, A/B in one
# build: nothing fetched before griddepcontrol.wait (-DFM_FETCH_AFTER_WAIT=1); launch_dependents after the block's
# tiles instead of at its start (-DFM_LATE_TRIGGER=1). Raw batch-1 launches are persistent kernels, unchanged.
set -uo pipefail
source dev/perf/device_env.sh
bd tl_base tinyllama-1.1b ""
bd tl_after tinyllama-1.1b "-DFM_FETCH_AFTER_WAIT=1"
bd tl_late tinyllama-1.1b "-DFM_LATE_TRIGGER=1"
bd tl_base2 tinyllama-1.1b ""
bd l2_late llama-2-7b "-DFM_LATE_TRIGGER=1"
bd l2_base llama-2-7b ""
echo "t=$SECONDS"
cat "$OUT"/bench_tl_*.txt > "$OUT/benches_tl.txt"; cat "$OUT"/bench_l2_*.txt > "$OUT/benches_l2.txt"; rm -f "$OUT"/bench_*.txt
