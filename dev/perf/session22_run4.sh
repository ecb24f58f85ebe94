#!/usr/bin/env bash
# Session 22 call 4: f16/bf16 prefill GEMMs once over [hi | lo] (add_halves) on top of the tiled prefill attention -- the
# kernel, session, batch, F16/F32 and HF transformers tests; 512-token prefill against two GEMM calls
# (CODECLLM_PREFILL_GEMM_PAIRS=0) in alternating processes, Llama-2-7B once each; the kernel-time breakdown; the standard
# 32-token bench.
set -uo pipefail
source dev/perf/device_env.sh
q
timeout 100 python3 .devrun-v/hf_reference.py /tmp/hfref --layers 4 --steps 64 2>&1 | grep -v Warning | tail -1
export CODECLLM_HF_REFERENCE=/tmp/hfref
classes $D k CudaKernelTests CudaSessionTests CudaF16F32SessionTests CudaBatchTests HfTransformersComparisonTests
grep -h "HF comparison" "$OUT/tests_k.log" | head -2
pf() {  # pf NAME MODEL NEW [ENV...]: one bench with a 512-token prompt
  local n=$1 m=$2 nt=$3; shift 3
  (export "$@"; timeout 300 dotnet $D/CodecLlm.Cli.dll bench --device cuda --prompt-tokens 512 --synthetic $m --new-tokens $nt --codec fixed > "$OUT/bench_$n.txt" 2>&1)
  echo "== $n [$*] t=$SECONDS"; sed -n '/^variant/,/^$/p' "$OUT/bench_$n.txt"
}
pf tl_new1 tinyllama-1.1b 32 X=1
pf tl_old1 tinyllama-1.1b 32 CODECLLM_PREFILL_GEMM_PAIRS=0
pf tl_new2 tinyllama-1.1b 32 X=1
pf tl_old2 tinyllama-1.1b 32 CODECLLM_PREFILL_GEMM_PAIRS=0
pf l7_new llama-2-7b 16 X=1
pf l7_old llama-2-7b 16 CODECLLM_PREFILL_GEMM_PAIRS=0
timeout 200 ncu --csv --cache-control none --clock-control none --metrics gpu__time_duration.sum --launch-count 1500 \
  dotnet $D/CodecLlm.Cli.dll bench --device cuda --synthetic tinyllama-1.1b --prompt-tokens 512 --new-tokens 2 --codec fixed > "$OUT/ncu_prefill.csv" 2> "$OUT/ncu_prefill.err"
echo "== ncu rc=$? t=$SECONDS"
python3 dev/perf/prefill_kernels.py "$OUT/ncu_prefill.csv"
bf tl_p32 tinyllama-1.1b
sed -n '/^variant/,/^$/p' "$OUT/bench_tl_p32.txt"
q
