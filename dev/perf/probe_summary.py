"""Each decode-step role's marginal cost in the real schedule (session 19 run 1): from bench files bench_tl_skip_ROLE_I.txt
(`codecllm bench` with CODECLLM_PROBE_SKIP=ROLE; ROLE none = nothing left out), the step ms of uncompressed and `fixed`
(fused) and, per role, what leaving it out saves (median over the repetitions), raw against `fixed`.
usage: probe_summary.py DIR"""
import glob, os, re, statistics, sys

steps = {}  # role -> {'uncompressed': [ms], 'fixed': [ms]}
for f in sorted(glob.glob(os.path.join(sys.argv[1], 'bench_tl_skip_*.txt'))):
    role = re.match(r'bench_tl_skip_(\w+?)_\d+\.txt', os.path.basename(f)).group(1)
    for line in open(f):
        m = re.match(r'(uncompressed|fixed \(fused\))\s.*\s([\d.]+)\s+(reference|yes|NO)\s*$', line)
        if m:
            steps.setdefault(role, {}).setdefault('fixed' if m.group(1).startswith('fixed') else 'uncompressed', []).append(float(m.group(2)))
if 'none' not in steps:
    sys.exit('no baseline (bench_tl_skip_none_*.txt)')
med = {r: {k: statistics.median(v) for k, v in d.items()} for r, d in steps.items()}
base = med['none']
print(f"{'left out':10s} {'raw ms':>8s} {'fixed ms':>9s} {'raw saves':>10s} {'fixed saves':>12s} {'fixed/raw':>10s}")
for r in ['none'] + sorted(x for x in med if x != 'none'):
    u, f = med[r].get('uncompressed', float('nan')), med[r].get('fixed', float('nan'))
    du, df = base['uncompressed'] - u, base['fixed'] - f
    print(f"{r:10s} {u:8.3f} {f:9.3f} {du:10.3f} {df:12.3f} {df / du if du else float('nan'):10.2f}")
