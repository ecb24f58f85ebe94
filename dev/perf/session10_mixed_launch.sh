#!/usr/bin/env bash
# For the next GPU run (written in session 9, not yet run): branch mixed-launch = main + one launch per matrix when a
# decode-step launch mixes `fixed` and raw matrices (a model compressed with --tensors globs), with the combined
# launch's warps. Build this branch into .devrun-v/bin; the new session test and the decoder tests.
set -uo pipefail
source dev/perf/device_env.sh
classes $D mixed CudaSessionTests GpuDecoderTests
echo "t=$SECONDS"
