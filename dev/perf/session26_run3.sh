#!/usr/bin/env bash
# Session 26 call 3 (after the review of prompt caching and `codecllm chat`): the prompt-cache GPU tests (greedy, f32
# and bf16 KV caches, `fixed` against uncompressed; sampled turns on the device sampler), the serve and run command
# tests (serve --device cuda goes through the chat client's session pool), and `codecllm chat --device cuda` on
# stories260K against the same conversation on the CPU (greedy replies; per-turn cached tokens on stderr).
set -uo pipefail
source dev/perf/device_env.sh
q
export TEST_TIMEOUT=300
classes $D cache CudaPromptCacheTests
grep -E "cached, max rel diff" "$OUT/tests_cache.log" | head -8
serve_tests
timeout 200 dotnet $D/CodecLlm.Tests.dll -class CodecLlm.Tests.Cli.RunCommandTests -class CodecLlm.Tests.Cli.ChatCommandTests > "$OUT/cli.log" 2>&1; echo "== cli tests rc=$?"
grep -E '\[FAIL\]|Total:' "$OUT/cli.log"; grep -A8 '\[FAIL\]' "$OUT/cli.log" | grep -v "^\s*at " | head -20
M=.devrun-v/models/stories260K/stories260K.bin
in=$'Once upon a time\nLily found a ball\nWhere did it go?\n'
for dev in cpu cuda; do
  printf '%s' "$in" | timeout 60 dotnet $D/CodecLlm.Cli.dll chat --model $M --device $dev --max-tokens 40 > "$OUT/chat_$dev.txt" 2> "$OUT/chat_$dev.err"; echo "== chat $dev rc=$?"
  grep -E "^\[" "$OUT/chat_$dev.err"
done
cmp "$OUT/chat_cpu.txt" "$OUT/chat_cuda.txt" && echo "chat replies: cpu == cuda"
q
