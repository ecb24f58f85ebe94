#!/usr/bin/env bash
# Session 5, run 8: run 7's A/B again (the raw persistent matvec with its segment by value, staged build in .devrun-v/bin,
# against c028870's CodecLlm.dll): Llama-2 twice each, TinyLlama once each, alternating; then both variants' registers.
set -uo pipefail
source dev/perf/device_env.sh
cp -r $D /tmp/base && cp .devrun-v/base/CodecLlm.dll /tmp/base/
bb() { local n=$1 dir=$2 m=$3; timeout 150 dotnet $dir/CodecLlm.Cli.dll bench --device cuda --prompt-tokens 32 --synthetic $m --new-tokens 128 --codec fixed > "$OUT/bench_$n.txt" 2>&1
  echo "== $n"; grep -E "^uncompressed |^fixed \(fused|^matvec raw" "$OUT/bench_$n.txt"; }
bb l2_old /tmp/base llama-2-7b
bb l2_new $D llama-2-7b
bb l2_old2 /tmp/base llama-2-7b
bb l2_new2 $D llama-2-7b
bb tl_old /tmp/base tinyllama-1.1b
bb tl_new $D tinyllama-1.1b
for f in ~/.cache/codecllm/kernels/fused_matvec-*.cubin; do echo "== $f"; cuobjdump -res-usage "$f" 2>&1 | grep -A1 "fm_rawp_a[012]_w[48]\b" | grep -oE "fm_rawp_a[0-9]_w[0-9]+|REG:[0-9]+|STACK:[0-9]+" | paste -sd' '; done
echo "t=$SECONDS"
