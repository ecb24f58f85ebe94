#!/usr/bin/env bash
# Session 25 call 3 (main 6897591/efffd74): Nsight Compute's full set on two fixed_decode launches of the bench's isolated
# rate measurement (44 x [5632, 2048]; `--scratch-slices ,` runs no decode-to-scratch variant, so the isolated launches
# are the only fixed_decode ones) -- what bounds the decoder at ~1.8 TB/s; then the HF references and every CUDA test
# of the committed tree, with the skipped tests named.
set -uo pipefail
source dev/perf/device_env.sh
q
timeout 240 ncu --set full -k regex:'^fixed_decode$' --launch-skip 20 --launch-count 2 -o /tmp/dec \
  dotnet $D/CodecLlm.Cli.dll bench --device cuda --synthetic tinyllama-1.1b --prompt-tokens 32 --new-tokens 4 --codec fixed --scratch-slices , > "$OUT/ncu_run.txt" 2>&1
echo "== ncu rc=$? t=$SECONDS"; tail -3 "$OUT/ncu_run.txt"
ncu -i /tmp/dec.ncu-rep --page details > "$OUT/ncu_details.txt" 2>&1
ncu -i /tmp/dec.ncu-rep --page raw --csv > "$OUT/ncu_raw.csv" 2>&1
grep -E "Duration|DRAM Throughput|L2 Cache Throughput|L1/TEX Cache Throughput|Compute \(SM\) Throughput|Memory Throughput|Issue Slots Busy|Issued Warp Per Scheduler|No Eligible|Active Warps Per Scheduler|Eligible Warps Per Scheduler|Warp Cycles Per Issued Instruction|Registers Per Thread|Achieved Occupancy|Theoretical Occupancy|Grid Size|Block Size|Executed Instructions |Waves Per SM|Shared Memory Configuration Size|Block Limit" "$OUT/ncu_details.txt" | head -70
grep -E "^\s+(OPT|INF|WRN)" -A4 "$OUT/ncu_details.txt" | grep -v "^--$" | head -80
python3 - "$OUT/ncu_raw.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
h = rows[0]; vals = rows[2] if len(rows) > 2 else []
pairs = [(h[i], vals[i]) for i in range(min(len(h), len(vals)))]
st = [(k, v) for k, v in pairs if "warp_latency_issue_stalled" in k or "warps_issue_stalled" in k]
def f(v):
    try: return float(v.replace(",", ""))
    except: return -1
for k, v in sorted(st, key=lambda kv: -f(kv[1]))[:16]: print(f"{k:90s} {v}")
PY
timeout 100 python3 .devrun-v/hf_reference.py /tmp/hfref --layers 4 --steps 64 2>&1 | grep -v Warning | tail -1
timeout 100 python3 .devrun-v/hf_reference.py /tmp/hfref_sw --layers 4 --steps 64 --arch mistral --sliding-window 16 --prompt-len 40 2>&1 | grep -v Warning | tail -1
export CODECLLM_HF_REFERENCE=/tmp/hfref CODECLLM_HF_REFERENCE_SLIDING=/tmp/hfref_sw
timeout 300 dotnet $D/CodecLlm.Tests.dll -namespace CodecLlm.Tests.Backends.Cuda > "$OUT/tests.log" 2>&1; echo "== CUDA tests rc=$? t=$SECONDS"
grep -E 'Total:|HF comparison' "$OUT/tests.log" | head -20
grep -E '\[SKIP\]' -A1 "$OUT/tests.log" | sed 's/\x1b\[[0-9;]*m//g' | head -50
grep -A8 '\[FAIL\]' "$OUT/tests.log" | grep -v "^\s*at " | head -40
q
