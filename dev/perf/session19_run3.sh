#!/usr/bin/env bash
# (The switches it compared other than main's were measured and removed: docs/PERFORMANCE.md, "Session 19".)
# Session 19, call 3: where a decode-attention block spends its ~5 us after the wait (the kernel timeline with the end mark
# after each phase, -DATTN_TL_PHASE=1..4; dev/perf/attn_blocks.py), then TinyLlama tok/s of main's kernels against the
# unrolled group sum (-DATTN_SUM_UNROLL=8, the same bits) and 256- and 128-thread attention blocks (CODECLLM_ATTN_THREADS).
set -uo pipefail
source dev/perf/device_env.sh
q
mkdir -p /tmp/tl
for k in 1 2 3 4 0; do
  CODECLLM_NVRTC_DEFINES="-DTIMELINE=1 -DATTN_TL_PHASE=$k" CODECLLM_TIMELINE=/tmp/tl/p$k bf tlp$k tinyllama-1.1b "phase $k" | grep -v matvec
  for v in uncompressed fixed__fused_; do python3 dev/perf/attn_blocks.py /tmp/tl/p$k.$v.csv; done
done | tee "$OUT/phases.txt"
for t in 256 128; do
  CODECLLM_NVRTC_DEFINES="-DTIMELINE=1" CODECLLM_ATTN_THREADS=$t CODECLLM_TIMELINE=/tmp/tl/t$t bf tlt$t tinyllama-1.1b "threads $t" | grep -v matvec
  for v in uncompressed fixed__fused_; do python3 dev/perf/attn_blocks.py /tmp/tl/t$t.$v.csv; done
done | tee -a "$OUT/phases.txt"
q
for i in 1 2; do
  bd main_$i tinyllama-1.1b ""
  bd unroll_$i tinyllama-1.1b "-DATTN_SUM_UNROLL=8"
  bv t256_$i tinyllama-1.1b CODECLLM_ATTN_THREADS=256
  bv t128_$i tinyllama-1.1b CODECLLM_ATTN_THREADS=128
done 2>&1 | grep -v matvec
q
cat "$OUT"/bench_*.txt > "$OUT/benches.txt"; rm -f "$OUT"/bench_*.txt
echo "t=$SECONDS"
