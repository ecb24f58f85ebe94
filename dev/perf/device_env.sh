# Sourced by the dev/perf/session4_*.sh device scripts (run by the device tool in the repository root, carrying
# .device/dotnet-runtime-aspnet.tar.xz and the staging folder .devrun-v: bin/ = the test build, models/ = stories260K):
# the .NET runtime, the staged models, $OUT, $D, b NAME ARGS... = one `codecllm bench --device cuda --prompt-tokens 32
# ARGS` into $OUT/bench_NAME.txt with its table printed, and cuda_tests [SECONDS] = the HF transformers reference, then
# every CUDA test into $OUT/tests.log, its summary and failures printed; prod_check = dev/cuda/prod_check.
OUT=${OUT:-/tmp/out}; D=.devrun-v/bin
mkdir -p /tmp/dotnet "$OUT"
tar -xJf .device/dotnet-runtime-aspnet.tar.xz -C /tmp/dotnet
export DOTNET_ROOT=/tmp/dotnet PATH=/tmp/dotnet:$PATH CODECLLM_SHARED_MODELS=$PWD/.devrun-v/models DOTNET_NOLOGO=1 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"
b() {
    local n=$1; shift
    timeout "${BENCH_TIMEOUT:-200}" dotnet $D/CodecLlm.Cli.dll bench --device cuda --prompt-tokens 32 "$@" > "$OUT/bench_$n.txt" 2>&1
    echo "== $n: $*"; sed -n '/^variant/,$p' "$OUT/bench_$n.txt" | head -16
}
cuda_tests() {
    timeout 100 python3 .devrun-v/hf_reference.py /tmp/hfref --layers 4 --steps 64 2>&1 | grep -v Warning | tail -1
    export CODECLLM_HF_REFERENCE=/tmp/hfref
    timeout "${1:-300}" dotnet $D/CodecLlm.Tests.dll -namespace CodecLlm.Tests.Backends.Cuda > "$OUT/tests.log" 2>&1; echo "== CUDA tests rc=$?"
    grep -E '\[FAIL\]|Total:|HF comparison' "$OUT/tests.log" | head -20
    grep -A8 '\[FAIL\]' "$OUT/tests.log" | grep -v "^\s*at " | head -40
}
prod_check() {  # dev/cuda/prod_check (nvcc build of the production fused_matvec.cu): raw == fixed and an FP64 reference
    echo "== prod_check"
    (cd dev/cuda && timeout 150 nvcc -O3 -std=c++17 -arch=sm_90 -Xcompiler -fopenmp prod_check.cu -o /tmp/prod_check -lgomp > /tmp/pc_build.txt 2>&1 \
        && OMP_NUM_THREADS=16 timeout 120 /tmp/prod_check > /tmp/pc.txt 2>&1; echo "rc=$?"; tail -3 /tmp/pc_build.txt; tail -4 /tmp/pc.txt)
}
# bf NAME MODEL [LABEL]: one `fixed` bench of MODEL (128 new tokens) into $OUT/bench_NAME.txt, its summary lines printed;
# the switches under test go in front as environment variables (CODECLLM_NVRTC_DEFINES=..., CODECLLM_FM_...=...).
bf() {
    timeout "${BENCH_TIMEOUT:-200}" dotnet $D/CodecLlm.Cli.dll bench --device cuda --prompt-tokens 32 --synthetic "$2" --new-tokens 128 --codec fixed > "$OUT/bench_$1.txt" 2>&1
    echo "== $1 [${3:-}] t=$SECONDS"; grep -E "^uncompressed |^fixed \(fused|^matvec|rror" "$OUT/bench_$1.txt"
}
# classes BIN NAME CLASS...: the test classes CodecLlm.Tests.Backends.Cuda.CLASS of the build in BIN into
# $OUT/tests_NAME.log, the summary and the failures printed (environment switches go in front, as for bf).
classes() {
    local bin=$1 name=$2 c args=(); shift 2
    for c in "$@"; do args+=(-class "CodecLlm.Tests.Backends.Cuda.$c"); done
    timeout "${TEST_TIMEOUT:-200}" dotnet "$bin/CodecLlm.Tests.dll" "${args[@]}" > "$OUT/tests_$name.log" 2>&1; echo "== tests $name rc=$? t=$SECONDS"
    grep -E '\[FAIL\]|Total:' "$OUT/tests_$name.log" | head; grep -A3 '\[FAIL\]' "$OUT/tests_$name.log" | grep -v "^\s*at " | head -30
}
# overlay DIR FROM: a copy of the build $D in DIR with FROM's files (another branch's dlls) over it, for A/B runs.
overlay() { cp -r "$D" "$1" && cp "$2"/* "$1"/; }
# bd NAME MODEL DEFINES: bf with CODECLLM_NVRTC_DEFINES=DEFINES (the defines are the label).
bd() { CODECLLM_NVRTC_DEFINES="$3" bf "$1" "$2" "$3"; }
# serve_tests: the ServeCommandTests (among them serve --device cuda --batching) into $OUT/serve.log, summary and failures.
serve_tests() {
    timeout 120 dotnet $D/CodecLlm.Tests.dll -class CodecLlm.Tests.Server.ServeCommandTests > "$OUT/serve.log" 2>&1; echo "== serve tests rc=$?"
    grep -E '\[FAIL\]|Total:' "$OUT/serve.log"; grep -A8 '\[FAIL\]' "$OUT/serve.log" | grep -v "^\s*at " | head -20
}
# bv NAME MODEL VAR=VALUE...: bf with those environment variables set (they are the label).
bv() { local n=$1 m=$2; shift 2; (export "$@"; bf "$n" "$m" "$*"); }
# q: the card's temperature, power, clocks and throttle reasons, appended to $OUT/clocks.txt.
q() { nvidia-smi --query-gpu=temperature.gpu,power.draw,clocks.sm,clocks.mem,clocks_event_reasons.active --format=csv,noheader | tee -a "$OUT/clocks.txt"; }
# role_times NAME REGEX SKIP: the matvec launches matching REGEX of one TinyLlama decode step after SKIP launches, serialised
# by Nsight Compute with caches and clocks left alone, the mean µs per kernel and grid printed (session 10 run 3).
role_times() {
  timeout 150 ncu --csv --cache-control none --clock-control none --metrics gpu__time_duration.sum -k regex:"$2" --launch-skip "$3" --launch-count 180 \
    dotnet $D/CodecLlm.Cli.dll bench --device cuda --synthetic tinyllama-1.1b --prompt-tokens 32 --new-tokens 8 --codec fixed > "$OUT/ncu_$1.csv" 2> "$OUT/ncu_$1.err"
  echo "== $1 rc=$? t=$SECONDS"; tail -2 "$OUT/ncu_$1.err"
  python3 - "$OUT/ncu_$1.csv" <<'PY'
import csv,sys,collections
rows=[r for r in csv.reader(open(sys.argv[1])) if len(r)>10]
h=rows[0]; ki=h.index("Kernel Name"); vi=h.index("Metric Value"); gi=h.index("Grid Size") if "Grid Size" in h else None
seq=[(r[ki].split("(")[0], r[gi] if gi is not None else "", float(r[vi].replace(",",""))) for r in rows[1:]]
agg=collections.defaultdict(lambda:[0,0.0])
for i,(k,g,t) in enumerate(seq):
    role = "head" if i+1 < len(seq) and seq[i+1][0].startswith("argmax") else k
    if k.startswith("argmax"): role = k
    agg[(role,g)][0]+=1; agg[(role,g)][1]+=t
for (k,g),(n,t) in sorted(agg.items(), key=lambda kv:-kv[1][1]): print(f"{k:22s} grid {g:>14s} n={n:4d} avg {t/n/1000:7.2f} us")
PY
}
# old_new "BATCHES": main's kernels (the build in /tmp/old, made by `overlay /tmp/old .devrun-v/old`) and the branch's
# ($D = .devrun-v/bin) alternating -- TinyLlama twice, Llama-2-7B once, then TinyLlama at each batch size in BATCHES
# (64 new tokens) -- the clocks read before the batches (session 15 runs 1 and 2).
old_new() {
  local i B
  for i in 1 2; do
    D=/tmp/old bf tl_old_$i tinyllama-1.1b old
    D=.devrun-v/bin bf tl_new_$i tinyllama-1.1b new
  done
  D=/tmp/old bf l2_old llama-2-7b old
  D=.devrun-v/bin bf l2_new llama-2-7b new
  q
  for B in $1; do
    D=/tmp/old b tl_old_b$B --synthetic tinyllama-1.1b --new-tokens 64 --codec fixed --batch $B | grep -E "^==|^uncompressed|^fixed"
    D=.devrun-v/bin b tl_new_b$B --synthetic tinyllama-1.1b --new-tokens 64 --codec fixed --batch $B | grep -E "^==|^uncompressed|^fixed"
  done
}
# be NAME MODEL [ARGS...]: one `entropy` bench of MODEL (64 new tokens) into $OUT/bench_NAME.txt, its summary lines printed
# (switches under test go in front as environment variables, D=DIR picks another build).
be() {
  local n=$1 m=$2; shift 2
  BENCH_TIMEOUT=200 b "$n" --synthetic "$m" --new-tokens 64 --codec entropy "$@" > /dev/null
  echo "== $n t=$SECONDS"; grep -E "^uncompressed|^entropy|^decode entropy" "$OUT/bench_$n.txt"
}
# entropy_classes NAME: the GPU tests that run the entropy decoders (decoders, sessions, batches, F16/F32 sessions) of the
# build $D into $OUT/tests_NAME.log; the summary printed and kept in $OUT/tests_summary.txt.
entropy_classes() {
  TEST_TIMEOUT=250 classes "$D" "$1" GpuDecoderTests GpuF16F32DecoderTests CudaSessionTests CudaBatchTests CudaF16F32SessionTests
  grep -E "Total:" "$OUT/tests_$1.log" > "$OUT/tests_summary.txt"
}
# entropy_ab "LABEL=DIR ...": the `entropy` bench of each build DIR in turn (files bench_{tl,l2}_LABEL*), TinyLlama twice,
# then Llama-2-7B once, the clocks read after each model.
entropy_ab() {
  local k spec
  for k in 1 2; do for spec in $1; do D=${spec#*=} be "tl_${spec%%=*}_$k" tinyllama-1.1b; done; done
  q
  for spec in $1; do D=${spec#*=} be "l2_${spec%%=*}" llama-2-7b; done
  q
}
# pf NAME MODEL NEW [VAR=VALUE...]: one `fixed` bench of MODEL with a 512-token prompt and NEW new tokens into
# $OUT/bench_NAME.txt, its table printed (the variables are the label; session 22).
pf() {
  local n=$1 m=$2 nt=$3; shift 3
  (export "$@"; timeout 300 dotnet $D/CodecLlm.Cli.dll bench --device cuda --prompt-tokens 512 --synthetic $m --new-tokens $nt --codec fixed > "$OUT/bench_$n.txt" 2>&1)
  echo "== $n [$*] t=$SECONDS"; sed -n '/^variant/,/^$/p' "$OUT/bench_$n.txt"
}
# hf_classes NAME CLASS...: the HF transformers reference, then `classes $D NAME CLASS...` with it, its HF line printed.
hf_classes() {
  timeout 100 python3 .devrun-v/hf_reference.py /tmp/hfref --layers 4 --steps 64 2>&1 | grep -v Warning | tail -1
  export CODECLLM_HF_REFERENCE=/tmp/hfref
  classes $D "$@"
  grep -h "HF comparison" "$OUT/tests_$1.log" | head -2
}
# ncu_prefill COUNT: Nsight Compute's kernel durations of a 512-token TinyLlama bench (the first COUNT launches), the first
# prefill's time by kernel printed (dev/perf/prefill_kernels.py).
ncu_prefill() {
  timeout 300 ncu --csv --cache-control none --clock-control none --metrics gpu__time_duration.sum --launch-count "$1" \
    dotnet $D/CodecLlm.Cli.dll bench --device cuda --synthetic tinyllama-1.1b --prompt-tokens 512 --new-tokens 2 --codec fixed > "$OUT/ncu_prefill.csv" 2> "$OUT/ncu_prefill.err"
  echo "== ncu rc=$? t=$SECONDS"
  python3 dev/perf/prefill_kernels.py "$OUT/ncu_prefill.csv"
}
# ctx NAME PROMPT NEW [VAR=VALUE...]: one `fixed` bench of TinyLlama with a PROMPT-token prompt and NEW new tokens into
# $OUT/bench_NAME.txt, its three variants' lines printed (the variables are the label; session 23: decode at long context).
ctx() {
  local n=$1 pt=$2 nt=$3; shift 3
  (export "$@"; timeout 200 dotnet $D/CodecLlm.Cli.dll bench --device cuda --prompt-tokens $pt --synthetic tinyllama-1.1b --new-tokens $nt --codec fixed > "$OUT/bench_$n.txt" 2>&1)
  echo "== $n [$*] t=$SECONDS"; sed -n '/^variant/,/^$/p' "$OUT/bench_$n.txt" | sed -n 2,4p
}
