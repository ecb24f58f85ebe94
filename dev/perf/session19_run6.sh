#!/usr/bin/env bash
# Session 19, call 6: every kernel's preferred shared-memory carveout at 100 % (CODECLLM_SMEM_CARVEOUT=100) against the
# driver's per-kernel choice: does an SM configured for one kernel's shared memory keep the next kernel's blocks (the
# decode attention's, launched while the q/k/v matvec runs) off until it drains? The timeline, then TinyLlama tok/s in
# alternation, then Llama-2-7B once each.
set -uo pipefail
source dev/perf/device_env.sh
q
mkdir -p /tmp/tl
for v in 100 50; do
  CODECLLM_SMEM_CARVEOUT=$v CODECLLM_NVRTC_DEFINES="-DTIMELINE=1" CODECLLM_TIMELINE=/tmp/tl/c$v bf tlc$v tinyllama-1.1b "timeline carveout $v" | grep -v matvec
  python3 dev/perf/timeline_summary.py /tmp/tl/c$v.uncompressed.csv /tmp/tl/c$v.fixed__fused_.csv --steps 6 > "$OUT/timeline_c$v.txt"
  head -2 "$OUT/timeline_c$v.txt"; grep -E "^(attn|gateup|qkv) " "$OUT/timeline_c$v.txt"
done
q
for i in 1 2 3; do
  bv def_$i tinyllama-1.1b CODECLLM_SMEM_CARVEOUT=
  bv c100_$i tinyllama-1.1b CODECLLM_SMEM_CARVEOUT=100
done 2>&1 | grep -v matvec
bv l2def llama-2-7b CODECLLM_SMEM_CARVEOUT= | grep -v matvec
bv l2c100 llama-2-7b CODECLLM_SMEM_CARVEOUT=100 | grep -v matvec
q
cat "$OUT"/bench_*.txt > "$OUT/benches.txt"; rm -f "$OUT"/bench_*.txt
echo "t=$SECONDS"
