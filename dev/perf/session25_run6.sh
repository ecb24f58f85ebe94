#!/usr/bin/env bash
# Session 25 call 6 (review: the tiled prefill's window start hoisted out of its key loop): the kernel tests (the
# sliding-window prefill cases among them), the session and batch tests.
set -uo pipefail
source dev/perf/device_env.sh
TEST_TIMEOUT=120 classes $D kern CudaKernelTests
TEST_TIMEOUT=200 classes $D sess CudaSessionTests CudaBatchTests
