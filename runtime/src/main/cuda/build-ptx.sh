#!/usr/bin/env bash
# Compiles every kernel source here to PTX for the virtual architecture compute_80 (the driver of
# any Ampere, Ada or Hopper GPU JIT-compiles it at load). The PTX is committed under
# runtime/src/main/resources/dev/rudder/runtime/cuda/, so building and running Rudder need no CUDA
# toolkit; rerun this after editing a .cu file. PtxTest runs it into a temporary folder and
# compares, and assembles the result with ptxas for sm_80 and sm_90. Usage: build-ptx.sh [OUTDIR]
#
# The PTX is declared as ISA version 7.0 (CUDA 11.0, the first with sm_80) instead of the newest
# this nvcc writes, so that drivers older than the toolkit (any CUDA 11/12 driver) can load it:
# the kernels use nothing newer, and ptxas checks every instruction against the declared version.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$here/../resources/dev/rudder/runtime/cuda}"
mkdir -p "$out"
for src in "$here"/*.cu; do
    name="$(basename "$src" .cu)"
    nvcc -ptx -arch=compute_80 -O3 -o "$out/$name.ptx" "$src"
    sed -i 's/^\.version [0-9.]*$/.version 7.0/' "$out/$name.ptx"
done
