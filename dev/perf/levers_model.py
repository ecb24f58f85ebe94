# Sessions 16-18: a control-flow model of the predecode paths of fm_engine (FM_PREDECODE, with and without
# FM_TWO_AHEAD) and fm_engine_glu_fixed: every tile fetched before it is used, each multiplied once in stream order, for
# 0..31 tiles a warp. (The three-set walk is modelled on branch s17-levers; FM_GLU_PRE_TILES=2 and FM_PRE_SLOTS_A0=4 were
# measured slower in session 18 and removed.) usage: python3 dev/perf/levers_model.py
def engine_pre(n, two):
    # fa, fb; PRE decodes first two before wait; loop as fm_engine
    fa = fb = None; used=[]; slots=[]
    if n > 0:
        fa = 0
        if n > 1: fb = 1
    npre = 0
    if n > 0:
        slots.append(fa); npre = 1
        if n > 1: slots.append(fb); npre = 2
        fa = 2 if n > 2 else None
        if two and n > 3: fb = 3
    used += slots[:npre]
    t = npre
    if t < n:
        while True:
            done = False
            for h in range(2):
                fc_name = 'fa' if h == 0 else 'fb'
                if not two and t + 1 < n:
                    if h == 0: fb = t + 1
                    else: fa = t + 1
                cur = fa if h == 0 else fb
                assert cur == t, (n, two, t, fa, fb, h)
                used.append(t)
                if two and t + 2 < n:
                    if h == 0: fa = t + 2
                    else: fb = t + 2
                t += 1
                if t >= n: done = True; break
            if done or t >= n: break
    assert used == list(range(n)), (n, two, used)

def glu_pre(n):
    # the gate's and the up projection's first tiles decoded into two slots before the wait, their second ones fetched
    fa=fb=None; used=[]
    if n > 0:
        fa=('g',0); fb=('u',0)
        used += [('g',0),('u',0)]
        if n > 1: fa=('g',1); fb=('u',1)
    for j in range(min(n, 1), n):
        if j > 1: fb=('u',j)
        assert fa==('g',j), (n,j,fa); used.append(fa)
        if j+1 < n: fa=('g',j+1)
        assert fb==('u',j), (n,j,fb); used.append(fb)
    exp=[x for j in range(n) for x in (('g',j),('u',j))]
    assert used==exp, (n, used)

for n in range(0, 32):
    engine_pre(n, True); engine_pre(n, False); glu_pre(n)
print("ok")
