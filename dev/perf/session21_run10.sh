#!/usr/bin/env bash
# Session 21 call 10: the entropy decoder with up to three symbols a lookup (the BF16 kernel carries up to two symbols
# into the next chunk; the F16/F32 kernels consume whole entries): the decoder and session tests (F16/F32 among
# them), then main (77a42cb, /tmp/old) and the branch alternating.
set -uo pipefail
source dev/perf/device_env.sh
q
overlay /tmp/old .devrun-v/old
TEST_TIMEOUT=250 classes $D triples GpuDecoderTests GpuF16F32DecoderTests CudaSessionTests CudaBatchTests CudaF16F32SessionTests
grep -E "Total:" "$OUT/tests_triples.log" > "$OUT/tests_summary.txt"
e() { local n=$1 m=$2; shift 2; BENCH_TIMEOUT=200 b $n --synthetic $m --new-tokens 64 --codec entropy "$@" > /dev/null; echo "== $n t=$SECONDS"; grep -E "^entropy|^decode entropy" "$OUT/bench_$n.txt"; }
for k in 1 2; do
  D=/tmp/old e tl_old_$k tinyllama-1.1b
  e tl_new_$k tinyllama-1.1b
done
D=/tmp/old e l2_old llama-2-7b
e l2_new llama-2-7b
q
