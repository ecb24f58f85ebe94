#!/usr/bin/env bash
# Session 8 run 3: what the decode attention kernel's time is made of (branch attn-exp, timing only: ATTN_STOP=N
# returns after phase N, so the results are wrong): 1 = right after griddepcontrol.wait (the launch and its
# boundaries alone), 2 = after loading q/k/v, RoPE and the cache append, 3 = after the scores and their maximum,
# 4 = after the softmax sum; main's full kernel first and last.
set -uo pipefail
source dev/perf/device_env.sh
overlay /tmp/bina .devrun-v/binattn
bf tl_main tinyllama-1.1b
for n in 1 2 3 4; do CODECLLM_NVRTC_DEFINES=-DATTN_STOP=$n D=/tmp/bina bf tl_stop$n tinyllama-1.1b "attention stops after phase $n"; done
bf tl_main2 tinyllama-1.1b
echo "t=$SECONDS"
