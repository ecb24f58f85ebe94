#!/usr/bin/env bash
# Session 12, run 6: the SwiGLU epilogue `fixed` kernels capped at 768 threads a SM (80 registers; run 5's SASS showed
# NVRTC 13 giving fm_fixed_a3_w4 80 registers on main but 96 with run 4's segment-choice mend, 5 blocks a SM instead
# of 6 for TinyLlama's 704 gate/up blocks). bin = cap + the mend (candidate main), cap = the cap alone, head = main
# (2213b51). NVRTC 13's registers of each, TinyLlama alternating, then every CUDA test and the serve tests of bin.
set -uo pipefail
source dev/perf/device_env.sh
K=src/CodecLlm/Backends/Cuda/Kernels
python3 dev/perf/nvrtc_dump.py /usr/local/cuda/lib64/libnvrtc.so.13 $K/fused_matvec.cu $OUT/fm_capseg && cuobjdump -sass $OUT/fm_capseg.cubin > $OUT/fm_capseg.sass
python3 dev/perf/nvrtc_dump.py /usr/local/cuda/lib64/libnvrtc.so.13 .devrun-v/src_cap/fused_matvec.cu $OUT/fm_cap && cuobjdump -sass $OUT/fm_cap.cubin > $OUT/fm_cap.sass
cuobjdump -res-usage $OUT/fm_capseg.cubin $OUT/fm_cap.cubin 2>&1 | grep -A1 -E 'fm_fixed_a[013]_w[48]\b|fm_rawp_a[013]_w[48]\b' | grep -oE 'Function [a-z0-9_]+|REG:[0-9]+|STACK:[0-9]+' | paste - - - | tee $OUT/regs.txt
rm -f $OUT/*.cubin $OUT/*.ptx; gzip $OUT/*.sass
overlay /tmp/bh .devrun-v/head; overlay /tmp/bc .devrun-v/cap
for i in 1 2; do
    (D=/tmp/bh; bv tl_head$i tinyllama-1.1b X=0)
    bv tl_capseg$i tinyllama-1.1b X=0
done
(D=/tmp/bc; bv tl_cap tinyllama-1.1b X=0)
cat "$OUT"/bench_*.txt > "$OUT/benches.txt"; rm -f "$OUT"/bench_*.txt
cuda_tests 200
serve_tests
echo "t=$SECONDS"
