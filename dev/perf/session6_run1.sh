#!/usr/bin/env bash
# Session 6, run 1: tiles in flight per warp (FM_AHEAD for fm_engine: raw one-block-per-group and `fixed`;
# FM_RAWP_AHEAD for the raw persistent matvec), chosen per process by CODECLLM_NVRTC_DEFINES, alternating on one card.
set -uo pipefail
source dev/perf/device_env.sh
K=src/CodecLlm/Backends/Cuda/Kernels
cp $K/fused_matvec.cu /tmp/fm.cu
for defs in "" "-DFM_AHEAD=2 -DFM_RAWP_AHEAD=2"; do
  echo "== ptxas $defs: $(nvcc -cubin -arch=sm_90 -std=c++17 $defs -Xptxas -v -o /tmp/fm.cubin /tmp/fm.cu 2>&1 | grep -A1 'fm_rawp_a1_w4\|fm_fixed_a1_w4\|fm_fixed_a2_w8\|fm_fixed_a1_w8' | grep -E 'registers' | sed 's/.*Used//' | tr '\n' ' ')"
done
bb() { CODECLLM_NVRTC_DEFINES="$2" bf "$1" "$3" "$2"; }
A2="-DFM_AHEAD=2"; R2="-DFM_RAWP_AHEAD=2"; AR="-DFM_AHEAD=2 -DFM_RAWP_AHEAD=2"
bb tl_base "" tinyllama-1.1b
bb tl_a2 "$A2" tinyllama-1.1b
bb tl_r2 "$R2" tinyllama-1.1b
bb tl_ar "$AR" tinyllama-1.1b
bb tl_base2 "" tinyllama-1.1b
bb tl_ar2 "$AR" tinyllama-1.1b
bb l2_base "" llama-2-7b
bb l2_ar "$AR" llama-2-7b
bb l2_base2 "" llama-2-7b
bb l2_ar2 "$AR" llama-2-7b
echo "t=$SECONDS"
