#!/usr/bin/env bash
# Session 21 call 9: the entropy decoder's sign/mantissa bytes copied 16 bytes a lane (cp.async.cg, not cached in L1)
# instead of 8 (cp.async.ca): call 8's 100 % carveout leaves L1 ~28 KiB and lowered TinyLlama's four-tensor rate. The
# decoder and session tests, then main (cc01f3e, /tmp/old) and the branch alternating.
set -uo pipefail
source dev/perf/device_env.sh
q
overlay /tmp/old .devrun-v/old
TEST_TIMEOUT=250 classes $D rest16 GpuDecoderTests GpuF16F32DecoderTests CudaSessionTests CudaBatchTests CudaF16F32SessionTests
grep -E "Total:" "$OUT/tests_rest16.log" > "$OUT/tests_summary.txt"
e() { local n=$1 m=$2; shift 2; BENCH_TIMEOUT=200 b $n --synthetic $m --new-tokens 64 --codec entropy "$@" > /dev/null; echo "== $n t=$SECONDS"; grep -E "^entropy|^decode entropy" "$OUT/bench_$n.txt"; }
for k in 1 2; do
  D=/tmp/old e tl_old_$k tinyllama-1.1b
  e tl_new_$k tinyllama-1.1b
done
D=/tmp/old e l2_old llama-2-7b
e l2_new llama-2-7b
q
