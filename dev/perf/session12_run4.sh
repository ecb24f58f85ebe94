#!/usr/bin/env bash
# Session 12, run 4: two `fixed` kernel mends against main (2213b51, .devrun-v/head): seg = the segment choice in one
# helper (fm_seg_index / fm_seg; the same SASS for the persistent raw kernels and fm_fixed_a3, fewer instructions in
# the other fixed ones), new = seg + a tile's entry range carried in its fragment (FmFixedFrag.first / n: no shuffles
# before each tile's decode); alternating. Then every CUDA test and the serve tests of new.
set -uo pipefail
source dev/perf/device_env.sh
q() { nvidia-smi --query-gpu=temperature.gpu,power.draw,clocks.sm,clocks.mem,clocks_event_reasons.active --format=csv,noheader | tee -a "$OUT/clocks.txt"; }
overlay /tmp/bh .devrun-v/head; overlay /tmp/bs .devrun-v/seg
q
for i in 1 2; do
    (D=/tmp/bh; bv tl_head$i tinyllama-1.1b X=0)
    (D=/tmp/bs; bv tl_seg$i tinyllama-1.1b X=0)
    bv tl_new$i tinyllama-1.1b X=0
done
q
(D=/tmp/bh; bv l2_head llama-2-7b X=0)
bv l2_new llama-2-7b X=0
q
echo "t=$SECONDS"
cat "$OUT"/bench_*.txt > "$OUT/benches.txt"; rm -f "$OUT"/bench_*.txt
cuda_tests 240
serve_tests
echo "t=$SECONDS"
