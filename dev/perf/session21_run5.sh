#!/usr/bin/env bash
# Session 21 call 5: the branch as it will merge (entropy decoder v5 the default): every CUDA test (HF reference
# included), the `entropy` bench twice on TinyLlama and once on Llama-2-7B, once with every kernel's shared-memory
# carveout at 100 % (CODECLLM_SMEM_CARVEOUT=100; call 4: the 50 % default leaves room for 6 decoder blocks a SM), and one
# `fixed` bench (main's figures unchanged).
set -uo pipefail
source dev/perf/device_env.sh
q
cuda_tests 330
grep -E "Total:" "$OUT/tests.log" > "$OUT/tests_summary.txt"
e() { local n=$1 m=$2; shift 2; BENCH_TIMEOUT=200 b $n --synthetic $m --new-tokens 64 --codec entropy "$@" > /dev/null; echo "== $n t=$SECONDS"; grep -E "^uncompressed|^entropy|^decode entropy" "$OUT/bench_$n.txt"; }
e tl_1 tinyllama-1.1b
CODECLLM_SMEM_CARVEOUT=100 e tl_c100 tinyllama-1.1b
e tl_2 tinyllama-1.1b
e l2 llama-2-7b
CODECLLM_SMEM_CARVEOUT=100 e l2_c100 llama-2-7b
bf tl_fixed tinyllama-1.1b
q
