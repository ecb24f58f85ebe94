#!/usr/bin/env bash
# Session 16 run 1 (prepared in session 15, run on an H100 in session 16; logs in dev/perf/results/session16/run1_*): branch s15-decoder's lean `fixed` decoder to scratch
# (.devrun-v/bin) against main's (its CodecLlm.dll in .devrun-v/old, laid over the build in /tmp/old): every CUDA test of
# the branch (among them GpuFixedDecodeWalksSeveralTilesPerWarp), then TinyLlama decode to scratch in whole steps and
# in 8 and 16 MiB slices (the L2-resident units that a faster decoder is meant to win), alternating, and Llama-2-7B.
set -uo pipefail
source dev/perf/device_env.sh
overlay /tmp/old .devrun-v/old
q
cuda_tests 200
for i in 1 2; do
  D=/tmp/old b tl_old_$i --synthetic tinyllama-1.1b --new-tokens 128 --codec fixed --scratch-slices 0,8,16 | grep -E "^==|^uncompressed|^fixed|decode "
  D=.devrun-v/bin b tl_new_$i --synthetic tinyllama-1.1b --new-tokens 128 --codec fixed --scratch-slices 0,8,16 | grep -E "^==|^uncompressed|^fixed|decode "
done
D=/tmp/old b l2_old --synthetic llama-2-7b --new-tokens 128 --codec fixed | grep -E "^==|^uncompressed|^fixed|decode "
D=.devrun-v/bin b l2_new --synthetic llama-2-7b --new-tokens 128 --codec fixed | grep -E "^==|^uncompressed|^fixed|decode "
q
cat "$OUT"/bench_*.txt > "$OUT/benches.txt"; rm -f "$OUT"/bench_*.txt
echo "t=$SECONDS"
