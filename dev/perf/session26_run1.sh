#!/usr/bin/env bash
# Session 26 call 1: what bounds a decode to scratch whatever its decoder. fixed_decode built three ways (one build,
# CODECLLM_NVRTC_DEFINES): the real decoder; -DFM_DECODE_NULL=1, a kernel that only moves a decoder's bytes (each tile's
# 1408 bytes read, its 2048 bytes written where the decoded tile goes, no decode work); -DFM_DECODE_NULL=2, no decoder at
# all (the launch returns). TinyLlama decode to scratch in whole steps and in 8, 16 and 32 MiB slices, each build twice,
# alternating; then Llama-2-7B whole steps with the real and the bytes-only decoder. The null builds' logits are not the
# model's (their bit-identical column says NO); only their speed is read.
set -uo pipefail
source dev/perf/device_env.sh
q
s() {  # s NAME MODEL NEW DEFINES SLICES
  local n=$1 m=$2 nt=$3 defs=$4 sl=$5
  if [ -n "$defs" ]; then export CODECLLM_NVRTC_DEFINES="$defs"; else unset CODECLLM_NVRTC_DEFINES; fi
  timeout 240 dotnet $D/CodecLlm.Cli.dll bench --device cuda --synthetic $m --prompt-tokens 32 --new-tokens $nt --codec fixed --scratch-slices $sl > "$OUT/bench_$n.txt" 2>&1
  echo "== $n [$defs] t=$SECONDS"; sed -n '/^variant/,/^$/p' "$OUT/bench_$n.txt" | sed -n 2,8p; grep -E "^device copy|^matvec raw|^decode fixed " "$OUT/bench_$n.txt"
  unset CODECLLM_NVRTC_DEFINES
}
for rep in 1 2; do
  s real_$rep tinyllama-1.1b 64 "" 0,8,16,32
  s null1_$rep tinyllama-1.1b 64 "-DFM_DECODE_NULL=1" 0,8,16,32
  s null2_$rep tinyllama-1.1b 64 "-DFM_DECODE_NULL=2" 0,8,16,32
done
q
s l2_real llama-2-7b 32 "" 0,16
s l2_null1 llama-2-7b 32 "-DFM_DECODE_NULL=1" 0,16
s l2_null2 llama-2-7b 32 "-DFM_DECODE_NULL=2" 0,16
q
