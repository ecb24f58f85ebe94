#!/usr/bin/env bash
# Session 21 call 2: the entropy decoder v4 (a lane reads its stream at bit bp of three words, no bit buffer shifted or
# refilled on the chain; pairs carried across chunks) -- the entropy decoder, session and batch tests, then the bench's
# decode rates and `entropy` tok/s: main (/tmp/old), call 1's pairs + branch-free refill (ab56342, /tmp/mid) and v4,
# alternating.
set -uo pipefail
source dev/perf/device_env.sh
q
overlay /tmp/old .devrun-v/old
overlay /tmp/mid .devrun-v/mid
TEST_TIMEOUT=250 classes $D v4 GpuDecoderTests GpuF16F32DecoderTests CudaSessionTests CudaBatchTests CudaF16F32SessionTests
e() { local n=$1 m=$2; shift 2; BENCH_TIMEOUT=200 b $n --synthetic $m --new-tokens 64 --codec entropy "$@" > /dev/null; echo "== $n t=$SECONDS"; grep -E "^entropy|^decode entropy" "$OUT/bench_$n.txt"; }
for k in 1 2; do
  D=/tmp/old e tl_old_$k tinyllama-1.1b
  D=/tmp/mid e tl_mid_$k tinyllama-1.1b
  e tl_v4_$k tinyllama-1.1b
done
q
D=/tmp/old e l2_old llama-2-7b
D=/tmp/mid e l2_mid llama-2-7b
e l2_v4 llama-2-7b
q
