#!/usr/bin/env bash
# Compiles every kernel source here to PTX for the virtual architecture compute_80 (the driver of
# any Ampere, Ada or Hopper GPU JIT-compiles it at load). The PTX is committed under
# runtime/src/main/resources/dev/rudder/runtime/cuda/, so building and running Rudder need no CUDA
# toolkit; rerun this after editing a .cu file. PtxUpToDateTest runs it into a temporary folder
# and compares. Usage: build-ptx.sh [OUTDIR]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$here/../resources/dev/rudder/runtime/cuda}"
mkdir -p "$out"
for src in "$here"/*.cu; do
    name="$(basename "$src" .cu)"
    nvcc -ptx -arch=compute_80 -O3 -o "$out/$name.ptx" "$src"
done
