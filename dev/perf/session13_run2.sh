#!/usr/bin/env bash
# Session 13, run 2 (branch tile-ring's build, ring off unless CODECLLM_FM_RING is set): why the tile ring is slower
# (Nsight Compute on the TinyLlama decode-step gate/up and head kernels, ring 4 against main's), then main's open
# remeasures under the cap, alternating: two tiles ahead for the SwiGLU kernels (-DFM_TWO_AHEAD_ACTS=11), a cap for the
# ACT 0 `fixed` kernels (-DFM_FIXED_CAP_ACTS=11), the tile's entry range in its fragment (branch frag, overlay), Llama-2.
# (As run, an inline parser stood where ncu_metrics.py is called; its pattern matched nothing, and the figures were read
# from the listings afterwards with dev/perf/ncu_metrics.py.)
set -uo pipefail
source dev/perf/device_env.sh
q() { nvidia-smi --query-gpu=temperature.gpu,power.draw,clocks.sm,clocks.mem,clocks_event_reasons.active --format=csv,noheader | tee -a "$OUT/clocks.txt"; }
q
M="launch__registers_per_thread,launch__occupancy_limit_registers,launch__occupancy_limit_shared_mem,sm__warps_active.avg.pct_of_peak_sustained_active,gpu__time_duration.sum,dram__throughput.avg.pct_of_peak_sustained_elapsed,smsp__issue_active.avg.pct_of_peak_sustained_active,smsp__inst_executed.sum,l1tex__t_sector_hit_rate.pct,lts__t_sector_hit_rate.pct,l1tex__data_bank_conflicts_pipe_lsu_mem_shared.sum"
nc() {
  CODECLLM_FM_RING=$2 timeout 150 ncu --metrics "$M,regex:^smsp__average_warps_issue_stalled_.*_per_issue_active\.ratio$" \
    -k regex:"fm_fixedr?_a[13]_w4" --launch-skip 46 --launch-count 6 \
    dotnet $D/CodecLlm.Cli.dll bench --device cuda --synthetic tinyllama-1.1b --prompt-tokens 32 --new-tokens 8 --codec fixed > "$OUT/ncu_$1.txt" 2>&1
  echo "== ncu $1 rc=$? t=$SECONDS"
  python3 dev/perf/ncu_metrics.py "$OUT/ncu_$1.txt"
}
nc main 0
nc ring4 4
q
overlay /tmp/bf .devrun-v/frag
for i in 1 2 3; do
  bv tl_main$i tinyllama-1.1b X=0
  bv tl_two$i tinyllama-1.1b CODECLLM_NVRTC_DEFINES=-DFM_TWO_AHEAD_ACTS=11
done
for i in 1 2; do
  bv tl_cap0_$i tinyllama-1.1b CODECLLM_NVRTC_DEFINES=-DFM_FIXED_CAP_ACTS=11
  (D=/tmp/bf; bv tl_frag$i tinyllama-1.1b X=0)
done
q
BENCH_TIMEOUT=150 bv l2_main llama-2-7b X=0
BENCH_TIMEOUT=150 bv l2_two llama-2-7b CODECLLM_NVRTC_DEFINES=-DFM_TWO_AHEAD_ACTS=11
BENCH_TIMEOUT=150 bv l2_cap0 llama-2-7b CODECLLM_NVRTC_DEFINES=-DFM_FIXED_CAP_ACTS=11
q
cat "$OUT"/bench_*.txt > "$OUT/benches.txt"; rm -f "$OUT"/bench_*.txt
echo "t=$SECONDS"
