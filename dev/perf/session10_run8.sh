#!/usr/bin/env bash
# Session 10, run 8 (branch glu-cross): the SwiGLU epilogue kernels start the up projection's first tile while they
# multiply the gate's last (FM_GLU_CROSS=1, the branch default, with ACT 3 capped at 640 threads a SM) against main's
# kernels (-DFM_GLU_CROSS=0, byte for byte); TinyLlama alternating, then every CUDA test, then Llama-2.
set -uo pipefail
source dev/perf/device_env.sh
bd tl_cross tinyllama-1.1b ""
bd tl_main tinyllama-1.1b "-DFM_GLU_CROSS=0"
bd tl_cross2 tinyllama-1.1b ""
bd tl_main2 tinyllama-1.1b "-DFM_GLU_CROSS=0"
cuda_tests 200
bd l2_cross llama-2-7b ""
echo "t=$SECONDS"
cat "$OUT"/bench_tl_*.txt > "$OUT/benches_tl.txt"; cat "$OUT"/bench_l2_*.txt > "$OUT/benches_l2.txt"; rm -f "$OUT"/bench_*.txt
