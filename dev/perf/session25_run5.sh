#!/usr/bin/env bash
# Session 25 call 5: the session and batch tests after the review's shared batched-against-alone helper
# (CudaSessionTests.AssertBatchedAsAlone), and the kernel tests.
set -uo pipefail
source dev/perf/device_env.sh
TEST_TIMEOUT=200 classes $D sess CudaSessionTests CudaBatchTests
TEST_TIMEOUT=120 classes $D kern CudaKernelTests
