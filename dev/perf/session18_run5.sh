#!/usr/bin/env bash
# Session 18 run 5: the batch-1 tuning knobs re-swept at the session 17 kernels (predecode changed the fixed kernels'
# registers and how many tiles a warp walks after the wait): register caps (FM_FIXED_CAP_ACTS: 11 caps o/down too, 8
# uncaps q/k/v), warps a group (CODECLLM_FM_W8_GROUPS 300: o and down at 16 warps; 400: q/k/v too;
# CODECLLM_FM_W4_GROUPS 600: gate/up at 4). TinyLlama `fixed` against uncompressed in each process, main twice.
set -uo pipefail
source dev/perf/device_env.sh
q
for i in 1 2; do
  bf tl_main_$i tinyllama-1.1b main
  bd tl_cap11_$i tinyllama-1.1b "-DFM_FIXED_CAP_ACTS=11"
  bd tl_cap8_$i tinyllama-1.1b "-DFM_FIXED_CAP_ACTS=8"
  bv tl_w8g300_$i tinyllama-1.1b CODECLLM_FM_W8_GROUPS=300
  bv tl_w8g400_$i tinyllama-1.1b CODECLLM_FM_W8_GROUPS=400
  bv tl_w4g600_$i tinyllama-1.1b CODECLLM_FM_W4_GROUPS=600
done
cat "$OUT"/bench_*.txt > "$OUT/benches.txt"; rm -f "$OUT"/bench_*.txt
q
echo "t=$SECONDS"
