#!/usr/bin/env bash
# Session 8: verification run of main with decode attention v4 (dev/perf/verify.sh).
exec bash dev/perf/verify.sh
