#!/usr/bin/env bash
# Session 22 call 2: where the prefill time goes -- Nsight Compute kernel durations of the first (uncompressed) prefill of
# a 512-token TinyLlama prompt, summed by kernel -- and HF transformers' prefill time (bf16, SDPA) for the same shapes.
set -uo pipefail
source dev/perf/device_env.sh
q
for M in tinyllama-1.1b llama-2-7b; do timeout 200 python3 dev/perf/hf_prefill.py $M 512 2>&1 | grep -v Warn | tail -1; done
timeout 100 python3 dev/perf/hf_prefill.py tinyllama-1.1b 128 2>&1 | tail -1
timeout 300 ncu --csv --cache-control none --clock-control none --metrics gpu__time_duration.sum --launch-count 2500 \
  dotnet $D/CodecLlm.Cli.dll bench --device cuda --synthetic tinyllama-1.1b --prompt-tokens 512 --new-tokens 2 --codec fixed > "$OUT/ncu_prefill.csv" 2> "$OUT/ncu_prefill.err"
echo "== ncu rc=$? t=$SECONDS"; tail -2 "$OUT/ncu_prefill.err"
python3 - "$OUT/ncu_prefill.csv" <<'PY'
import csv,sys,collections
rows=[r for r in csv.reader(open(sys.argv[1])) if len(r)>10]
h=rows[0]; ki=h.index("Kernel Name"); vi=h.index("Metric Value")
seq=[(r[ki].split("(")[0][:60], float(r[vi].replace(",",""))) for r in rows[1:]]
# the first prefill: from the first rms_norm launch to the first argmax / decode-step kernel
start=next(i for i,(k,_) in enumerate(seq) if "rms" in k.lower())
end=next((i for i,(k,_) in enumerate(seq) if i>start and ("argmax" in k or "attention_decode" in k)), len(seq))
agg=collections.defaultdict(lambda:[0,0.0]); tot=0
for k,t in seq[start:end]: agg[k][0]+=1; agg[k][1]+=t; tot+=t
print(f"launches {start}..{end} of {len(seq)}; total {tot/1e6:.2f} ms")
for k,(n,t) in sorted(agg.items(), key=lambda kv:-kv[1][1])[:25]: print(f"{k:60s} n={n:5d} {t/1e6:8.3f} ms {100*t/tot:5.1f}%")
PY
q
