#!/usr/bin/env bash
# Session 19, call 9: the final attention.cu (RoPE pair shared by both attention kernels: the same opcodes, rescheduled) --
# the kernel tests (decode attention against the C# reference) and the engine's session tests.
set -uo pipefail
source dev/perf/device_env.sh
TEST_TIMEOUT=170 classes $D final CudaKernelTests CudaSessionTests
echo "t=$SECONDS"
