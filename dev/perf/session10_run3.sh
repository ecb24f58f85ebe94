#!/usr/bin/env bash
# Session 10, run 3: where `fixed` loses against raw at TinyLlama size, per matvec role. Nsight Compute, one decode step's
# matvec launches of each variant (raw: the uncompressed pass; fixed: the fused pass), kernels serialised but caches and
# clocks left alone (--cache-control none --clock-control none), gpu__time_duration per launch.
set -uo pipefail
source dev/perf/device_env.sh
which nsys ncu 2>&1 | head -3
role_times raw 'fm_raw|argmax' 600
role_times fixed 'fm_fixed|argmax' 300
echo "t=$SECONDS"
