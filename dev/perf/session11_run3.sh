#!/usr/bin/env bash
# Session 11, run 3 (main with the persistent raw kernels' RMSNorm-input register cap of 768 threads a SM and the
# balanced persistent grid rule): TinyLlama default / never balanced / always balanced, Llama-2 default / never balanced,
# then every CUDA test (without the HF transformers reference: the change moves no arithmetic).
set -uo pipefail
source dev/perf/device_env.sh
bv tl_rule tinyllama-1.1b X=0
bv tl_never tinyllama-1.1b CODECLLM_FM_BALANCED=0
bv tl_always tinyllama-1.1b CODECLLM_FM_BALANCED=1
bv tl_rule2 tinyllama-1.1b X=0
bv tl_nocap tinyllama-1.1b CODECLLM_NVRTC_DEFINES=-DFM_RAWP_SM_THREADS=0 CODECLLM_FM_BALANCED=0
bv l2_rule llama-2-7b X=0
bv l2_never llama-2-7b CODECLLM_FM_BALANCED=0
timeout 240 dotnet $D/CodecLlm.Tests.dll -namespace CodecLlm.Tests.Backends.Cuda > "$OUT/tests.log" 2>&1; echo "== CUDA tests rc=$? t=$SECONDS"
grep -E '\[FAIL\]|Total:' "$OUT/tests.log" | head -20; grep -A8 '\[FAIL\]' "$OUT/tests.log" | grep -v "^\s*at " | head -40
echo "t=$SECONDS"
cat "$OUT"/bench_tl_*.txt > "$OUT/benches_tl.txt"; cat "$OUT"/bench_l2_*.txt > "$OUT/benches_l2.txt"; rm -f "$OUT"/bench_*.txt
