#!/usr/bin/env bash
# The GPU check of issue 9, in one go (a few minutes): every golden logits and steering case on
# the CUDA backend, plan identities, then decode/prefill speed on random checkpoints in the
# SmolLM2-135M, Llama-3.2-1B and Llama-2-7B shapes (written here; ~15 GB of disk for 7B).
# Runs on a machine with an NVIDIA GPU and driver but no JDK and no network, from
# benchmarks/gpu-carry/ made by benchmarks/gpu-prepare.sh. Extra arguments go to GpuCheck
# (--device N, --shapes smollm2-135m,llama-3.2-1b, --no-speed, --cpu). Exit 0 = every check passed.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
carry="${RUDDER_GPU_CARRY:-$here/gpu-carry}"
work="${RUDDER_GPU_WORK:-${TMPDIR:-/tmp}/rudder-gpu-check}"
[ -f "$carry/jre.tar.xz" ] || { echo "gpu-check: $carry/jre.tar.xz missing: run benchmarks/gpu-prepare.sh first" >&2; exit 1; }
mkdir -p "$work"

untar_xz() {   # xz-utils where present, else Python's lzma
    if command -v xz >/dev/null 2>&1; then
        xz -dc "$1" | tar -C "$2" -xf -
    else
        python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$1" "$2"
    fi
}
if [ ! -x "$work/jre/bin/java" ] || [ "$carry/jre.tar.xz" -nt "$work/jre/bin/java" ]; then
    rm -rf "$work/jre"
    untar_xz "$carry/jre.tar.xz" "$work"
fi
if [ ! -d "$work/data/golden" ] || [ "$carry/data.tar" -nt "$work/data/golden" ]; then
    rm -rf "$work/data"
    mkdir -p "$work/data"
    tar -C "$work/data" -xf "$carry/data.tar"
    touch "$work/data/golden"
fi
command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
exec "$work/jre/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx8g \
    -cp "$carry/lib/*" dev.rudder.bench.gpu.GpuCheck --data "$work/data" --work "$work" "$@"
