#!/usr/bin/env bash
# Prepares benchmarks/gpu-carry/ (git-ignored, at most 64 MiB) on an ordinary machine with JDK 25,
# Maven and ../shared: everything benchmarks/gpu-check.sh needs on a GPU machine that has an NVIDIA
# driver but no JDK and no network:
#   jre.tar.xz  a jlink'd Java 25 runtime (java.base, jdk.incubator.vector, java.logging, jdk.unsupported)
#   lib/        the Rudder jars the check uses (errors, runtime, steering, the check) and Jackson
#   data.tar    the golden test models (config + weights only) and the goldens the check compares with
# Then checks the folder on this machine: the correctness checks on the CPU backend (gpu-check.sh --cpu).
# Usage: benchmarks/gpu-prepare.sh [--no-selftest]      (RUDDER_SHARED=DIR if ../shared is elsewhere)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$repo/benchmarks/gpu-carry"
shared="${RUDDER_SHARED:-$repo/../shared}"
limit=$((64 * 1024 * 1024))

jdk=""
for d in "${JAVA_HOME:-}" /usr/lib/jvm/*25* /usr/lib/jvm/*; do
    if [ -n "$d" ] && [ -x "$d/bin/jlink" ] && "$d/bin/java" -version 2>&1 | grep -q 'version "25'; then jdk="$d"; break; fi
done
[ -n "$jdk" ] || { echo "gpu-prepare: needs a JDK 25 (with jlink); set JAVA_HOME" >&2; exit 1; }
[ -d "$shared/golden" ] || { echo "gpu-prepare: no shared test data at $shared (set RUDDER_SHARED)" >&2; exit 1; }

echo "gpu-prepare: building (mvn package -pl src,benchmarks -am) ..." >&2
(cd "$repo" && mvn -B -q -DskipTests package -pl src,benchmarks -am) >&2

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
rm -rf "$out"
mkdir -p "$out/lib"

echo "gpu-prepare: jlink + xz (a few minutes on a slow machine) ..." >&2
"$jdk/bin/jlink" --add-modules java.base,jdk.incubator.vector,java.logging,jdk.unsupported \
    --strip-debug --no-header-files --no-man-pages --strip-native-debug-symbols=objcopy="$(command -v objcopy || echo objcopy)" \
    --output "$tmp/jre" 2>/dev/null \
  || { rm -rf "$tmp/jre"; "$jdk/bin/jlink" --add-modules java.base,jdk.incubator.vector,java.logging,jdk.unsupported \
    --strip-debug --no-header-files --no-man-pages --output "$tmp/jre"; }
tar -C "$tmp" -cf - jre | xz -6 -T0 > "$out/jre.tar.xz"

lib="$repo/src/target/lib"
cp "$lib"/rudder-errors-*.jar "$lib"/rudder-runtime-*.jar "$lib"/rudder-steering-*.jar "$lib"/jackson-*.jar "$out/lib/"
"$jdk/bin/jar" --create --file "$out/lib/rudder-gpu-check.jar" -C "$repo/benchmarks/target/classes" dev/rudder/bench/gpu

# the data: model configs and weights (no tokenizers: the goldens are token ids), and the goldens
models=(tiny-llama-f32 tiny-llama3-bf16 tiny-qwen2-f16 tiny-mistral-sharded aidreams260K-hf rudder-chat/target)
files=()
for m in "${models[@]}"; do
    for f in "$shared/models/$m"/config.json "$shared/models/$m"/*.safetensors "$shared/models/$m"/*.safetensors.index.json; do
        [ -e "$f" ] && files+=("models/$m/$(basename "$f")")
    done
done
files+=(golden/logits golden/steering/apply golden/steering/extraction/prompts.json
        golden/steering/extraction/rudder-chat-target.mean_diff.safetensors)
tar -C "$shared" -cf "$out/data.tar" "${files[@]}"

size=$(du -sb "$out" | cut -f1)
awk -v s="$size" -v o="$out" 'BEGIN { printf "gpu-prepare: %s is %.1f MiB (limit 64 MiB)\n", o, s / 1048576 }' >&2
du -ab "$out" | sort -n | tail -n 8 >&2
if [ "$size" -gt "$limit" ]; then
    echo "gpu-prepare: too large" >&2
    exit 1
fi
if [ "${1:-}" != "--no-selftest" ]; then
    echo "gpu-prepare: self-test of the folder on the CPU (gpu-check.sh --cpu) ..." >&2
    RUDDER_GPU_WORK="$tmp/work" "$repo/benchmarks/gpu-check.sh" --cpu
fi
echo "gpu-prepare: ready. On the GPU machine, from the repository root: benchmarks/gpu-check.sh" >&2
