#!/usr/bin/env python3
"""Nsight Compute CSV (gpu__time_duration.sum a launch) of a bench run -> the first prefill's kernel time by kernel:
from the first rmsnorm launch to the first decode-step kernel (argmax or attention_decode)."""
import csv, sys, collections
rows = [r for r in csv.reader(open(sys.argv[1])) if len(r) > 10]
h = rows[0]; ki = h.index("Kernel Name"); vi = h.index("Metric Value")
seq = [(r[ki].split("(")[0][:60], float(r[vi].replace(",", ""))) for r in rows[1:]]
start = next(i for i, (k, _) in enumerate(seq) if "rms" in k.lower())
end = next((i for i, (k, _) in enumerate(seq) if i > start and ("argmax" in k or "attention_decode" in k)), len(seq))
agg = collections.defaultdict(lambda: [0, 0.0]); tot = 0
for k, t in seq[start:end]: agg[k][0] += 1; agg[k][1] += t; tot += t
print(f"launches {start}..{end} of {len(seq)}; total {tot/1e6:.2f} ms")
for k, (n, t) in sorted(agg.items(), key=lambda kv: -kv[1][1])[:25]: print(f"{k:60s} n={n:5d} {t/1e6:8.3f} ms {100*t/tot:5.1f}%")
