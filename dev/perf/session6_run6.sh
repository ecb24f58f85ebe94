#!/usr/bin/env bash
# Session 6, run 6: 16 warps per 8-row group for TinyLlama's 2048-row matrices (o, down: 256 groups; q/k/v: 320), where
# one block per group leaves the GPU at ~2 blocks (16 warps) per SM (Nsight Compute: 23 % warps active). Shape-only
# (raw and `fixed` alike): CODECLLM_FM_W8_GROUPS=257 (o, down) or 321 (and q/k/v); same card, alternating.
set -uo pipefail
source dev/perf/device_env.sh
bb() { CODECLLM_FM_W8_GROUPS=$2 bf "$1" tinyllama-1.1b "W8 from $2 groups"; }
bb tl "" ; bb tl_257 257; bb tl_321 321; bb tl_b ""; bb tl_257b 257; bb tl_321b 321
echo "t=$SECONDS"
