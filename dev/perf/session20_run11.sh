#!/usr/bin/env bash
# Session 20 call 12: the entropy decoder's EN_LOOKUP_AHEAD=1 (a symbol's step issues the next symbol's table lookup
# before its refill; checked bit for bit by dev/cuda/entropy_emul.cpp in an earlier session, never measured on a GPU):
# the decoder and session tests with it on, then the bench's decode rates and `entropy` tok/s, off/on alternating.
set -uo pipefail
source dev/perf/device_env.sh
q
CODECLLM_NVRTC_DEFINES=-DEN_LOOKUP_AHEAD=1 TEST_TIMEOUT=200 classes $D ahead GpuDecoderTests CudaSessionTests
e() { local n=$1 m=$2; shift 2; BENCH_TIMEOUT=200 b $n --synthetic $m --new-tokens 64 --codec entropy "$@" > /dev/null; echo "== $n t=$SECONDS"; grep -E "^entropy|^decode entropy" "$OUT/bench_$n.txt"; }
for k in 1 2; do
  e tl_off_$k tinyllama-1.1b
  CODECLLM_NVRTC_DEFINES=-DEN_LOOKUP_AHEAD=1 e tl_on_$k tinyllama-1.1b
done
e l2_off llama-2-7b
CODECLLM_NVRTC_DEFINES=-DEN_LOOKUP_AHEAD=1 e l2_on llama-2-7b
q
