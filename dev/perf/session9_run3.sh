#!/usr/bin/env bash
# Session 9 run 3: run 2's test failures mended (the SwiGLU epilogue only for BF16 gate/up weights: F32/F16 ones run
# matvec.cu); every CUDA test again; register caps of the `fixed` kernels A/B: A = the SwiGLU kernels (ACT 3) fit
# 768 threads a SM (80 registers: 6 blocks of 4 warps), B = every `fixed` kernel fits 896 (72 registers), TinyLlama
# alternating, Llama-2-7B default / A / the epilogue off.
set -uo pipefail
source dev/perf/device_env.sh
cuda_tests 300
A="-DFM_FIXED_SM_THREADS=768 -DFM_FIXED_CAP_ACTS=8"
B="-DFM_FIXED_SM_THREADS=896"
bd tl_def tinyllama-1.1b ""
bd tl_a tinyllama-1.1b "$A"
bd tl_b tinyllama-1.1b "$B"
bd tl_def2 tinyllama-1.1b ""
bd tl_a2 tinyllama-1.1b "$A"
bd l2_def llama-2-7b ""
bd l2_a llama-2-7b "$A"
CODECLLM_GLU_EPILOGUE=0 bd l2_noglu llama-2-7b ""
echo "t=$SECONDS"
