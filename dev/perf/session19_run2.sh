#!/usr/bin/env bash
# (The switches it compared other than main's were measured and removed: docs/PERFORMANCE.md, "Session 19".)
# Session 19, call 2: the kernel timeline (-DTIMELINE=1, CODECLLM_TIMELINE; dev/perf/timeline_summary.py) of TinyLlama's
# decode steps, raw against `fixed`, for main's kernels and two schedule variants (the o/down kernels without predecode,
# FM_PREDECODE=10; attention letting the o projection launch only after its wait, ATTN_LATE_TRIGGER=1), then each
# variant's tok/s without the instrumentation, main beside them.
set -uo pipefail
source dev/perf/device_env.sh
q
mkdir -p /tmp/tl
tl() {  # tl NAME DEFINES: a timeline bench, its summary
    CODECLLM_NVRTC_DEFINES="-DTIMELINE=1 $2" CODECLLM_TIMELINE=/tmp/tl/$1 bf tl_$1 tinyllama-1.1b "timeline $2"
    ls /tmp/tl/$1.* | head; python3 dev/perf/timeline_summary.py /tmp/tl/$1.uncompressed.csv /tmp/tl/$1.fixed__fused_.csv --steps 8 | tee "$OUT/timeline_$1.txt"
}
tl main ""
tl pre10 "-DFM_PREDECODE=10"
tl late "-DATTN_LATE_TRIGGER=1"
q
for i in 1 2; do
  bd main_$i tinyllama-1.1b ""
  bd pre10_$i tinyllama-1.1b "-DFM_PREDECODE=10"
  bd late_$i tinyllama-1.1b "-DATTN_LATE_TRIGGER=1"
done
q
(cd /tmp/tl && for f in main.*.csv; do gzip -c "$f" > "$OUT/$f.gz"; done)
cat "$OUT"/bench_*.txt > "$OUT/benches.txt"; rm -f "$OUT"/bench_*.txt
echo "t=$SECONDS"
