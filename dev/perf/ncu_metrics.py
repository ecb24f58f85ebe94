"""Summarises an Nsight Compute `--metrics` listing (ncu's default text output): for each kernel, the median of every
metric over its launches, and its seven largest stall reasons (smsp__average_warps_issue_stalled_*_per_issue_active).
usage: ncu_metrics.py NCU_OUTPUT.txt"""
import re, statistics, sys

runs = {}  # kernel -> [ {metric: value} per launch ]
cur = None
for line in open(sys.argv[1]):
    m = re.match(r'\s+(fm_\w+|\w+) \(\d+, \d+, \d+\)x\(\d+, \d+, \d+\)', line)
    if m:
        cur = m.group(1)
        runs.setdefault(cur, []).append({})
        continue
    m = re.match(r'\s+(\S+__\S+)\s+(?:\S+\s+)?([\d.,]+)\s*$', line)
    if cur and m:
        runs[cur][-1][m.group(1)] = float(m.group(2).replace(',', ''))
for k, launches in runs.items():
    med = {n: statistics.median(d[n] for d in launches if n in d) for n in launches[0]}
    stalls = sorted(((v, n) for n, v in med.items() if 'issue_stalled' in n), reverse=True)[:7]
    short = lambda n: n.replace('smsp__average_warps_issue_stalled_', '').replace('_per_issue_active.ratio', '')
    print(k, f'({len(launches)} launches)', {n: v for n, v in med.items() if 'issue_stalled' not in n})
    print('   stalls per issue:', ', '.join(f'{short(n)} {v:.2f}' for v, n in stalls))
