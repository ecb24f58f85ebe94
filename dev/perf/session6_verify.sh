#!/usr/bin/env bash
# Session 6, verification run of the final main: the steps of dev/perf/verify.sh (which then wrote the batch benches to
# separate files).
exec bash dev/perf/verify.sh
