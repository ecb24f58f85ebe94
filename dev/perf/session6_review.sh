#!/usr/bin/env bash
# Session 6, review run of 61dd733 (rope_kv on AttnParams, fused_matvec.cu on common.cuh): every CUDA test (HF
# reference first), the serve GPU test, dev/cuda/prod_check (nvcc build of fused_matvec.cu, now including common.cuh),
# and one TinyLlama bench (bit identity and speed against the verification run).
set -uo pipefail
source dev/perf/device_env.sh
cuda_tests 280
timeout 120 dotnet $D/CodecLlm.Tests.dll -class CodecLlm.Tests.Server.ServeCommandTests > "$OUT/serve.log" 2>&1; echo "== serve tests rc=$?"
grep -E '\[FAIL\]|Total:' "$OUT/serve.log"
echo "== prod_check"
(cd dev/cuda && timeout 150 nvcc -O3 -std=c++17 -arch=sm_90 -Xcompiler -fopenmp prod_check.cu -o /tmp/prod_check -lgomp > /tmp/pc_build.txt 2>&1 && OMP_NUM_THREADS=16 timeout 120 /tmp/prod_check > /tmp/pc.txt 2>&1; echo "rc=$?"; tail -3 /tmp/pc_build.txt; tail -2 /tmp/pc.txt)
b tl --synthetic tinyllama-1.1b --new-tokens 128 --codec fixed
echo "t=$SECONDS"
