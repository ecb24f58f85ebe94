#!/usr/bin/env bash
# Session 6, run 6: 16 warps per 8-row group for TinyLlama's 2048-row matrices (o, down: 256 groups; q/k/v: 320), where
# one block per group leaves the GPU at ~2 blocks (16 warps) per SM (Nsight Compute: 23 % warps active). Shape-only
# (raw and `fixed` alike): CODECLLM_FM_W8_GROUPS=257 (o, down) or 321 (and q/k/v); same card, alternating.
set -uo pipefail
source dev/perf/device_env.sh
bb() { local n=$1 w8=$2; CODECLLM_FM_W8_GROUPS=$w8 timeout 200 dotnet $D/CodecLlm.Cli.dll bench --device cuda --prompt-tokens 32 --synthetic tinyllama-1.1b --new-tokens 128 --codec fixed > "$OUT/bench_$n.txt" 2>&1
  echo "== $n [W8 from $w8 groups] t=$SECONDS"; grep -E "^uncompressed |^fixed \(fused|rror" "$OUT/bench_$n.txt"; }
bb tl "" ; bb tl_257 257; bb tl_321 321; bb tl_b ""; bb tl_257b 257; bb tl_321b 321
echo "t=$SECONDS"
