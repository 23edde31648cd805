#!/usr/bin/env bash
# Prefill and decode speed of quantized GGUF weights (issue 8), against BF16 safetensors, for the
# SmolLM2-135M and Llama-3.2-1B shapes (random weights), at 1 and 2 threads.
#   benchmarks/gguf-bench.sh [shapes] [threads]      e.g. benchmarks/gguf-bench.sh "smollm2-135m" "1 2"
# Models go to $RUDDER_BENCH_DIR (default /tmp/rudder-bench); the first run writes them (the 1B shape
# needs ~2.5 GB BF16 + 1.3 GB Q8_0 + 0.7 GB Q4_0). Each line: 128-token prompt, 128 generated tokens,
# prefill and decode tokens/s as `rudder generate` reports them (best of 3 runs).
set -euo pipefail
cd "$(dirname "$0")/.."
shapes=${1:-"smollm2-135m llama-3.2-1b"}
threads=${2:-"1 2"}
dir=${RUDDER_BENCH_DIR:-/tmp/rudder-bench}
mkdir -p "$dir"
ids=$(seq -s, 1 128)
for shape in $shapes; do
  src="$dir/$shape-bf16"
  [ -f "$src/config.json" ] || ./rudder random-model --shape "$shape" -o "$src" --seed 1234 >&2
  for t in q8_0 q4_0; do
    [ -f "$dir/$shape-$t.gguf" ] || ./rudder quantize -m "$src" --type "$t" -o "$dir/$shape-$t.gguf" >&2
  done
  for model in "$src" "$dir/$shape-q8_0.gguf" "$dir/$shape-q4_0.gguf"; do
    for th in $threads; do
      best=""
      for run in 1 2 3; do
        line=$(./rudder generate -m "$model" --prompt-ids "$ids" -n 128 --ignore-eos --threads "$th" 2>&1 >/dev/null | tail -1)
        best="$best"$'\n'"$line"
      done
      pre=$(echo "$best" | sed -n 's/.*prefill: \([0-9.]*\) tok\/s.*/\1/p' | sort -n | tail -1)
      dec=$(echo "$best" | sed -n 's/.*decode: \([0-9.]*\) tok\/s.*/\1/p' | sort -n | tail -1)
      printf '%-14s %-6s threads %s  prefill %8s tok/s  decode %7s tok/s\n' "$shape" "$(basename "$model" | sed 's/.*-//;s/.gguf//')" "$th" "$pre" "$dec"
    done
  done
done
