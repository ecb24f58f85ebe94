#!/usr/bin/env bash
# Session 5, run 7: the raw persistent matvec with its segment selected by value (fm_group) against c028870's (a
# reference into the kernel parameters): ptxas resources of both, every CUDA test of the new build, then TinyLlama and
# Llama-2 alternating new / c028870 (its CodecLlm.dll over the same build), same card.
set -uo pipefail
source dev/perf/device_env.sh
K=src/CodecLlm/Backends/Cuda/Kernels
for f in $K/fused_matvec.cu .devrun-v/base/fused_matvec_old.cu; do
  cp $f /tmp/fm.cu; cp $K/*.cuh /tmp/ 2>/dev/null
  echo "== $f: $(nvcc -cubin -arch=sm_90 -std=c++17 -Xptxas -v -o /tmp/fm.cubin /tmp/fm.cu 2>&1 | grep -A1 'fm_rawp_a1_w4\|fm_rawp_a0_w8\|fm_rawp_a2_w8' | grep -E 'stack|registers' | tr '\n' ' ')"
done
cuda_tests 240
cp -r $D /tmp/base && cp .devrun-v/base/CodecLlm.dll /tmp/base/
export BENCH_TIMEOUT=150
bb() { local n=$1 dir=$2 m=$3; timeout 150 dotnet $dir/CodecLlm.Cli.dll bench --device cuda --prompt-tokens 32 --synthetic $m --new-tokens 128 --codec fixed > "$OUT/bench_$n.txt" 2>&1
  echo "== $n"; grep -E "^uncompressed|^fixed \(fused|^matvec" "$OUT/bench_$n.txt"; }
bb tl_new $D tinyllama-1.1b
bb tl_old /tmp/base tinyllama-1.1b
bb tl_new2 $D tinyllama-1.1b
bb tl_old2 /tmp/base tinyllama-1.1b
bb l2_new $D llama-2-7b
bb l2_old /tmp/base llama-2-7b
echo "t=$SECONDS"
