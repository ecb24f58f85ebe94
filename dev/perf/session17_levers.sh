#!/usr/bin/env bash
# Session 17 runs 1 (PART=1) and 2 (PART=2) on branch s17-levers at 8a09783 (the FM_THREE_* code lives there only),
# prepared in session 16; branch s17-levers = three-sets + predecode: the two latency levers for the fused
# `fixed` kernels in one build (docs/PERFORMANCE.md, session 16, "Next steps"):
#   -DFM_THREE_ACTS=mask  three register sets, two tiles in flight while one is multiplied (fm_engine_fixed3; the SwiGLU
#                         kernel as a gate-then-up stream); -DFM_FIXED_CAP_ACTS=11 caps ACT 0 at 80 registers;
#   -DFM_PREDECODE=mask   the first two tiles decoded into two staging slots before griddepcontrol.wait;
#   -DFM_THREE_PRE=mask   the three-set kernels of those ACTs also decode their first two tiles before the wait;
#   -DFM_TABLE_SMEM=1     the exception table in shared memory (2 registers fewer; no change alone, session 16 run 3).
# THREE takes precedence over PREDECODE for an ACT in both masks. Batch 1 ACTs: 0 = o and down, 1 = q/k/v and head,
# 3 = gate/up with the SwiGLU epilogue. Two device calls: PART=1 (NVRTC 13 registers, bit identity with each lever on,
# Nsight Compute on the SwiGLU kernel) and PART=2 (TinyLlama alternating with main's kernels, then Llama-2-7B).
set -uo pipefail
source dev/perf/device_env.sh
q
PRE="-DFM_PREDECODE=15 -DFM_TABLE_SMEM=1"
THREE="-DFM_THREE_ACTS=15 -DFM_THREE_PRE=15 -DFM_TABLE_SMEM=1"
BOTH="-DFM_PREDECODE=2 -DFM_THREE_ACTS=9 -DFM_TABLE_SMEM=1 -DFM_FIXED_CAP_ACTS=11"
if [ "${PART:-1}" = 1 ]; then
  K=src/CodecLlm/Backends/Cuda/Kernels
  for v in "" "$PRE" "$BOTH"; do
    python3 dev/perf/nvrtc_dump.py /usr/local/cuda/lib64/libnvrtc.so.13 $K/fused_matvec.cu $OUT/fm $v 2>&1 | head -5
    echo "== [$v]"; cuobjdump -res-usage $OUT/fm.cubin 2>&1 | grep -A1 -E 'fm_fixed_a[013]_w[48]\b' | grep -oE 'Function [a-z0-9_]+|REG:[0-9]+|STACK:[0-9]+' | paste - - -
  done | tee $OUT/regs.txt
  rm -f $OUT/*.cubin $OUT/*.ptx
  # the fused kernels' tests (odd sizes, escape-heavy tiles, the SwiGLU epilogue, raw == fixed) with each lever, then the
  # engine's (every step's logits compressed against uncompressed) with all of them
  (export CODECLLM_NVRTC_DEFINES="$PRE"; classes $D pre GpuDecoderTests)
  (export CODECLLM_NVRTC_DEFINES="-DFM_THREE_ACTS=15 -DFM_TABLE_SMEM=1"; classes $D three GpuDecoderTests)
  (export CODECLLM_NVRTC_DEFINES="$THREE"; classes $D threepre GpuDecoderTests)
  (export CODECLLM_NVRTC_DEFINES="-DFM_PREDECODE=15 -DFM_THREE_ACTS=9 -DFM_THREE_PRE=9 -DFM_TABLE_SMEM=1 -DFM_FIXED_CAP_ACTS=11"; classes $D all CudaSessionTests CudaBatchTests)
  M="launch__registers_per_thread,sm__warps_active.avg.pct_of_peak_sustained_active,gpu__time_duration.sum,dram__throughput.avg.pct_of_peak_sustained_elapsed,smsp__issue_active.avg.pct_of_peak_sustained_active,smsp__inst_executed.sum"
  nc() {  # nc NAME DEFINES: Nsight Compute on 22 decode-step launches of the SwiGLU kernel (session 14 run 2's method)
    CODECLLM_NVRTC_DEFINES="$2" timeout 150 ncu --metrics "$M,regex:^smsp__average_warps_issue_stalled_.*_per_issue_active\.ratio$" \
      -k regex:"fm_fixed_a3_w4" --launch-skip 22 --launch-count 22 \
      dotnet $D/CodecLlm.Cli.dll bench --device cuda --synthetic tinyllama-1.1b --prompt-tokens 32 --new-tokens 8 --codec fixed > "$OUT/ncu_$1.txt" 2>&1
    echo "== ncu $1 rc=$? t=$SECONDS"
    python3 dev/perf/ncu_metrics.py "$OUT/ncu_$1.txt"
  }
  nc glu_base ""
  nc glu_three "-DFM_THREE_ACTS=8 -DFM_TABLE_SMEM=1"
else
  for i in 1 2; do
    bf tl_base_$i tinyllama-1.1b base
    bd tl_pre11_$i tinyllama-1.1b "-DFM_PREDECODE=11 -DFM_TABLE_SMEM=1"
    bd tl_pre2_$i tinyllama-1.1b "-DFM_PREDECODE=2 -DFM_TABLE_SMEM=1"
    bd tl_three9_$i tinyllama-1.1b "-DFM_THREE_ACTS=9 -DFM_TABLE_SMEM=1 -DFM_FIXED_CAP_ACTS=11"
    bd tl_both_$i tinyllama-1.1b "$BOTH"
    bd tl_threepre_$i tinyllama-1.1b "-DFM_PREDECODE=2 -DFM_THREE_ACTS=9 -DFM_THREE_PRE=9 -DFM_TABLE_SMEM=1 -DFM_FIXED_CAP_ACTS=11"
  done
  q
  bf l2_base llama-2-7b base
  bd l2_both llama-2-7b "$BOTH"
  cat "$OUT"/bench_*.txt > "$OUT/benches.txt"; rm -f "$OUT"/bench_*.txt
fi
q
echo "t=$SECONDS"
