#!/usr/bin/env bash
# Session 8 run 1: the first GPU run of branch mma-persist (tensor-core matvec, batch-1 raw and `fixed` as persistent
# blocks staging their input once per block; its build in .devrun-v/binmp over main's .devrun-v/bin, its kernels and
# dev/cuda in .devrun-v/mp_tree) against main (f7f1bae: the kernel file split's first GPU run): prod_check of both, the
# decoder/batch/session tests of both, then the benches alternating.
set -uo pipefail
source dev/perf/device_env.sh
prod_check
echo "== mma-persist:"; (cd .devrun-v/mp_tree && prod_check)
overlay /tmp/binmp .devrun-v/binmp
classes $D main GpuDecoderTests CudaBatchTests CudaSessionTests
classes /tmp/binmp mp GpuDecoderTests CudaBatchTests CudaSessionTests
DV=$D
D=$DV bf tl_main tinyllama-1.1b
D=/tmp/binmp bf tl_mp tinyllama-1.1b
D=$DV bf l2_main llama-2-7b
D=/tmp/binmp bf l2_mp llama-2-7b
D=/tmp/binmp bf tl_mp2 tinyllama-1.1b
echo "t=$SECONDS"
