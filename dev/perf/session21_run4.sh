#!/usr/bin/env bash
# Session 21 call 4: why v5 (call 3) decodes one TinyLlama [5632, 2048] tensor no faster than ab56342: Nsight Compute on
# one single-tensor `entropy_decode` launch of the bench's rate measurement (its launches come last: 44 one-tensor
# launches x 12 passes, then 11 four-tensor launches x 12), for v5 and for ab56342 (/tmp/mid): warp states, issue,
# shared-memory wavefronts. First pass counts the launches (durations only), second profiles one.
set -uo pipefail
source dev/perf/device_env.sh
overlay /tmp/mid .devrun-v/mid
prof() {
  local name=$1 bin=$2
  timeout 200 ncu --csv --metrics gpu__time_duration.sum -k regex:entropy_decode$ \
    dotnet $bin/CodecLlm.Cli.dll bench --device cuda --synthetic tinyllama-1.1b --prompt-tokens 4 --new-tokens 2 --codec entropy > "$OUT/count_$name.csv" 2> "$OUT/count_$name.err"
  local n; n=$(grep -c '"entropy_decode' "$OUT/count_$name.csv"); echo "== $name: $n launches t=$SECONDS"
  timeout 250 ncu --csv --page details --section WarpStateStats --section SchedulerStats --section MemoryWorkloadAnalysis_Tables --section LaunchStats --section Occupancy \
    --metrics smsp__inst_executed.sum,smsp__cycles_active.avg,l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_ld.sum,l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_st.sum,l1tex__data_pipe_lsu_wavefronts_mem_shared.sum,gpu__time_duration.sum \
    -k regex:entropy_decode$ --launch-skip $((n - 132 - 200)) --launch-count 1 \
    dotnet $bin/CodecLlm.Cli.dll bench --device cuda --synthetic tinyllama-1.1b --prompt-tokens 4 --new-tokens 2 --codec entropy > "$OUT/prof_$name.csv" 2> "$OUT/prof_$name.err"
  echo "== $name profiled rc=$? t=$SECONDS"; tail -2 "$OUT/prof_$name.err"
  python3 - "$OUT/prof_$name.csv" <<'PY'
import csv,sys
rows=[r for r in csv.reader(open(sys.argv[1])) if len(r)>12]
h=rows[0]
for r in rows[1:]:
    d=dict(zip(h,r))
    print(f"{d.get('Section Name','')[:22]:22s} {d.get('Metric Name','')[:60]:60s} {d.get('Metric Unit',''):>10s} {d.get('Metric Value','')}")
PY
}
prof v5 $D
prof mid /tmp/mid
