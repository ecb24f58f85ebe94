#!/usr/bin/env bash
# Session 9 run 2: `fixed` layout version 4 (8 exponent codes, exception entries applied by the whole warp) and the
# SwiGLU epilogue (gate/up launch writes h = silu(gate) * up; down reads h as it is). Every CUDA test first, then
# TinyLlama alternating (default; CODECLLM_GLU_EPILOGUE=0; the `fixed` kernels capped to 896 threads a SM = 72
# registers), Llama-2-7B default and capped, then dev/cuda/prod_check.
set -uo pipefail
source dev/perf/device_env.sh
cuda_tests 330
bd tl_v4 tinyllama-1.1b ""
CODECLLM_GLU_EPILOGUE=0 bd tl_v4_noglu tinyllama-1.1b ""
bd tl_v4_cap tinyllama-1.1b "-DFM_FIXED_SM_THREADS=896"
bd tl_v4b tinyllama-1.1b ""
bd l2_v4 llama-2-7b ""
bd l2_v4_cap llama-2-7b "-DFM_FIXED_SM_THREADS=896"
prod_check
echo "t=$SECONDS"
