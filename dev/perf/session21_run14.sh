#!/usr/bin/env bash
# Session 21 call 14: the review's kernel tidy-up (entropy.cu helpers for window words and requests; NVRTC 11.8 SASS not
# byte-identical, so rerun) and the entropy carveout now asked for by GpuDecoders: the entropy tests, then TinyLlama's
# `entropy` bench as is and with CODECLLM_ENTROPY_CARVEOUT=50 (call 8: ~344 against ~295 tok/s).
set -uo pipefail
source dev/perf/device_env.sh
q
entropy_classes review
be tl tinyllama-1.1b
CODECLLM_ENTROPY_CARVEOUT=50 be tl_e50 tinyllama-1.1b
q
