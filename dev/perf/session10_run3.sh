#!/usr/bin/env bash
# Session 10, run 3: where `fixed` loses against raw at TinyLlama size, per matvec role. Nsight Compute, one decode step's
# matvec launches of each variant (raw: the uncompressed pass; fixed: the fused pass), kernels serialised but caches and
# clocks left alone (--cache-control none --clock-control none), gpu__time_duration per launch.
set -uo pipefail
source dev/perf/device_env.sh
which nsys ncu 2>&1 | head -3
prof() {  # prof NAME REGEX SKIP
  timeout 150 ncu --csv --cache-control none --clock-control none --metrics gpu__time_duration.sum -k regex:"$2" --launch-skip "$3" --launch-count 180 \
    dotnet $D/CodecLlm.Cli.dll bench --device cuda --synthetic tinyllama-1.1b --prompt-tokens 32 --new-tokens 8 --codec fixed > "$OUT/ncu_$1.csv" 2> "$OUT/ncu_$1.err"
  echo "== $1 rc=$? t=$SECONDS"; tail -2 "$OUT/ncu_$1.err"
  python3 - "$OUT/ncu_$1.csv" <<'PY'
import csv,sys,collections
rows=[r for r in csv.reader(open(sys.argv[1])) if len(r)>10]
h=rows[0]; ki=h.index("Kernel Name"); vi=h.index("Metric Value"); gi=h.index("Grid Size") if "Grid Size" in h else None
seq=[(r[ki].split("(")[0], r[gi] if gi is not None else "", float(r[vi].replace(",",""))) for r in rows[1:]]
agg=collections.defaultdict(lambda:[0,0.0])
for i,(k,g,t) in enumerate(seq):
    role = "head" if i+1 < len(seq) and seq[i+1][0].startswith("argmax") else k
    if k.startswith("argmax"): role = k
    agg[(role,g)][0]+=1; agg[(role,g)][1]+=t
for (k,g),(n,t) in sorted(agg.items(), key=lambda kv:-kv[1][1]): print(f"{k:22s} grid {g:>14s} n={n:4d} avg {t/n/1000:7.2f} us")
PY
}
prof raw 'fm_raw|argmax' 600
prof fixed 'fm_fixed|argmax' 300
echo "t=$SECONDS"
