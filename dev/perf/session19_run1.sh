#!/usr/bin/env bash
# Prepared in session 18 (NOT YET RUN): where TinyLlama's decode step spends its time in the real schedule (CUDA graph,
# programmatic dependent launch), raw against `fixed`. Serialised per-kernel times (role_times) cannot show what the
# overlap hides, and the device machine has no Nsight Systems. So each role's launches are left out in turn
# (CODECLLM_PROBE_SKIP=qkv|attn|o|gateup|down|head; none = the full step) and the step's drop is that role's marginal
# cost, for both paths in each process (dev/perf/probe_summary.py). Then the serialised per-role times of the current
# kernels (session 14 measured them before the predecode). What it decides: the role whose `fixed` cost stands furthest
# above 0.72 of raw's is where the next lever goes.
set -uo pipefail
source dev/perf/device_env.sh
q
for i in 1 2; do
  for role in none qkv attn o gateup down head; do
    bv tl_skip_${role}_$i tinyllama-1.1b CODECLLM_PROBE_SKIP=$role
  done
done
q
python3 dev/perf/probe_summary.py "$OUT" | tee "$OUT/probe.txt"
role_times raw 'fm_raw|argmax' 600
role_times fixed 'fm_fixed|argmax' 300
q
cat "$OUT"/bench_*.txt > "$OUT/benches.txt"; rm -f "$OUT"/bench_*.txt
echo "t=$SECONDS"
