#!/bin/bash
# run.sh — on the GPU machine: build, resource report, SASS, checks and timing table. Logs to $OUT.
cd "$(dirname "$0")"
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,clocks.mem --format=csv | tee "$OUT/gpu.txt"
nvcc --version | tail -1
t0=$(date +%s)
if ! nvcc -O3 -std=c++17 -arch=sm_90 -lineinfo -Xcompiler -fopenmp -Xptxas -v matvec.cu -o matvec -lgomp > "$OUT/ptxas.txt" 2>&1; then
  echo BUILD FAILED; grep -v "^ptxas info" "$OUT/ptxas.txt" | head -60; exit 1
fi
echo "build $(( $(date +%s) - t0 )) s"
grep -E "Compiling entry|Used [0-9]+ registers|spill" "$OUT/ptxas.txt" | sed -e 's/ptxas info *: //' | paste - - - | \
  sed -E 's/Compiling entry function .(_Z6matvecI)?//; s/for .sm_90.//' | cut -c1-200 > "$OUT/regs.txt"
cat "$OUT/regs.txt"
cuobjdump -sass matvec > "$OUT/sass.txt"
OMP_NUM_THREADS=16 ./matvec 9 "$OUT/timings_full.txt" 2>&1 | tee "$OUT/matvec.txt"
