#!/usr/bin/env bash
# Session 21 call 3: the entropy decoder v5 (v4 of call 2 -- a lane reads its stream at bit bp of three words, no bit
# buffer shifted or refilled on the chain, pairs carried across chunks -- with its loads two chunks ahead by cp.async):
# the decoder, session and batch tests, then the bench's decode rates and `entropy` tok/s: main (/tmp/old), call 1's
# pairs + branch-free refill (ab56342, /tmp/mid) and v5, alternating.
exec bash dev/perf/session21_run2.sh v5
