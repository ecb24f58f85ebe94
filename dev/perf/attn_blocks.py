"""Per-block decode-attention times of a kernel timeline CSV (KernelTimeline): start to past the wait, and past the wait
to the mark (the end, or the phase that -DATTN_TL_PHASE=K puts it after), medians over the last LAUNCHES launches.
usage: attn_blocks.py CSV [LAUNCHES]"""
import csv, statistics, sys

rs = [r for r in csv.DictReader(open(sys.argv[1])) if r["kid"] == "3001"]
rs.sort(key=lambda r: int(r["t0"]))
grid = int(rs[-1]["grid"]) if rs else 0
rs = rs[-grid * int(sys.argv[2] if len(sys.argv) > 2 else 100):]
body = [(int(r["dend"]) - int(r["dwait"])) / 1000 for r in rs]
pre = [int(r["dwait"]) / 1000 for r in rs]
q = statistics.quantiles(body, n=10)
print(f"{sys.argv[1]}: {len(rs)} blocks; wait->mark median {statistics.median(body):.2f} us (p10 {q[0]:.2f}, p90 {q[-1]:.2f}); start->wait median {statistics.median(pre):.2f} us")
