#!/usr/bin/env bash
# Session 21 call 13: what bounds TinyLlama's `entropy` decode to scratch now (call 12: a 32 % faster one-tensor decode
# bought 1.5 % tok/s): the step with the matvecs left out (CODECLLM_PROBE_SKIP: the decodes alone, logits not the
# model's), with units decoded one at a time (CODECLLM_ENTROPY_PAIRS=0), with four scratch slots, against main.
set -uo pipefail
source dev/perf/device_env.sh
q
be tl_main tinyllama-1.1b
CODECLLM_PROBE_SKIP=qkv,o,gateup,down,head be tl_nomatvec tinyllama-1.1b
CODECLLM_PROBE_SKIP=qkv,attn,o,gateup,down,head be tl_nocompute tinyllama-1.1b
CODECLLM_ENTROPY_PAIRS=0 be tl_nopairs tinyllama-1.1b
CODECLLM_SCRATCH_SLOTS=4 be tl_slots4 tinyllama-1.1b
be tl_main2 tinyllama-1.1b
q
