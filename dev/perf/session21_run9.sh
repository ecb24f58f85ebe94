#!/usr/bin/env bash
# Session 21 call 9: the entropy decoder's sign/mantissa bytes copied 16 bytes a lane (cp.async.cg, not cached in L1)
# instead of 8 (cp.async.ca): call 8's 100 % carveout leaves L1 ~28 KiB and lowered TinyLlama's four-tensor rate. The
# decoder and session tests, then main (cc01f3e, /tmp/old) and the branch alternating.
set -uo pipefail
source dev/perf/device_env.sh
q
overlay /tmp/old .devrun-v/old
entropy_classes rest16
entropy_ab "old=/tmp/old new=$D"
