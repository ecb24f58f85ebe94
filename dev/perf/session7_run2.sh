#!/usr/bin/env bash
# Session 7, run 2 (branch mma, lanes of 4 chunks of 8 columns): run 1's steps with a plain second TinyLlama bench.
SECOND=tl2 exec bash dev/perf/session7_run1.sh
