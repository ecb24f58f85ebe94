#!/usr/bin/env bash
# Session 11, run 1: L2 warming (the next matvec's first weights asked of L2 by each decode-step kernel, attention for o)
# and the ACT 0 x prefetch into L1, A/B against both off, TinyLlama alternating, then Llama-2.
set -uo pipefail
source dev/perf/device_env.sh
w() { local n=$1 mb=$2 def=$3; shift 3; (export CODECLLM_L2_WARM_MB=$mb CODECLLM_NVRTC_DEFINES="$def" "$@"; bf "$n" tinyllama-1.1b "mb=$mb $def $*"); }
w tl_off 0 ""
w tl_w8 8 ""
w tl_w8at0 8 "-DFM_L2WARM_AT=0"
w tl_w16 16 ""
w tl_w4 4 ""
w tl_w8hint 8 "-DL2_WARM_HINT=1"
w tl_w8qkv 8 "" CODECLLM_L2_WARM_ATTN=0
w tl_xpf 0 "-DFM_X_PREFETCH=1"
w tl_w8xpf 8 "-DFM_X_PREFETCH=1"
w tl_off2 0 ""
w tl_w8_2 8 ""
[ "${L2:-1}" = 1 ] && { CODECLLM_L2_WARM_MB=0 bf l2_off llama-2-7b off; CODECLLM_L2_WARM_MB=8 bf l2_w8 llama-2-7b w8; }
echo "t=$SECONDS"
cat "$OUT"/bench_tl_*.txt > "$OUT/benches_tl.txt"; cat "$OUT"/bench_l2_*.txt > "$OUT/benches_l2.txt" 2>/dev/null; rm -f "$OUT"/bench_*.txt
