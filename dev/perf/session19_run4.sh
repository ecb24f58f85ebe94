#!/usr/bin/env bash
# Session 19, call 4: attention_decode (the decode attention kernel for head dims 64 and 128) -- the kernel tests against
# the C# reference, the engine and batch tests, HF transformers -- then TinyLlama and Llama-2-7B tok/s against the general
# kernel (CODECLLM_ATTN_GENERAL=1) in alternation, and its per-block timeline.
set -uo pipefail
source dev/perf/device_env.sh
q
timeout 100 python3 .devrun-v/hf_reference.py /tmp/hfref --layers 4 --steps 64 2>&1 | grep -v Warning | tail -1
export CODECLLM_HF_REFERENCE=/tmp/hfref
TEST_TIMEOUT=300 classes $D attn CudaKernelTests CudaSessionTests CudaBatchTests CudaF16F32SessionTests HfTransformersComparisonTests
grep -E "HF comparison|max rel" "$OUT/tests_attn.log" | head -5
mkdir -p /tmp/tl
CODECLLM_NVRTC_DEFINES="-DTIMELINE=1" CODECLLM_TIMELINE=/tmp/tl/new bf tlnew tinyllama-1.1b "timeline" | grep -v matvec
for v in uncompressed fixed__fused_; do python3 dev/perf/attn_blocks.py /tmp/tl/new.$v.csv; done | tee "$OUT/attn_new.txt"
python3 dev/perf/timeline_summary.py /tmp/tl/new.uncompressed.csv /tmp/tl/new.fixed__fused_.csv --steps 6 > "$OUT/timeline_new.txt"
q
for i in 1 2 3; do
  bv gen_$i tinyllama-1.1b CODECLLM_ATTN_GENERAL=1
  bv new_$i tinyllama-1.1b CODECLLM_ATTN_GENERAL=0
done 2>&1 | grep -v matvec
bv l2gen llama-2-7b CODECLLM_ATTN_GENERAL=1 | grep -v matvec
bv l2new llama-2-7b CODECLLM_ATTN_GENERAL=0 | grep -v matvec
q
cat "$OUT"/bench_*.txt > "$OUT/benches.txt"; rm -f "$OUT"/bench_*.txt
echo "t=$SECONDS"
