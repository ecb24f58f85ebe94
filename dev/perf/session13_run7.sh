#!/usr/bin/env bash
# Session 13, run 7: main (aabafca: the tile's entry range in its fragment) against branch rms-batch (main + the
# RMSNorm pass issuing its loads together; run 5: 29-39 % of the q/k/v kernels' stall samples sat on those loads), both
# kernels' NVRTC 13 registers, TinyLlama alternating, Llama-2, every CUDA test of both builds (rms-batch as a copy of the
# test build in the repository, where the tests find their paths), the serve tests, batches 2/4/8.
set -uo pipefail
source dev/perf/device_env.sh
q() { nvidia-smi --query-gpu=temperature.gpu,power.draw,clocks.sm,clocks.mem,clocks_event_reasons.active --format=csv,noheader | tee -a "$OUT/clocks.txt"; }
q
K=src/CodecLlm/Backends/Cuda/Kernels
python3 dev/perf/nvrtc_dump.py /usr/local/cuda/lib64/libnvrtc.so.13 $K/fused_matvec.cu $OUT/fm_main 2>&1 | head -5
mkdir -p /tmp/rsrc && cp $K/*.cuh /tmp/rsrc/ && cp .devrun-v/rms/fused_matvec.cu /tmp/rsrc/
python3 dev/perf/nvrtc_dump.py /usr/local/cuda/lib64/libnvrtc.so.13 /tmp/rsrc/fused_matvec.cu $OUT/fm_rms 2>&1 | head -5
for c in $OUT/fm_main.cubin $OUT/fm_rms.cubin; do [ -f $c ] && { echo "== $c"; cuobjdump -res-usage $c 2>&1 | grep -A1 -E 'fm_(fixed|rawp)_a[013]_w[48]\b' | grep -oE 'Function [a-z0-9_]+|REG:[0-9]+|STACK:[0-9]+' | paste - - -; }; done | tee $OUT/regs.txt
rm -f $OUT/*.cubin $OUT/*.ptx
cp -r $D .devrun-v/bin_rms && cp .devrun-v/rms/CodecLlm.dll .devrun-v/bin_rms/
for i in 1 2; do
  bv tl_main$i tinyllama-1.1b X=0
  (D=.devrun-v/bin_rms; bv tl_rms$i tinyllama-1.1b X=0)
done
q
BENCH_TIMEOUT=150 bv l2_main llama-2-7b X=0
(D=.devrun-v/bin_rms; BENCH_TIMEOUT=150 bv l2_rms llama-2-7b X=0)
q
cuda_tests 200; mv $OUT/tests.log $OUT/tests_main.log
(D=.devrun-v/bin_rms; cuda_tests 200); mv $OUT/tests.log $OUT/tests_rms.log
serve_tests
for B in 2 4 8; do b tl_b$B --synthetic tinyllama-1.1b --new-tokens 64 --codec fixed --batch $B | grep -E "^==|^uncompressed|^fixed"; done
(D=.devrun-v/bin_rms; b tl_rms_b4 --synthetic tinyllama-1.1b --new-tokens 64 --codec fixed --batch 4 | grep -E "^==|^uncompressed|^fixed")
q
cat "$OUT"/bench_*.txt > "$OUT/benches.txt"; rm -f "$OUT"/bench_*.txt
echo "t=$SECONDS"
