#!/usr/bin/env bash
# Session 6, run 4b (after the launch fix: static + dynamic shared memory over 48 KiB now sets the attribute): run 4's
# steps without the decoder tests, its fourth TinyLlama bench on the register pipeline instead of 4 tiles ahead.
RUN4B=1 exec bash dev/perf/session6_run4.sh
