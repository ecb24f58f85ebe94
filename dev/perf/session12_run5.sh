#!/usr/bin/env bash
# Session 12, run 5: does the device's NVRTC 13 keep the fused kernels' first tile loads before griddepcontrol.wait?
# (Run 4: the segment-choice mend, nearly the same SASS under NVRTC 11.8, made TinyLlama `fixed` 1029 -> 884-891.)
# The SASS of main's fused_matvec.cu (head), the mend (seg) and main with its tile loads volatile asm (fix; the same
# cubin as head under NVRTC 11.8), each kernel's loads before / after the wait (prewait.py); then head against fix
# (TinyLlama, alternating), every CUDA test of fix, and Llama-2 head against fix.
set -uo pipefail
source dev/perf/device_env.sh
K=src/CodecLlm/Backends/Cuda/Kernels
for v in head seg fix; do
    src=$K/fused_matvec.cu; [ $v = head ] || src=.devrun-v/src_$v/fused_matvec.cu
    python3 dev/perf/nvrtc_dump.py /usr/local/cuda/lib64/libnvrtc.so.13 $src $OUT/fm_$v && cuobjdump -sass $OUT/fm_$v.cubin > $OUT/fm_$v.sass
done
python3 dev/perf/prewait.py $OUT/fm_head.sass $OUT/fm_seg.sass $OUT/fm_fix.sass | tee $OUT/prewait.txt | grep -E '_a[013]_w[48] '
gzip $OUT/*.sass $OUT/*.ptx; cmp $OUT/fm_head.cubin $OUT/fm_fix.cubin && echo "fix cubin == head cubin"
overlay /tmp/bh .devrun-v/head; overlay /tmp/bx .devrun-v/fix
for i in 1 2; do
    (D=/tmp/bh; bv tl_head$i tinyllama-1.1b X=0)
    (D=/tmp/bx; bv tl_fix$i tinyllama-1.1b X=0)
done
(D=/tmp/bx; cuda_tests 200)
(D=/tmp/bh; bv l2_head llama-2-7b X=0)
(D=/tmp/bx; bv l2_fix llama-2-7b X=0)
echo "t=$SECONDS"
cat "$OUT"/bench_*.txt > "$OUT/benches.txt"; rm -f "$OUT"/bench_*.txt "$OUT"/*.cubin
