#!/usr/bin/env bash
# Session 21 call 11: main as this session leaves it (entropy decoder with three symbols a lookup): every CUDA test (HF
# reference included), one `entropy` and one `fixed` bench of TinyLlama.
set -uo pipefail
source dev/perf/device_env.sh
q
cuda_tests 330
grep -E "Total:" "$OUT/tests.log" > "$OUT/tests_summary.txt"
be tl_entropy tinyllama-1.1b
bf tl_fixed tinyllama-1.1b
q
