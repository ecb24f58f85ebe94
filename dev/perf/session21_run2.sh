#!/usr/bin/env bash
# Session 21 call 2: the entropy decoder v4 (a lane reads its stream at bit bp of three words, no bit buffer shifted or
# refilled on the chain; pairs carried across chunks) -- the entropy decoder, session and batch tests, then the bench's
# decode rates and `entropy` tok/s: main (/tmp/old), call 1's pairs + branch-free refill (ab56342, /tmp/mid) and v4,
# alternating. The label is the first argument (v4; call 3 ran it as v5: session21_run3.sh).
set -uo pipefail
label=${1:-v4}
source dev/perf/device_env.sh
q
overlay /tmp/old .devrun-v/old
overlay /tmp/mid .devrun-v/mid
entropy_classes "$label"
entropy_ab "old=/tmp/old mid=/tmp/mid $label=$D"
