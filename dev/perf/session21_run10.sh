#!/usr/bin/env bash
# Session 21 call 10: the entropy decoder with up to three symbols a lookup (the BF16 kernel carries up to two symbols
# into the next chunk; the F16/F32 kernels consume whole entries): the decoder and session tests (F16/F32 among
# them), then main (77a42cb, /tmp/old) and the branch alternating.
set -uo pipefail
source dev/perf/device_env.sh
q
overlay /tmp/old .devrun-v/old
entropy_classes triples
entropy_ab "old=/tmp/old new=$D"
