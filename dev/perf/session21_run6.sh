#!/usr/bin/env bash
# Session 21 call 6: Nsight Compute on one one-tensor `entropy_decode` launch of v5 (TinyLlama [5632, 2048]; the bench's
# rate passes come last: 52 passes x 44 one-tensor launches, then 52 x 11 four-tensor launches): warp stall reasons and
# the SASS instructions with the most stall samples.
set -uo pipefail
source dev/perf/device_env.sh
args=(bench --device cuda --synthetic tinyllama-1.1b --prompt-tokens 4 --new-tokens 2 --codec entropy)
timeout 200 ncu --csv --metrics gpu__time_duration.sum -k regex:entropy_decode$ dotnet $D/CodecLlm.Cli.dll "${args[@]}" > "$OUT/count.csv" 2> /dev/null
n=$(grep -c '"entropy_decode' "$OUT/count.csv"); echo "== $n launches t=$SECONDS"
timeout 250 ncu -o /tmp/rep --section WarpStateStats --section SourceCounters --section LaunchStats --import-source no \
  --metrics regex:smsp__average_warps_issue_stalled_.*_per_issue_active.ratio,smsp__inst_executed.sum,smsp__cycles_active.avg,gpu__time_duration.sum \
  -k regex:entropy_decode$ --launch-skip $((n - 572 - 300)) --launch-count 1 dotnet $D/CodecLlm.Cli.dll "${args[@]}" > /dev/null 2> "$OUT/prof.err"
echo "== profiled rc=$? t=$SECONDS"; tail -1 "$OUT/prof.err"
ncu -i /tmp/rep.ncu-rep --csv --page details > "$OUT/details.csv" 2>/dev/null
ncu -i /tmp/rep.ncu-rep --csv --page source --print-source sass > "$OUT/sass.csv" 2>/dev/null
python3 - "$OUT/details.csv" "$OUT/sass.csv" <<'PY'
import csv,sys
rows=[r for r in csv.reader(open(sys.argv[1])) if len(r)>12]
h=rows[0]
for r in rows[1:]:
    d=dict(zip(h,r)); m=d.get('Metric Name','')
    if 'stalled' in m:
        try: v=float(d['Metric Value'].replace(',',''))
        except: continue
        if v>=0.05: print(f"{m.replace('smsp__average_warps_issue_stalled_','').replace('_per_issue_active.ratio',''):28s} {v:7.2f}")
    elif m in ('gpu__time_duration.sum','smsp__inst_executed.sum','smsp__cycles_active.avg','Grid Size','Warp Cycles Per Issued Instruction'):
        print(f"{m:28s} {d['Metric Value']}")
rows=list(csv.reader(open(sys.argv[2])))
hi=next(i for i,r in enumerate(rows) if any('Source' == c for c in r))
h=rows[hi]; print(h)
src=h.index('Source'); 
cands=[i for i,c in enumerate(h) if 'Warp Stall Sampling (All' in c]
si=cands[0] if cands else None
ii=[i for i,c in enumerate(h) if c.startswith('Instructions Executed')]
data=rows[hi+1:]
tot=sum(float(r[si] or 0) for r in data if len(r)>si)
print("total samples", tot)
for k,r in enumerate(data):
    if len(r)<=si: continue
    s=float(r[si] or 0)
    if s>=tot*0.006: print(f"{k:5d} {s/tot*100:5.1f}% {r[src][:90]}")
PY
