#!/usr/bin/env bash
# A/B of a one-shot `rudder generate` (140-token prompt + 32 tokens, 2 threads, 135M shape), alternating
# variants given as RUDDER_JAVA_OPTS strings; prints wall, cpu, maxrss and the prefill/decode rates of each
# run, then the median prefill tok/s, wall s and max RSS of each variant, and the load average.
# Usage: scripts/coldstart-ab.sh MODEL_DIR ROUNDS "opts A" "opts B" ...
# A variant "@DIR opts" runs DIR/rudder (another checkout, e.g. `git worktree add --detach /tmp/base main`
# built with `mvn -B -q package -DskipTests`) instead of this one's.
# (RUDDER_AOT=0 in the environment runs without the launcher's AOT cache; a variant may then name its own
#  with -XX:AOTCache=FILE.)
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
model="$1"; rounds="$2"; shift 2
ids=$(seq 100 239 | paste -sd,)
launcher() { case "$1" in @*) d="${1%% *}"; echo "${d#@}/rudder";; *) echo "$here/rudder";; esac; }
javaopts() { case "$1" in @*) [ "${1#* }" = "$1" ] && echo "" || echo "${1#* }";; *) echo "$1";; esac; }
for opts in "$@"; do   # builds and makes the AOT cache first
    "$(launcher "$opts")" generate -m "$model" --prompt-ids 1,2 -n 1 >/dev/null 2>&1
done
log=$(mktemp)
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$rounds"); do
    i=0
    for opts in "$@"; do
        i=$((i + 1))
        line=$(RUDDER_JAVA_OPTS="$(javaopts "$opts")" /usr/bin/time -f "wall %e cpu %U+%S maxrss_kb %M" \
            "$(launcher "$opts")" generate -m "$model" --prompt-ids "$ids" -n 32 --temperature 0 --ignore-eos --threads 2 \
            2>&1 >/dev/null | grep -e 'prefill' -e wall | tr '\n' ' ')
        echo "round $r variant $i [$opts]: $line"
        echo "$i $line" >>"$log"
    done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
median() { sort -g | awk '{a[NR]=$1} END {if (NR == 0) print "-"; else if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
i=0
for opts in "$@"; do
    i=$((i + 1))
    pf=$(awk -v v="$i" '$1==v {for (k=1;k<=NF;k++) if ($k=="prefill:") print $(k+1)}' "$log" | median)
    wall=$(awk -v v="$i" '$1==v {for (k=1;k<=NF;k++) if ($k=="wall") print $(k+1)}' "$log" | median)
    cpu=$(awk -v v="$i" '$1==v {for (k=1;k<=NF;k++) if ($k=="cpu") {split($(k+1), c, "+"); print c[1] + c[2]}}' "$log" | median)
    rss=$(awk -v v="$i" '$1==v {for (k=1;k<=NF;k++) if ($k=="maxrss_kb") print $(k+1)/1024}' "$log" | median)
    echo "median variant $i [$opts]: prefill $pf tok/s, wall $wall s, cpu $cpu s, maxrss $rss MB"
done
rm -f "$log"
