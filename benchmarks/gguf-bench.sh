#!/usr/bin/env bash
# Prefill and decode speed of quantized GGUF weights (issue 8) beside BF16 safetensors, for the
# SmolLM2-135M and Llama-3.2-1B shapes (random weights), at 1 and 2 threads, with `rudder bench`
# (which also reports decode as a fraction of the machine's read bandwidth).
#   benchmarks/gguf-bench.sh [shapes] [threads]      e.g. benchmarks/gguf-bench.sh smollm2-135m 1,2
# Models go to $RUDDER_BENCH_DIR (default /tmp/rudder-bench); the first run writes them (the 1B shape
# needs ~2.5 GB BF16 + 1.3 GB Q8_0 + 0.7 GB Q4_0 of disk).
# With LLAMA_QUANTIZE set to a llama-quantize command, also files llama.cpp writes from a BF16 GGUF of the
# same weights: $LLAMA_TYPES (default Q4_K_M Q5_K_M Q4_1 Q5_0 Q5_1 IQ4_NL; at the 135M shape, whose rows of 576
# are not whole K-quant blocks, Q4_K_M and Q5_K_M files are mostly Q5_0 and Q5_1).
#   LLAMA_QUANTIZE="llama-quantize" benchmarks/gguf-bench.sh smollm2-135m 1
set -euo pipefail
cd "$(dirname "$0")/.."
shapes=${1:-"smollm2-135m llama-3.2-1b"}
threads=${2:-1,2}
dir=${RUDDER_BENCH_DIR:-/tmp/rudder-bench}
mkdir -p "$dir"
for shape in $shapes; do
  src="$dir/$shape-bf16"
  [ -f "$src/config.json" ] || ./rudder random-model --shape "$shape" -o "$src" --seed 1234 >&2
  for t in q8_0 q4_0; do
    [ -f "$dir/$shape-$t.gguf" ] || ./rudder quantize -m "$src" --type "$t" -o "$dir/$shape-$t.gguf" >&2
  done
  models=("$src" "$dir/$shape-q8_0.gguf" "$dir/$shape-q4_0.gguf")
  if [ -n "${LLAMA_QUANTIZE:-}" ]; then
    [ -f "$dir/$shape-bf16.gguf" ] || ./rudder quantize -m "$src" --type bf16 -o "$dir/$shape-bf16.gguf" >&2
    for t in ${LLAMA_TYPES:-Q4_K_M Q5_K_M Q4_1 Q5_0 Q5_1 IQ4_NL}; do
      f="$dir/$shape-llama-$t.gguf"
      [ -f "$f" ] || $LLAMA_QUANTIZE "$dir/$shape-bf16.gguf" "$f" "$t" > "$f.log" 2>&1
      models+=("$f")
    done
  fi
  for model in "${models[@]}"; do
    echo "== $model"
    ./rudder bench -m "$model" -t "$threads" -p 128 -n 128 -r 3
  done
done
