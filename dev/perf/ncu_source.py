"""Where a kernel's warps wait, per SASS instruction: reads `ncu -i REPORT --page source --csv --print-source sass`
(a report collected with --section SourceCounters) and prints, for the first launch of each kernel, the stall reasons
over all its samples and the instructions with the most samples, each with the instructions before it (the load it
waits for is usually among them).
usage: ncu_source.py SOURCE.csv[.gz] [KERNEL] [TOP=8] [CONTEXT=6]"""
import csv, gzip, sys

path = sys.argv[1]
rows = list(csv.reader(gzip.open(path, 'rt') if path.endswith('.gz') else open(path)))
want = sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] != '-' else None
top = int(sys.argv[3]) if len(sys.argv) > 3 else 8
ctx = int(sys.argv[4]) if len(sys.argv) > 4 else 6
launches, hdr = [], None
for r in rows:
    if len(r) >= 2 and r[0] == 'Kernel Name':
        launches.append((r[1], []))
        hdr = None
    elif r and r[0] == 'Address':
        hdr = r
    elif hdr and launches:
        launches[-1][1].append(dict(zip(hdr, r)))
seen = set()
for k, ins in launches:
    if k in seen or (want and k != want):
        continue
    seen.add(k)
    samples = lambda d: int(d['Warp Stall Sampling (All Samples)'] or 0)
    total = sum(samples(d) for d in ins) or 1
    reasons = [h for h in ins[0] if h.startswith('stall_') and 'Not Issued' not in h]
    by = sorted(((sum(int(d[h] or 0) for d in ins), h[6:]) for h in reasons), reverse=True)[:7]
    print(f'===== {k}: {len(ins)} instructions, {total} samples;', ', '.join(f'{n} {v / total * 100:.1f}%' for v, n in by))
    for i in sorted(range(len(ins)), key=lambda i: -samples(ins[i]))[:top]:
        why = sorted(((int(ins[i][h] or 0), h[6:]) for h in reasons), reverse=True)[:2]
        print(f'---- {samples(ins[i]) / total * 100:.1f}% of samples', why)
        for d in ins[max(0, i - ctx):i + 1]:
            print(f"  {d['Address'][-4:]} {samples(d):5d}  {d['Source'].strip()[:80]}")
