#!/usr/bin/env bash
# Session 21 call 11: main as this session leaves it (entropy decoder with three symbols a lookup): every CUDA test (HF
# reference included), one `entropy` and one `fixed` bench of TinyLlama.
set -uo pipefail
source dev/perf/device_env.sh
q
cuda_tests 330
grep -E "Total:" "$OUT/tests.log" > "$OUT/tests_summary.txt"
BENCH_TIMEOUT=200 b tl_entropy --synthetic tinyllama-1.1b --new-tokens 64 --codec entropy > /dev/null
echo "== tl_entropy t=$SECONDS"; grep -E "^uncompressed|^entropy|^decode entropy" "$OUT/bench_tl_entropy.txt"
bf tl_fixed tinyllama-1.1b
q
