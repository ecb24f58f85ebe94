#!/usr/bin/env bash
# Session 23 call 2: q, k and v's prefill GEMMs write [hi | lo] rows too, summed by RoPE (or the bias); add_halves and its
# workspace gone -- the kernel, session, batch and HF test classes; 512-token prefill against main's build (d3b1643),
# alternating; the prefill's kernel times; decode after a 2000-token prompt (the attention's share at long context).
set -uo pipefail
source dev/perf/device_env.sh
q
TEST_TIMEOUT=260 hf_classes k CudaKernelTests CudaSessionTests CudaF16F32SessionTests CudaBatchTests HfTransformersComparisonTests
overlay /tmp/old .devrun-v/old
for i in 1 2; do
  D=/tmp/old pf tl_old$i tinyllama-1.1b 32 X=old
  pf tl_new$i tinyllama-1.1b 32 X=new
done
D=/tmp/old pf l7_old llama-2-7b 16 X=old
pf l7_new llama-2-7b 16 X=new
ncu_prefill 1500
timeout 200 dotnet $D/CodecLlm.Cli.dll bench --device cuda --prompt-tokens 2000 --synthetic tinyllama-1.1b --new-tokens 32 --codec fixed > "$OUT/bench_tl_ctx2000.txt" 2>&1
echo "== ctx2000"; sed -n '/^variant/,/^$/p' "$OUT/bench_tl_ctx2000.txt"
q
