#!/bin/bash
cd "$(dirname "$0")"
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
if ! nvcc -O3 -std=c++17 -arch=sm_90 -Xcompiler -fopenmp -Xptxas -v prod_check.cu -o prod_check -lgomp > "$OUT/prod_ptxas.txt" 2>&1; then
  echo BUILD FAILED; grep -v "^ptxas info" "$OUT/prod_ptxas.txt" | head -40; exit 1
fi
grep -E "Compiling entry|Used [0-9]+ registers|spill" "$OUT/prod_ptxas.txt" | sed -e 's/ptxas info *: //' | paste - - - | cut -c1-220
OMP_NUM_THREADS=16 ./prod_check 2>&1 | tee "$OUT/prod_check.txt"
