#!/usr/bin/env bash
# Runs on the GPU machine from the main checkout's root (see docs/PERFORMANCE.md "GPU"):
#   .devrun/tests  test build (tests/CodecLlm.Tests/bin/Release/net10.0)
#   .devrun/cli    CLI build (src/CodecLlm.Cli/bin/Release/net10.0)
#   .devrun/models stories260K (+ a few arctic-embed-xs matrices)
#   .devrun/tools  this folder
# Usage: bash .devrun/tools/device_run.sh [tests|hf|bench|all] ; logs under $OUT.
set -uo pipefail
what=${1:-all}
OUT=${OUT:-/tmp/out}
mkdir -p /tmp/dotnet "$OUT"
tar -xJf .device/dotnet-runtime-aspnet.tar.xz -C /tmp/dotnet
export DOTNET_ROOT=/tmp/dotnet PATH=/tmp/dotnet:$PATH CODECLLM_SHARED_MODELS=$PWD/.devrun/models DOTNET_NOLOGO=1 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv | tee "$OUT/gpu.txt"
if [[ $what == all || $what == hf ]]; then
  timeout 240 python3 .devrun/tools/hf_reference.py /tmp/hfref --layers 4 --steps 64 2>&1 | grep -v Warning | tail -5 | tee "$OUT/hf.log"
  export CODECLLM_HF_REFERENCE=/tmp/hfref
fi
if [[ $what == all || $what == tests || $what == hf ]]; then
  timeout 300 dotnet .devrun/tests/CodecLlm.Tests.dll -namespace 'CodecLlm.Tests.Backends.Cuda' > "$OUT/tests.log" 2>&1
  grep -E 'FAIL|Assert|HF comparison|Total:|error' "$OUT/tests.log" | head -40
fi
if [[ $what == all || $what == profile ]]; then
  # Per-kernel GPU time of decode steps (Nsight Compute), grouped by kernel and grid size.
  timeout 200 ncu --csv --metrics gpu__time_duration.sum,launch__grid_size -k regex:'matvec|fm_|fixed_|attention|rope|embed|argmax' --launch-skip 1500 --launch-count 270 \
    dotnet .devrun/cli/CodecLlm.Cli.dll bench --device cuda --synthetic tinyllama-1.1b --prompt-tokens 32 --new-tokens 24 --codec fixed > "$OUT/ncu.csv" 2> "$OUT/ncu.err"
  python3 - "$OUT/ncu.csv" <<'PY'
import csv,sys,collections
rows=[r for r in csv.reader(open(sys.argv[1])) if len(r)>10]
h=rows[0]; data=rows[1:]
ki=h.index("Kernel Name"); mi=h.index("Metric Name"); vi=h.index("Metric Value"); ii=h.index("ID")
per=collections.defaultdict(dict)
for r in data: per[r[ii]][r[mi]]=r[vi]; per[r[ii]]["k"]=r[ki]
agg=collections.defaultdict(lambda:[0,0.0])
for d in per.values():
    key=(d["k"].split("(")[0], d.get("launch__grid_size","?"))
    agg[key][0]+=1; agg[key][1]+=float(d.get("gpu__time_duration.sum","0").replace(",",""))
tot=sum(v[1] for v in agg.values())
for (k,g),(n,t) in sorted(agg.items(), key=lambda kv:-kv[1][1]):
    print(f"{k:24s} grid {g:>6s} n={n:4d} avg {t/n/1000:8.2f} us  total {t/1000:9.1f} us ({100*t/tot:4.1f}%)")
PY
  for f in ~/.cache/codecllm/kernels/{matvec,fused_matvec,attention}-*.cubin; do cuobjdump -res-usage "$f" 2>/dev/null | grep -A1 -E 'matvec_f32_vec|fm_raw_a1_w8|fm_fixed_a1_w8|attention_f32|fixed_decode' | grep -E 'Function|REG' | paste - - | sed 's/Resource usage://' | cut -c1-160; done
fi
if [[ $what == all || $what == sweep ]]; then
  # Tuning sweep: decode tok/s and kernel rates for matvec variants (compile-time defines, grid size).
  for v in "default|||1" "nopdl|||0" "u16_4|-DMV_UNROLL16=4||1"; do
    IFS='|' read -r name defs grid pdl <<< "$v"
    CODECLLM_NVRTC_DEFINES="$defs" CODECLLM_MV_BLOCKS_PER_SM="$grid" CODECLLM_PDL="$pdl" timeout 120 dotnet .devrun/cli/CodecLlm.Cli.dll bench --device cuda --synthetic tinyllama-1.1b \
      --prompt-tokens 32 --new-tokens 128 --codec fixed --json > "$OUT/sweep_$name.json" 2> "$OUT/sweep_$name.err"
    python3 - "$OUT/sweep_$name.json" "$name" <<'PY'
import json,sys
r=json.load(open(sys.argv[1]))
runs=" ".join(f'{x["variant"].split()[0][:5]}{x["variant"][-7:-1] if "(" in x["variant"] else ""}={x["decode_tokens_per_second"]:.0f}' for x in r["runs"])
ks=" ".join(f'{k["kernel"].replace(" ","_")}={k["gigabytes_per_second"]:.0f}' for k in r["kernels"])
print(f"{sys.argv[2]:11s} {runs} | {ks}")
PY
  done
fi
if [[ $what == all || $what == extra ]]; then
  # The --model path (stories260K, F32) and the GPU demo.
  timeout 120 dotnet .devrun/cli/CodecLlm.Cli.dll bench --device cuda --model .devrun/models/stories260K/stories260K.bin --codec fixed --new-tokens 128 > "$OUT/bench_stories260k.txt" 2>&1
  tail -8 "$OUT/bench_stories260k.txt"
  timeout 120 dotnet .devrun/cli/CodecLlm.Cli.dll demo --device cuda --codecs fixed,entropy,zstd > "$OUT/demo_cuda.txt" 2>&1
  tail -8 "$OUT/demo_cuda.txt"
fi
if [[ $what == all || $what == bench ]]; then
  timeout 420 dotnet .devrun/cli/CodecLlm.Cli.dll bench --device cuda --synthetic tinyllama-1.1b --prompt-tokens 32 --new-tokens 128 --codec fixed,entropy --json > "$OUT/bench_tinyllama.json" 2> "$OUT/bench_tinyllama.err"
  git log -1 --format='commit %H' 2>/dev/null
  tail -3 "$OUT/bench_tinyllama.err"
  python3 - "$OUT/bench_tinyllama.json" <<'PY'
import json,sys
r=json.load(open(sys.argv[1]))
print(r["gpu"], r["model"])
for x in r["runs"]:
    print(f'{x["variant"]:28s} w={x["weights_bytes_ratio"]:.3f} peak={x["peak_allocated_bytes"]/2**20:7.0f}MiB drv={x["device_used_at_peak_bytes"]/2**20:7.0f}MiB peakx={x["peak_ratio"]:.3f} prefill={x["prefill_tokens_per_second"]:7.0f} decode={x["decode_tokens_per_second"]:6.0f} x{x["decode_ratio"]:.3f} step={x["decode_step_gpu_ms"]:.3f}ms ident={x["logits_bit_identical"]}')
for k in r["kernels"]:
    print(f'{k["kernel"]:20s} {k["gigabytes_per_second"]:7.0f} GB/s {k["matrices"]} ({k["counting"]})')
PY
fi
