"""Reads `cuobjdump -sass` listings and prints, for each kernel that waits on its predecessor (griddepcontrol.wait =
SASS ACQBULK), how many of its global loads (LDG) come before the wait: the weight tiles a programmatic launch fetches
while its predecessor drains. usage: prewait.py LISTING... (a label per listing: its file name)"""
import re, sys

for path in sys.argv[1:]:
    name, rows = None, {}
    for line in open(path):
        m = re.search(r'Function : (\S+)', line)
        if m:
            name = m.group(1); rows[name] = [0, 0, None]; continue
        if name is None or '/*' not in line: continue
        if 'ACQBULK' in line and rows[name][2] is None: rows[name][2] = rows[name][0] + rows[name][1]
        if re.search(r'\bLDG\.', line):
            rows[name][0 if rows[name][2] is None else 1] += 1
    for k in sorted(rows):
        if k.startswith('fm_') and rows[k][2] is not None:
            print(f'{path.split("/")[-1]:<16} {k:<18} loads before the wait {rows[k][0]:>3}, after {rows[k][1]:>4}')
