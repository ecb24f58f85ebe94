#!/usr/bin/env bash
# (The switches it compared other than main's were measured and removed: docs/PERFORMANCE.md, "Session 19".)
# Session 19, call 5: attention_decode at 256 threads (default), 128 threads (CODECLLM_ATTN_DECODE=t128) and 256 threads in
# 40 registers (=c): the decode attention tests for each, then TinyLlama tok/s in alternation and the per-block timelines.
set -uo pipefail
source dev/perf/device_env.sh
q
for v in t128 c; do
  CODECLLM_ATTN_DECODE=$v TEST_TIMEOUT=120 classes $D attn_$v CudaKernelTests
done
mkdir -p /tmp/tl
for v in 256 t128 c; do
  CODECLLM_ATTN_DECODE=$v CODECLLM_NVRTC_DEFINES="-DTIMELINE=1" CODECLLM_TIMELINE=/tmp/tl/a$v bf tl$v tinyllama-1.1b "timeline $v" | grep -v matvec
  for w in uncompressed fixed__fused_; do python3 dev/perf/attn_blocks.py /tmp/tl/a$v.$w.csv; done
  python3 dev/perf/timeline_summary.py /tmp/tl/a$v.uncompressed.csv /tmp/tl/a$v.fixed__fused_.csv --steps 6 > "$OUT/timeline_$v.txt"
  grep attn "$OUT/timeline_$v.txt"
done 2>&1 | tee "$OUT/attn_variants.txt"
q
for i in 1 2 3; do
  for v in 256 t128 c; do bv a${v}_$i tinyllama-1.1b CODECLLM_ATTN_DECODE=$v; done
done 2>&1 | grep -v matvec
q
cat "$OUT"/bench_*.txt > "$OUT/benches.txt"; rm -f "$OUT"/bench_*.txt
echo "t=$SECONDS"
