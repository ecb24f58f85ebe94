#!/usr/bin/env bash
# Session 5, run 6: SwiGLU pairs (gate/up give silu(gate) * up once; the down projection reads it): every CUDA test,
# then TinyLlama and Llama-2 with pairs off (CODECLLM_SWIGLU_PAIRS=0) and on, alternating, same card.
set -uo pipefail
source dev/perf/device_env.sh
timeout 100 python3 .devrun-v/hf_reference.py /tmp/hfref --layers 4 --steps 64 2>&1 | grep -v Warning | tail -1
export CODECLLM_HF_REFERENCE=/tmp/hfref
timeout 240 dotnet $D/CodecLlm.Tests.dll -namespace CodecLlm.Tests.Backends.Cuda > "$OUT/tests.log" 2>&1; echo "== CUDA tests rc=$?"
grep -E '\[FAIL\]|Total:|HF comparison' "$OUT/tests.log" | head -20
grep -A8 '\[FAIL\]' "$OUT/tests.log" | grep -v "^\s*at " | head -40
export BENCH_TIMEOUT=150
run() { local n=$1 m=$2; shift 2; ( export "$@"; b "$n" --synthetic $m --new-tokens 128 --codec fixed ) | grep -E "^==|^uncompressed|^fixed \(fused"; }
run tl_off tinyllama-1.1b CODECLLM_SWIGLU_PAIRS=0
run tl_on tinyllama-1.1b CODECLLM_SWIGLU_PAIRS=1
run tl_off2 tinyllama-1.1b CODECLLM_SWIGLU_PAIRS=0
run tl_on2 tinyllama-1.1b CODECLLM_SWIGLU_PAIRS=1
run l2_off llama-2-7b CODECLLM_SWIGLU_PAIRS=0
run l2_on llama-2-7b CODECLLM_SWIGLU_PAIRS=1
echo "t=$SECONDS"
