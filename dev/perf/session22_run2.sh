#!/usr/bin/env bash
# Session 22 call 2: where the prefill time goes -- Nsight Compute kernel durations of the first (uncompressed) prefill of
# a 512-token TinyLlama prompt, summed by kernel -- and HF transformers' prefill time (bf16, SDPA) for the same shapes.
set -uo pipefail
source dev/perf/device_env.sh
q
for M in tinyllama-1.1b llama-2-7b; do timeout 200 python3 dev/perf/hf_prefill.py $M 512 2>&1 | grep -v Warn | tail -1; done
timeout 100 python3 dev/perf/hf_prefill.py tinyllama-1.1b 128 2>&1 | tail -1
ncu_prefill 2500
q
