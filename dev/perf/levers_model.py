# Sessions 16-17: a control-flow model of the predecode paths of fm_engine and fm_engine_glu_fixed (FM_GLU_PRE_TILES 1
# and 2), and of branch s17-levers' fm_engine_fixed3 (three sets; measured slower, not kept): every tile fetched before
# it is used, no register set overwritten while its tile is pending, every tile multiplied once in stream order, for
# 0..31 tiles a warp. usage: python3 dev/perf/levers_model.py
# control-flow model of fm_engine_fixed3 (three sets) and the predecode paths: checks each tile is fetched before use,
# never overwritten while pending, and multiplied once in stream order
def fetcher(sets):
    # item i into register set k: the set must be empty or hold an item already used
    def fetch(i, k):
        assert sets[k] is None or sets[k][1], f"overwrite pending {sets[k]}"
        sets[k] = [i, False]
    return fetch

def fixed3(n, glu, predecode=False):
    # predecode (FM_THREE_PRE): items 0, 1 decoded into slots before the wait; items 2, 3 fetched into sets 2, 0
    S = 2*n if glu else n
    sets = [None]*3; log=[]
    fetch = fetcher(sets)
    npre = 0
    if n > 0:
        fetch(0, 0)
        if S > 1: fetch(1, 1)
    if n > 0 and predecode:
        sets[0][1] = True; npre = 1      # decoded into slot 0
        if S > 1: sets[1][1] = True; npre = 2
        if S > 2: fetch(2, 2)
        if S > 3: fetch(3, 0)
    i0 = 0
    while i0 < S:
        for h in range(3):
            i = i0 + h
            if i >= S: break
            pre = h < 2 and i < npre
            fc, fn = h, (h+2) % 3
            if not pre and i + 2 < S: fetch(i+2, fn)
            if pre:
                assert i0 == 0 and i == h
            else:
                assert sets[fc] is not None and sets[fc][0] == i and not sets[fc][1], (n, glu, i, sets)
                sets[fc][1] = True
            log.append(i)
        i0 += 3
    assert log == list(range(S)), log

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

def glu_pre(n, pt=1):
    # pt: FM_GLU_PRE_TILES (1, or 2 = the first two tiles of each matrix decoded into four slots before the wait)
    fa=fb=None; used=[]
    if n > 0:
        fa=('g',0); fb=('u',0)
        used += [('g',0),('u',0)]
        if n > 1: fa=('g',1); fb=('u',1)
        if pt == 2 and n > 1:
            used += [fa, fb]
            if n > 2: fa=('g',2); fb=('u',2)
    j0 = min(n, pt)
    for j in range(j0, n):
        if j > pt: fb=('u',j)
        assert fa==('g',j), (n,j,fa); used.append(fa)
        if j+1 < n: fa=('g',j+1)
        assert fb==('u',j), (n,j,fb); used.append(fb)
    exp=[x for j in range(n) for x in (('g',j),('u',j))]
    assert used==exp, (n, used)

def engine_pre4(n, two):
    # FM_PRE_SLOTS_A0=4 (fm_engine's DYN path): tiles 0..3 decoded into slots before the wait, each set refilled with the
    # tile two ahead right after its decode; then fm_engine's loop from tile npre
    fa = fb = None; used = []
    def take(s, i):
        assert s is not None and s == i, (n, two, s, i)
    if n > 0:
        fa = 0
        if n > 1: fb = 1
    npre = 0
    if n > 0:
        take(fa, 0); used.append(0); npre = 1
        if n > 2: fa = 2
        if n > 1:
            take(fb, 1); used.append(1); npre = 2
            if n > 3: fb = 3
        if n > 2:
            take(fa, 2); used.append(2); npre = 3
            if n > 4: fa = 4
        if n > 3:
            take(fb, 3); used.append(3); npre = 4
            if two and n > 5: fb = 5
    t = npre
    while t < n:
        for h in range(2):
            if not two and t + 1 < n:
                if h == 0: fb = t + 1
                else: fa = t + 1
            take(fa if h == 0 else fb, t); used.append(t)
            if two and t + 2 < n:
                if h == 0: fa = t + 2
                else: fb = t + 2
            t += 1
            if t >= n: break
    assert used == list(range(n)), (n, two, used)

for n in range(0, 32):
    fixed3(n, False); fixed3(n, True); fixed3(n, False, True); fixed3(n, True, True); engine_pre(n, True); engine_pre(n, False); glu_pre(n); glu_pre(n, 2); engine_pre4(n, True); engine_pre4(n, False)
print("ok")
