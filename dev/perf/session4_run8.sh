#!/usr/bin/env bash
# Session 4, GPU run 8: warps per row group on Llama-2-7B shapes (default now 8 for 512..1024 groups): q/k/v (1536 groups)
# on 8 warps too (CODECLLM_FM_W4_GROUPS=2000); o/down on 16 (CODECLLM_FM_W8_GROUPS=600).
set -uo pipefail
source dev/perf/device_env.sh
CODECLLM_FM_W4_GROUPS=2000 b l2_qkv8 --synthetic llama-2-7b --new-tokens 128 --codec fixed --scratch-slices 0
CODECLLM_FM_W8_GROUPS=600 b l2_od16 --synthetic llama-2-7b --new-tokens 128 --codec fixed --scratch-slices 0
