"""Counts a kernel's SASS instructions (cuobjdump -sass output): the whole function, and the instructions of its main loop
(the span of its longest conditional backward branch) by opcode; with REGEX, prints the loop's lines that match it.
usage: sass_loop.py FILE.sass KERNEL [REGEX]   (session 15: `cuobjdump -sass OUT.cubin > OUT.sass` after nvrtc_dump.py)"""
import collections, re, sys

sass, name = open(sys.argv[1]).read(), sys.argv[2]
m = re.search(r"Function : %s\n(.*?)(?=\n\s*Function :|\Z)" % re.escape(name), sass, re.S)
if not m:
    sys.exit(f"{name}: not in {sys.argv[1]}")
ins = [(int(a, 16), t.strip()) for a, t in re.findall(r"/\*([0-9a-f]{4,})\*/\s+(.*?);", m.group(1))]
best = None
for a, t in ins:
    b = re.search(r"BRA\s.*?(0x[0-9a-f]+)", t)
    if b and int(b.group(1), 16) < a and not t.startswith("BRA"):
        span = a - int(b.group(1), 16)
        if best is None or span > best[0]:
            best = (span, int(b.group(1), 16), a)
op = lambda t: re.sub(r"^@!?U?P\w+\s+", "", t).split()[0].split(".")[0]
whole = collections.Counter(op(t) for _, t in ins)
print(f"{name}: {len(ins)} instructions, SHFL {whole['SHFL']}, FADD {whole['FADD']}, SEL {whole['SEL'] + whole['FSEL']}")
if best:
    lo, hi = best[1], best[2]
    sel = [t for a, t in ins if lo <= a <= hi]
    c = collections.Counter(op(t) for t in sel)
    print(f"  loop {lo:x}-{hi:x}: {len(sel)} instructions; " + " ".join(f"{k}:{v}" for k, v in c.most_common(16)))
    if len(sys.argv) > 3:
        for a, t in ins:
            if lo <= a <= hi and re.search(sys.argv[3], t):
                print(f"  {a:x} {t}")
