#!/usr/bin/env bash
# Session 14, run 2 (branch glu-interleave + the SwiGLU kernel's input staged in shared memory, FM_GLU_STAGE_X, default 1):
# registers, Nsight Compute on the TinyLlama gate/up launches (stage 1 / 0), TinyLlama alternating main (interleave 0) /
# interleave without the stage / with it, Llama-2, every CUDA test of the build, the per-role matvec times of one decode
# step (session 10 run 3's method) for raw and `fixed`.
set -uo pipefail
source dev/perf/device_env.sh
q
K=src/CodecLlm/Backends/Cuda/Kernels
for v in "-DFM_GLU_STAGE_X=1" "-DFM_GLU_STAGE_X=0"; do
  python3 dev/perf/nvrtc_dump.py /usr/local/cuda/lib64/libnvrtc.so.13 $K/fused_matvec.cu $OUT/fm $v 2>&1 | head -5
  echo "== $v"; cuobjdump -res-usage $OUT/fm.cubin 2>&1 | grep -A1 -E 'fm_fixed_a3_w[48]\b' | grep -oE 'Function [a-z0-9_]+|REG:[0-9]+|STACK:[0-9]+' | paste - - -
done | tee $OUT/regs.txt
rm -f $OUT/*.cubin $OUT/*.ptx
M="launch__registers_per_thread,sm__warps_active.avg.pct_of_peak_sustained_active,gpu__time_duration.sum,dram__throughput.avg.pct_of_peak_sustained_elapsed,smsp__issue_active.avg.pct_of_peak_sustained_active,smsp__inst_executed.sum"
nc() {
  CODECLLM_NVRTC_DEFINES="$2" timeout 150 ncu --metrics "$M,regex:^smsp__average_warps_issue_stalled_.*_per_issue_active\.ratio$" \
    -k regex:"fm_fixed_a3_w4" --launch-skip 22 --launch-count 22 \
    dotnet $D/CodecLlm.Cli.dll bench --device cuda --synthetic tinyllama-1.1b --prompt-tokens 32 --new-tokens 8 --codec fixed > "$OUT/ncu_$1.txt" 2>&1
  echo "== ncu $1 rc=$? t=$SECONDS"
  python3 dev/perf/ncu_metrics.py "$OUT/ncu_$1.txt"
}
nc stage1 -DFM_GLU_STAGE_X=1
nc stage0 -DFM_GLU_STAGE_X=0
q
for i in 1 2; do
  bv tl_main$i tinyllama-1.1b CODECLLM_NVRTC_DEFINES=-DFM_GLU_INTERLEAVE=0
  bv tl_il$i tinyllama-1.1b CODECLLM_NVRTC_DEFINES=-DFM_GLU_STAGE_X=0
  bv tl_st$i tinyllama-1.1b X=0
done
q
BENCH_TIMEOUT=150 bv l2_st llama-2-7b X=0
q
cuda_tests 200
q
role_times raw 'fm_raw|argmax' 600
role_times fixed 'fm_fixed|argmax' 300
q
cat "$OUT"/bench_*.txt > "$OUT/benches.txt"; rm -f "$OUT"/bench_*.txt
echo "t=$SECONDS"
