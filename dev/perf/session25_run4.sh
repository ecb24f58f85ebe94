#!/usr/bin/env bash
# Session 25 call 4: fixed_decode with its registers capped for 6 and 8 resident blocks a SM (-DFM_DECODE_MIN_BLOCKS, a
# temporary second __launch_bounds__ argument in fixed_decode.cu, default 1, reverted after this call;
# main: no minimum, 64 registers, 4 blocks): the isolated decode rate (44 x [5632, 2048]) with its output in HBM and kept
# in L2, and TinyLlama's decode to scratch (main's build, e686ddb, first in each round); each kernel build's registers
# and spills (cuobjdump).
set -uo pipefail
source dev/perf/device_env.sh
q
cb() {
  timeout 120 dotnet $2/CodecLlm.Cli.dll bench --device cuda --synthetic $3 --prompt-tokens $4 --new-tokens $5 --codec fixed --kv-cache $6 > "$OUT/bench_$1.txt" 2>&1
  echo "== $1 t=$SECONDS"
}
overlay /tmp/old .devrun-v/old
for rep in 1 2; do
  unset CODECLLM_NVRTC_DEFINES
  cb old_$rep /tmp/old tinyllama-1.1b 32 64 f32
  grep -E "^decode fixed|^fixed \(decode to scratch\)  |^uncompressed  " "$OUT/bench_old_$rep.txt"
for mb in none 6 8; do
  defs=""; [ $mb != none ] && defs="-DFM_DECODE_MIN_BLOCKS=$mb"
  if [ -n "$defs" ]; then export CODECLLM_NVRTC_DEFINES="$defs"; else unset CODECLLM_NVRTC_DEFINES; fi
  cb mb${mb}_$rep $D tinyllama-1.1b 32 64 f32
  grep -E "^decode fixed|^fixed \(decode to scratch\)  |^uncompressed  " "$OUT/bench_mb${mb}_$rep.txt"
  export CODECLLM_NVRTC_DEFINES="$defs -DFM_DECODE_OUT_MASK=0x3ffffc"
  cb mb${mb}_l2_$rep $D tinyllama-1.1b 32 16 f32
  grep -E "^decode fixed" "$OUT/bench_mb${mb}_l2_$rep.txt"
done
done
unset CODECLLM_NVRTC_DEFINES
q
for f in $(find / -name 'fixed_decode*.cubin' 2>/dev/null | head -12); do
  echo "== $f"; cuobjdump --dump-resource-usage "$f" 2>&1 | grep -A1 "Function fixed_decode:" | tail -1
done
