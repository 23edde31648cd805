#!/usr/bin/env bash
# A/B of a one-shot `rudder generate` (140-token prompt + 32 tokens, 135M shape), alternating
# variants given as RUDDER_JAVA_OPTS strings; prints wall, cpu, maxrss and the prefill/decode rates.
# Usage: scripts/coldstart-ab.sh MODEL_DIR ROUNDS "opts A" "opts B" ...
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
model="$1"; rounds="$2"; shift 2
ids=$(seq 100 239 | paste -sd,)
for r in $(seq 1 "$rounds"); do
    i=0
    for opts in "$@"; do
        i=$((i + 1))
        line=$(RUDDER_JAVA_OPTS="$opts" /usr/bin/time -f "wall %e cpu %U+%S maxrss_kb %M" \
            "$here/rudder" generate -m "$model" --prompt-ids "$ids" -n 32 --temperature 0 --ignore-eos 2>&1 >/dev/null \
            | grep -e 'prefill' -e wall | tr '\n' ' ')
        echo "round $r variant $i [$opts]: $line"
    done
done
