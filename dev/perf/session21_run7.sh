#!/usr/bin/env bash
# Session 21 call 7: the entropy decoder v6 (v5 of call 3 with four predicated window requests a chunk instead of a
# divergent loop -- call 6 put 16 % of the samples there -- and 32-bit shared-memory offsets in the step):
# the decoder, session and batch tests, then the bench's decode rates and `entropy` tok/s: main (/tmp/old), call 1's
# pairs + branch-free refill (ab56342, /tmp/mid) and v6, alternating; the test summary first.
set -uo pipefail
source dev/perf/device_env.sh
q
overlay /tmp/old .devrun-v/old
overlay /tmp/mid .devrun-v/mid
entropy_classes v6
CODECLLM_SMEM_CARVEOUT=100 be tl_v6_c100 tinyllama-1.1b
entropy_ab "old=/tmp/old mid=/tmp/mid v6=$D"
