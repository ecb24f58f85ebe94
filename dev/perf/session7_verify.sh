#!/usr/bin/env bash
# Session 7, verification run of the final main (fixed layout version 3): dev/perf/verify.sh.
exec bash dev/perf/verify.sh
