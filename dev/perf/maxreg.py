"""Reads `cuobjdump -sass` listings and prints the highest general register each fm_ kernel names (R0..Rn: about n + 1
registers a thread, the figure that sets how many blocks fit on a SM), one column per listing.
usage: maxreg.py LISTING..."""
import re, sys

tables = []
for path in sys.argv[1:]:
    cur, m = None, {}
    for line in open(path):
        f = re.search(r'Function : (\S+)', line)
        if f:
            cur = f.group(1); m[cur] = -1; continue
        if cur and '/*' in line:
            for r in re.findall(r'\bR(\d+)\b', line.split(';')[0]):
                m[cur] = max(m[cur], int(r))
    tables.append(m)
print(f'{"kernel":<18}' + ''.join(f'{p.split("/")[-1]:>14}' for p in sys.argv[1:]))
for k in sorted(tables[0]):
    if k.startswith('fm_'):
        print(f'{k:<18}' + ''.join(f'{t.get(k, -1):>14}' for t in tables))
