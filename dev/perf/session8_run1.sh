#!/usr/bin/env bash
# Session 8 run 1: the first GPU run of branch mma-persist (tensor-core matvec, batch-1 raw and `fixed` as persistent
# blocks staging their input once per block; its build in .devrun-v/binmp over main's .devrun-v/bin, its kernels and
# dev/cuda in .devrun-v/mp_tree) against main (f7f1bae: the kernel file split's first GPU run): prod_check of both, the
# decoder/batch/session tests of both, then the benches alternating.
set -uo pipefail
source dev/perf/device_env.sh
prod_check
echo "== mma-persist:"; (cd .devrun-v/mp_tree && prod_check)
cp -r $D /tmp/binmp && cp .devrun-v/binmp/* /tmp/binmp/
t3() { timeout 200 dotnet $1/CodecLlm.Tests.dll -class CodecLlm.Tests.Backends.Cuda.GpuDecoderTests -class CodecLlm.Tests.Backends.Cuda.CudaBatchTests \
  -class CodecLlm.Tests.Backends.Cuda.CudaSessionTests > "$OUT/tests_$2.log" 2>&1; echo "== tests $2 rc=$? t=$SECONDS"
  grep -E '\[FAIL\]|Total:' "$OUT/tests_$2.log" | head; grep -A8 '\[FAIL\]' "$OUT/tests_$2.log" | grep -v "^\s*at " | head -30; }
t3 $D main
t3 /tmp/binmp mp
DV=$D
D=$DV bf tl_main tinyllama-1.1b
D=/tmp/binmp bf tl_mp tinyllama-1.1b
D=$DV bf l2_main llama-2-7b
D=/tmp/binmp bf l2_mp llama-2-7b
D=/tmp/binmp bf tl_mp2 tinyllama-1.1b
echo "t=$SECONDS"
