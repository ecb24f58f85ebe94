#!/usr/bin/env bash
# Session 4, verification run of the final main: every CUDA test (HF reference included) and one TinyLlama bench.
set -uo pipefail
source dev/perf/device_env.sh
cuda_tests 300
b tl --synthetic tinyllama-1.1b --new-tokens 128 --codec fixed
b tl_b2 --synthetic tinyllama-1.1b --new-tokens 64 --codec fixed --batch 2
