#!/usr/bin/env bash
# Session 7, run 6: L2 -> L1 sector traffic of the fused `fixed` gate/up kernel (fm_fixed_a1_w4, TinyLlama decode step),
# layout version 2 (main before this session, .devrun-v/main/CodecLlm.dll) against version 3 (coalesced rest bytes).
set -uo pipefail
source dev/perf/device_env.sh
cp -r .devrun-v/bin /tmp/binm && cp .devrun-v/main/CodecLlm.dll /tmp/binm/
M="gpu__time_duration.sum,l1tex__t_requests_pipe_lsu_mem_global_op_ld.sum,l1tex__t_sectors_pipe_lsu_mem_global_op_ld.sum,lts__t_sectors_srcunit_tex_op_read.sum,dram__bytes_read.sum,smsp__inst_executed.sum,smsp__issue_active.avg.pct_of_peak_sustained_active"
for v in m v; do
  DD=$D; [ $v = m ] && DD=/tmp/binm
  timeout 110 ncu --metrics "$M" -k regex:"fm_fixed_a1_w4" --launch-skip 40 --launch-count 2 \
    dotnet $DD/CodecLlm.Cli.dll bench --device cuda --synthetic tinyllama-1.1b --prompt-tokens 32 --new-tokens 8 --codec fixed > "$OUT/ncu_$v.txt" 2>&1
  echo "== $v rc=$? t=$SECONDS"; grep -E "^\s+(gpu__|l1tex__|lts__|dram__|smsp__)" "$OUT/ncu_$v.txt" | tail -7
done
