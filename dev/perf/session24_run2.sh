#!/usr/bin/env bash
# Session 24 call 2 (branch gqa-decode, GC heads a thread): the kernel tests; attention_decode's own time (Nsight Compute,
# one decode step's 22 launches) of main's build (e2fe682) and the branch at 32- and 2000-token prompts; decode benches
# alternating with main's build (TinyLlama f32 and bf16 caches, Llama-2-7B); the session and batch tests last.
set -uo pipefail
source dev/perf/device_env.sh
q
TEST_TIMEOUT=150 classes $D kern CudaKernelTests
overlay /tmp/old .devrun-v/old
# attn_times NAME PROMPT: attention_decode launches 45..66 (the uncompressed variant's third decode step) serialised by
# Nsight Compute, their mean duration printed.
attn_times() {
  timeout 150 ncu --csv --cache-control none --clock-control none --metrics gpu__time_duration.sum,launch__grid_size,launch__shared_mem_per_block_dynamic -k regex:attention_decode --launch-skip 44 --launch-count 22 \
    dotnet $D/CodecLlm.Cli.dll bench --device cuda --synthetic tinyllama-1.1b --prompt-tokens $2 --new-tokens 4 --codec fixed > "$OUT/ncu_$1.csv" 2> "$OUT/ncu_$1.err"
  echo "== $1 rc=$? t=$SECONDS"
  python3 - "$OUT/ncu_$1.csv" <<'PY'
import csv,sys,collections
rows=[r for r in csv.reader(open(sys.argv[1])) if len(r)>10]
h=rows[0]; ni=h.index("Metric Name"); vi=h.index("Metric Value"); ii=h.index("ID")
m=collections.defaultdict(list)
for r in rows[1:]: m[r[ni]].append(float(r[vi].replace(",","")))
for k,v in m.items(): print(f"  {k}: n={len(v)} mean {sum(v)/len(v):.1f} min {min(v):.1f} max {max(v):.1f}")
PY
}
D=/tmp/old attn_times a32_old 32
attn_times a32_new 32
D=/tmp/old attn_times a2000_old 2000
attn_times a2000_new 2000
for i in 1 2; do
  D=/tmp/old ctx c32_old_$i 32 128 X=old
  ctx c32_new_$i 32 128 X=new
done
D=/tmp/old ctx c2000_old 2000 32 X=old
ctx c2000_new 2000 32 X=new
for v in old new; do
  dd=$D; [ $v = old ] && dd=/tmp/old
  timeout 200 dotnet $dd/CodecLlm.Cli.dll bench --device cuda --prompt-tokens 2000 --synthetic tinyllama-1.1b --new-tokens 32 --codec fixed --kv-cache bf16 > "$OUT/bench_c2000_bf16_$v.txt" 2>&1
  echo "== c2000_bf16_$v t=$SECONDS"; sed -n '/^variant/,/^$/p' "$OUT/bench_c2000_bf16_$v.txt" | sed -n 2,4p
done
q
for v in old new; do
  dd=$D; [ $v = old ] && dd=/tmp/old
  timeout 200 dotnet $dd/CodecLlm.Cli.dll bench --device cuda --prompt-tokens 2000 --synthetic llama-2-7b --new-tokens 32 --codec fixed > "$OUT/bench_l7_c2000_$v.txt" 2>&1
  echo "== l7_c2000_$v t=$SECONDS"; sed -n '/^variant/,/^$/p' "$OUT/bench_l7_c2000_$v.txt" | sed -n 2,4p
done
q
TEST_TIMEOUT=150 classes $D sess CudaSessionTests CudaBatchTests
