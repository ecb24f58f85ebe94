#!/usr/bin/env bash
# perf helper: CUDA tests + TinyLlama bench with the step PDL on and off (same card), then an ncu profile if time is left.
set -uo pipefail
OUT=${OUT:-/tmp/out}; D=.devrun-perf/bin
mkdir -p /tmp/dotnet "$OUT"
tar -xJf .device/dotnet-runtime-aspnet.tar.xz -C /tmp/dotnet
export DOTNET_ROOT=/tmp/dotnet PATH=/tmp/dotnet:$PATH CODECLLM_SHARED_MODELS=$PWD/.devrun-perf/models DOTNET_NOLOGO=1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"
echo "t=$SECONDS == CUDA tests"
timeout 80 dotnet $D/CodecLlm.Tests.dll -namespace 'CodecLlm.Tests.Backends.Cuda' > "$OUT/tests.log" 2>&1; echo "tests rc=$?"
grep -E '\[FAIL\]|Total:' "$OUT/tests.log" | head -20
B="bench --device cuda --synthetic tinyllama-1.1b --prompt-tokens 32 --new-tokens 128 --codec fixed"
for v in new base new2; do
  [[ $SECONDS -gt 150 ]] && { echo "skip $v (t=$SECONDS)"; continue; }
  if [[ $v == base ]]; then export CODECLLM_STEP_PDL=0; else unset CODECLLM_STEP_PDL; fi
  echo "t=$SECONDS == bench $v"
  timeout 60 dotnet $D/CodecLlm.Cli.dll $B > "$OUT/bench_$v.txt" 2>&1
  grep -E "^(uncompressed|fixed)" "$OUT/bench_$v.txt" | tail -3
done
unset CODECLLM_STEP_PDL
left=$((185 - SECONDS))
if [[ $left -gt 30 ]]; then
  echo "t=$SECONDS == ncu (${left}s)"
  timeout $left ncu --csv --metrics gpu__time_duration.sum -k regex:'fm_|attention|embed|argmax' --launch-skip 1500 --launch-count 116 \
    dotnet $D/CodecLlm.Cli.dll bench --device cuda --synthetic tinyllama-1.1b --prompt-tokens 32 --new-tokens 16 --codec fixed > "$OUT/ncu.csv" 2> "$OUT/ncu.err"
  python3 - "$OUT/ncu.csv" <<'PY'
import csv,sys,collections
rows=[r for r in csv.reader(open(sys.argv[1])) if len(r)>10]
h=rows[0]; ki=h.index("Kernel Name"); vi=h.index("Metric Value"); bi=h.index("Block Size") if "Block Size" in h else None
agg=collections.defaultdict(lambda:[0,0.0])
for r in rows[1:]:
    k=r[ki].split("(")[0]; agg[k][0]+=1; agg[k][1]+=float(r[vi].replace(",",""))
tot=sum(v[1] for v in agg.values())
for k,(n,t) in sorted(agg.items(), key=lambda kv:-kv[1][1]): print(f"{k:22s} n={n:4d} avg {t/n/1000:7.2f} us total {t/1000:8.1f} us ({100*t/tot:4.1f}%)")
print(f"sum {tot/1000:.1f} us over {sum(v[0] for v in agg.values())} kernels")
PY
fi
echo "t=$SECONDS done"
