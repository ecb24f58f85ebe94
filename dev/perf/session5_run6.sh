#!/usr/bin/env bash
# Session 5, run 6: SwiGLU pairs (gate/up give silu(gate) * up once; the down projection reads it): every CUDA test,
# then TinyLlama and Llama-2 with pairs off (CODECLLM_SWIGLU_PAIRS=0) and on, alternating, same card.
set -uo pipefail
source dev/perf/device_env.sh
cuda_tests 240
export BENCH_TIMEOUT=150
run() { local n=$1 m=$2; shift 2; ( export "$@"; b "$n" --synthetic $m --new-tokens 128 --codec fixed ) | grep -E "^==|^uncompressed|^fixed \(fused"; }
run tl_off tinyllama-1.1b CODECLLM_SWIGLU_PAIRS=0
run tl_on tinyllama-1.1b CODECLLM_SWIGLU_PAIRS=1
run tl_off2 tinyllama-1.1b CODECLLM_SWIGLU_PAIRS=0
run tl_on2 tinyllama-1.1b CODECLLM_SWIGLU_PAIRS=1
run l2_off llama-2-7b CODECLLM_SWIGLU_PAIRS=0
run l2_on llama-2-7b CODECLLM_SWIGLU_PAIRS=1
echo "t=$SECONDS"
