#!/usr/bin/env bash
# Session 7, run 2: the tensor-core matvec, coalesced lanes (layout version 3). prod_check first (raw == fixed and an FP64 reference,
# every standalone entry), then the bench (TinyLlama, Llama-2), then the CUDA tests.
set -uo pipefail
source dev/perf/device_env.sh
echo "== prod_check"
(cd dev/cuda && timeout 150 nvcc -O3 -std=c++17 -arch=sm_90 -Xcompiler -fopenmp prod_check.cu -o /tmp/prod_check -lgomp > /tmp/pc_build.txt 2>&1 && OMP_NUM_THREADS=16 timeout 120 /tmp/prod_check > /tmp/pc.txt 2>&1; echo "rc=$?"; tail -3 /tmp/pc_build.txt; head -12 /tmp/pc.txt; tail -2 /tmp/pc.txt)
echo "t=$SECONDS"
b tl --synthetic tinyllama-1.1b --new-tokens 128 --codec fixed
b tl2 --synthetic tinyllama-1.1b --new-tokens 128 --codec fixed
echo "t=$SECONDS"
b l2 --synthetic llama-2-7b --new-tokens 128 --codec fixed
echo "t=$SECONDS"
cuda_tests 280
echo "t=$SECONDS"
