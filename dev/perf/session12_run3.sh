#!/usr/bin/env bash
# Session 12, run 3 (run 2's machine, warm): the verification of main's working tree with the raw SwiGLU epilogue
# (HF reference + every CUDA test, the serve tests) and two more benches of it.
set -uo pipefail
source dev/perf/device_env.sh
q() { nvidia-smi --query-gpu=temperature.gpu,power.draw,clocks.sm,clocks.mem,clocks_event_reasons.active --format=csv,noheader | tee -a "$OUT/clocks.txt"; }
q
bv tl_new3 tinyllama-1.1b X=0
bv tl_new4 tinyllama-1.1b X=0
q
cuda_tests 300
serve_tests
echo "t=$SECONDS"
cat "$OUT"/bench_*.txt > "$OUT/benches.txt"; rm -f "$OUT"/bench_*.txt
