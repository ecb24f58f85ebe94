"""Summarises the kernel timelines that `codecllm bench` writes with CODECLLM_TIMELINE=PREFIX and kernels built with
-DTIMELINE=1 (src/CodecLlm/Backends/Cuda/KernelTimeline.cs): per decode-step role (q/k/v, attention, o, gate/up, down,
head), averaged over the layers of the last STEPS complete steps:
  handoff  = the first block past griddepcontrol.wait - the previous launch's last block end (the dependency's latency),
  body     = this launch's last block end - its first block past the wait,
  early    = its first block past the wait - its first block start (how long the blocks sat resident before),
  late     = its last block start - the previous launch's last block end (> 0: blocks that found no room until then),
  spread   = its last block past the wait - its first.
handoff + body summed over a step's launches is the step from the first launch's wait to the head's end.
usage: timeline_summary.py CSV [CSV2] [--steps N]   (CSV2: a second variant, printed beside the first, with the
difference)"""
import csv, sys, collections, statistics

ROLES = ["qkv", "attn", "o", "gateup", "down"]


def load(path):
    recs = []
    with open(path) as f:
        for r in csv.DictReader(f):
            recs.append((int(r["t0"]), int(r["kid"]), int(r["grid"]), int(r["block"]), int(r["dwait"]), int(r["dend"])))
    recs.sort()
    return recs


def launches(recs):
    """Groups records (sorted by start) into launches: a kid's next launch begins where one of its block numbers
    repeats (a launch's blocks all start before the next launch of that kernel can: PDL launches a kernel only once
    every block of the one before has started); complete launches have `grid` blocks (the ring cuts the oldest)."""
    open_ = {}
    out = []
    for t0, kid, grid, block, dw, de in recs:
        L = open_.get(kid)
        if L is None or block in L["ids"]:
            L = {"kid": kid, "grid": grid, "b": [], "ids": set()}
            open_[kid] = L
            out.append(L)
        L["ids"].add(block)
        L["b"].append((t0, t0 + dw, t0 + de))
    res = []
    for L in out:
        if len(L["b"]) != L["grid"]:
            continue  # cut by the ring's start or end
        s = [b[0] for b in L["b"]]
        w = sorted(b[1] for b in L["b"])
        e = [b[2] for b in L["b"]]
        res.append({"kid": L["kid"], "grid": L["grid"], "s0": min(s), "s1": max(s), "w0": w[0], "w1": w[-1], "e1": max(e)})
    res.sort(key=lambda L: L["s0"])
    return res


def steps(ls):
    """Splits the launch sequence into decode steps ending at a head launch (the only a1_w4 launch of a step)."""
    heads = [i for i, L in enumerate(ls) if L["kid"] % 1000 == 111]
    out = []
    for a, b in zip(heads, heads[1:]):
        out.append(ls[a + 1:b + 1])
    return out


def summarise(path, nsteps):
    st = steps(launches(load(path)))
    st = [s for s in st if (len(s) - 1) % 5 == 0][-nsteps:]
    if not st:
        sys.exit(f"{path}: no complete decode step")
    acc = collections.defaultdict(lambda: collections.defaultdict(list))
    totals = []
    for s in st:
        totals.append((s[-1]["e1"] - s[0]["w0"]) / 1000)
        for i, L in enumerate(s):
            role = "head" if i == len(s) - 1 else ROLES[i % 5]
            if i == 0:
                continue  # the step's first launch follows the host, not a kernel
            P = s[i - 1]
            a = acc[role]
            a["handoff"].append(L["w0"] - P["e1"])
            a["body"].append(L["e1"] - L["w0"])
            a["early"].append(L["w0"] - L["s0"])
            a["late"].append(L["s1"] - P["e1"])
            a["spread"].append(L["w1"] - L["w0"])
            a["grid"].append(L["grid"])
    return acc, totals, len(st)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(sys.argv[sys.argv.index("--steps") + 1]) if "--steps" in sys.argv else 4
    if "--steps" in sys.argv:
        args.remove(str(n))
    res = [summarise(p, n) for p in args]
    keys = ["handoff", "body", "early", "late", "spread"]
    for p, (acc, totals, k) in zip(args, res):
        print(f"{p}: {k} steps, wait-to-head-end {statistics.median(totals):.1f} us (median)")
    head = "role     " + "".join(f"{k:>9s}" for k in keys) + "   h+b x n (us a step)"
    for p, (acc, totals, k) in zip(args, res):
        print(f"\n{p} (us, mean over layers and steps)\n{head}")
        for role in ROLES + ["head"]:
            a = acc[role]
            if not a["body"]:
                continue
            m = {k2: statistics.mean(a[k2]) / 1000 for k2 in keys}
            per_step = (m["handoff"] + m["body"]) * len(a["body"]) / k
            print(f"{role:8s} " + "".join(f"{m[k2]:9.2f}" for k2 in keys) + f"   {per_step:8.1f}  grid {a['grid'][0]}")
    if len(res) == 2:
        print(f"\n{args[1]} - {args[0]} (us)\n{head}")
        for role in ROLES + ["head"]:
            a, b = res[0][0][role], res[1][0][role]
            if not a["body"] or not b["body"]:
                continue
            d = {k2: (statistics.mean(b[k2]) - statistics.mean(a[k2])) / 1000 for k2 in keys}
            per_step = (d["handoff"] + d["body"]) * len(b["body"]) / res[1][2]
            print(f"{role:8s} " + "".join(f"{d[k2]:9.2f}" for k2 in keys) + f"   {per_step:8.1f}")


if __name__ == "__main__":
    main()
