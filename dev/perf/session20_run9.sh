#!/usr/bin/env bash
# Session 20 call 10: every CUDA test of main (f103886 and after: the kernels of session 19 plus the FM_DECODE_OUT_MASK
# switch, off) and the HF transformers comparison -- session 19 left fef4bae and 1e0ac41 without a GPU run.
set -uo pipefail
source dev/perf/device_env.sh
cuda_tests 300
