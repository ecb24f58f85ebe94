#!/usr/bin/env bash
# Session 6, run 2: what limits the fused `fixed` matvec (ptxas resources, Nsight Compute stall reasons of the fixed
# and raw gate/up and down kernels in TinyLlama decode steps), and a register cap for the fixed kernels
# (FM_FIXED_MIN_WARPS, via CODECLLM_NVRTC_DEFINES), alternating on one card.
set -uo pipefail
source dev/perf/device_env.sh
K=src/CodecLlm/Backends/Cuda/Kernels
cp $K/fused_matvec.cu /tmp/fm.cu
for defs in "" "-DFM_FIXED_MIN_WARPS=32" "-DFM_FIXED_MIN_WARPS=40" "-DFM_FIXED_MIN_WARPS=48"; do
  nvcc -cubin -arch=sm_90 -std=c++17 $defs -Xptxas -v -o /tmp/fm.cubin /tmp/fm.cu > /tmp/ptxas.txt 2>&1
  echo "== ptxas [$defs]"; for k in fm_fixed_a1_w4 fm_fixed_a2_w8 fm_fixed_a1_w8 fm_fixed_a0_w8 fm_rawp_a1_w4; do
    echo "$k: $(grep -A3 "Compiling entry function '$k'" /tmp/ptxas.txt | grep -E 'stack|registers' | sed 's/ptxas info *: //' | tr '\n' ' ')"; done
done
echo "== ncu t=$SECONDS"
M="launch__registers_per_thread,launch__occupancy_limit_registers,sm__warps_active.avg.pct_of_peak_sustained_active,gpu__time_duration.sum,dram__throughput.avg.pct_of_peak_sustained_elapsed,smsp__issue_active.avg.pct_of_peak_sustained_active,smsp__inst_executed.sum,sm__cycles_elapsed.avg,l1tex__t_sector_hit_rate.pct,lts__t_sector_hit_rate.pct"
timeout 240 ncu --metrics "$M,regex:^smsp__average_warps_issue_stalled_.*_per_issue_active\.ratio$" \
  -k regex:"fm_fixed_a1_w4|fm_rawp_a1_w4|fm_fixed_a2_w8|fm_rawp_a2_w8|fm_fixed_a1_w8|fm_rawp_a1_w8" --launch-skip 60 --launch-count 12 \
  dotnet $D/CodecLlm.Cli.dll bench --device cuda --synthetic tinyllama-1.1b --prompt-tokens 32 --new-tokens 16 --codec fixed > "$OUT/ncu.txt" 2>&1
echo "ncu rc=$? t=$SECONDS"
python3 - "$OUT/ncu.txt" <<'PY'
import re,sys
cur=None; rows={}
for line in open(sys.argv[1]):
    m=re.match(r'\s+(fm_\w+)\(',line)
    if m: cur=m.group(1); rows.setdefault(cur,{}); continue
    m=re.match(r'\s+(\S+)\s+(\S+)\s+([\d.,]+)\s*$',line)
    if cur and m:
        k=m.group(1).replace('smsp__average_warps_issue_stalled_','st_').replace('_per_issue_active.ratio','')
        rows[cur][k]=m.group(3)  # last instance wins
for k,v in rows.items():
    st=sorted(((float(x.replace(',','')),n) for n,x in v.items() if n.startswith('st_')),reverse=True)[:7]
    print(k,{n:x for n,x in v.items() if not n.startswith('st_')})
    print('   stalls/issue:',', '.join(f'{n[3:]} {x:.2f}' for x,n in st))
PY
bb() { CODECLLM_NVRTC_DEFINES="$2" bf "$1" "$3" "$2"; }
bb tl_base "" tinyllama-1.1b
bb tl_w32 "-DFM_FIXED_MIN_WARPS=32" tinyllama-1.1b
bb tl_w40 "-DFM_FIXED_MIN_WARPS=40" tinyllama-1.1b
bb tl_w48 "-DFM_FIXED_MIN_WARPS=48" tinyllama-1.1b
bb l2_base "" llama-2-7b
bb l2_w40 "-DFM_FIXED_MIN_WARPS=40" llama-2-7b
bb l2_w48 "-DFM_FIXED_MIN_WARPS=48" llama-2-7b
echo "t=$SECONDS"
