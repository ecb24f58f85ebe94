#!/usr/bin/env bash
# Session 10, run 4 (branch prefetch2): the per-group fused kernels fetch a warp's first two tiles before
# griddepcontrol.wait (FM_TWO_AHEAD=1, the new default) against one (-DFM_TWO_AHEAD=0 = main's cubin, byte for byte),
# TinyLlama and Llama-2, alternating; the fused-matvec test classes first.
set -uo pipefail
source dev/perf/device_env.sh
classes $D fused GpuDecoderTests CudaSessionTests CudaBatchTests CudaKernelTests GpuDecoderPolicyTests
bd tl_two tinyllama-1.1b ""
bd tl_one tinyllama-1.1b "-DFM_TWO_AHEAD=0"
bd tl_two2 tinyllama-1.1b ""
bd tl_one2 tinyllama-1.1b "-DFM_TWO_AHEAD=0"
bd l2_two llama-2-7b ""
bd l2_one llama-2-7b "-DFM_TWO_AHEAD=0"
echo "t=$SECONDS"
cat "$OUT"/bench_tl_*.txt > "$OUT/benches_tl.txt"; cat "$OUT"/bench_l2_*.txt > "$OUT/benches_l2.txt"; rm -f "$OUT"/bench_*.txt
