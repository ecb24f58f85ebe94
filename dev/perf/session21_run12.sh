#!/usr/bin/env bash
# Session 21 call 12: `entropy` with shorter lane streams (K = 512, 256 symbols instead of 1024: 2x, 4x the groups, so
# more warps decode a tensor; the bench now takes codec specs): TinyLlama's three in one process, then each alone for
# its decode rates; Llama-2-7B's 1024 and 512 in one process.
set -uo pipefail
source dev/perf/device_env.sh
q
show() { echo "== $1 t=$SECONDS"; grep -E "^uncompressed|^entropy|^decode entropy" "$OUT/bench_$1.txt"; }
b tl_k --synthetic tinyllama-1.1b --new-tokens 64 --codec entropy,entropy:lane_symbols=512,entropy:lane_symbols=256 > /dev/null; show tl_k
b tl_k512 --synthetic tinyllama-1.1b --new-tokens 64 --codec entropy:lane_symbols=512 > /dev/null; show tl_k512
b tl_k256 --synthetic tinyllama-1.1b --new-tokens 64 --codec entropy:lane_symbols=256 > /dev/null; show tl_k256
q
BENCH_TIMEOUT=300 b l2_k --synthetic llama-2-7b --new-tokens 64 --codec entropy,entropy:lane_symbols=512 > /dev/null; show l2_k
BENCH_TIMEOUT=300 b l2_k512 --synthetic llama-2-7b --new-tokens 64 --codec entropy:lane_symbols=512 > /dev/null; show l2_k512
q
