#!/usr/bin/env bash
# Session 20 call 9 (branch decode-ceiling): the `fixed` decoder's own ceiling -- every tile stored at offset & mask
# (-DFM_DECODE_OUT_MASK), so its output stays in L2 and only its instructions and its tile reads bound it -- against
# its usual rate, TinyLlama and Llama-2-7B shapes (the bench's "decode fixed" line; the logits of the run are not the
# model's with the mask on, and are not what is measured).
set -uo pipefail
source dev/perf/device_env.sh
q
for m in tinyllama-1.1b llama-2-7b; do
  BENCH_TIMEOUT=150 b base_$m --synthetic $m --new-tokens 8 --codec fixed > /dev/null; echo "== base $m t=$SECONDS"; grep -E "^decode fixed|^matvec|^device copy" "$OUT/bench_base_$m.txt"
  CODECLLM_NVRTC_DEFINES=-DFM_DECODE_OUT_MASK=0x3ffffc BENCH_TIMEOUT=150 b mask_$m --synthetic $m --new-tokens 8 --codec fixed > /dev/null
  echo "== masked $m t=$SECONDS"; grep -E "^decode fixed" "$OUT/bench_mask_$m.txt"
done
q
