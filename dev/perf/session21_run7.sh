#!/usr/bin/env bash
# Session 21 call 7: the entropy decoder v6 (v5 of call 3 with four predicated window requests a chunk instead of a
# divergent loop -- call 6 put 16 % of the samples there -- and 32-bit shared-memory offsets in the step):
# the decoder, session and batch tests, then the bench's decode rates and `entropy` tok/s: main (/tmp/old), call 1's
# pairs + branch-free refill (ab56342, /tmp/mid) and v6, alternating; the test summary first.
set -uo pipefail
source dev/perf/device_env.sh
q
overlay /tmp/old .devrun-v/old
overlay /tmp/mid .devrun-v/mid
TEST_TIMEOUT=250 classes $D v6 GpuDecoderTests GpuF16F32DecoderTests CudaSessionTests CudaBatchTests CudaF16F32SessionTests
grep -E "Total:" "$OUT/tests_v6.log" > "$OUT/tests_summary.txt"
e() { local n=$1 m=$2; shift 2; BENCH_TIMEOUT=200 b $n --synthetic $m --new-tokens 64 --codec entropy "$@" > /dev/null; echo "== $n t=$SECONDS"; grep -E "^entropy|^decode entropy" "$OUT/bench_$n.txt"; }
CODECLLM_SMEM_CARVEOUT=100 e tl_v6_c100 tinyllama-1.1b
for k in 1 2; do
  D=/tmp/old e tl_old_$k tinyllama-1.1b
  D=/tmp/mid e tl_mid_$k tinyllama-1.1b
  e tl_v6_$k tinyllama-1.1b
done
q
D=/tmp/old e l2_old llama-2-7b
D=/tmp/mid e l2_mid llama-2-7b
e l2_v6 llama-2-7b
q
