#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser with Jazzer (issue 11), one target after another.
#   scripts/fuzz.sh [seconds per target, default 60] [target filter, e.g. Jinja]
# `mvn verify` replays only the committed seeds (src/test/resources/**/*FuzzTestInputs); this runs
# the fuzzer itself. New corpus entries go to <module>/.cifuzz-corpus (ignored by git); findings to
# src/test/resources/<package>/<Class>Inputs/<method>/crash-* (commit them once fixed: they become
# regression tests). Prints the executions and findings of each target.
set -uo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
filter="${2:-}"
targets=(
  "tokenizer:dev.rudder.tokenizer.jinja.JinjaFuzzTest#templatesRenderOrFailWithAJinjaException"
  "tokenizer:dev.rudder.tokenizer.TokenizerJsonFuzzTest#tokenizerJsonLoadsOrFailsWithATokenizerException"
  "runtime:dev.rudder.runtime.io.ParserFuzzTest#safetensorsFilesOpenOrFailWithABadInputException"
  "runtime:dev.rudder.runtime.io.ParserFuzzTest#shardIndexesOpenOrFailWithABadInputException"
  "runtime:dev.rudder.runtime.io.ParserFuzzTest#configJsonParsesOrFailsWithABadInputException"
  "runtime:dev.rudder.runtime.io.gguf.GgufFuzzTest#ggufModelsOpenOrFailWithABadInputException"
  "steering:dev.rudder.steering.fuzz.SteeringFilesFuzzTest#ggufFilesOpenOrFailWithABadInputException"
  "steering:dev.rudder.steering.fuzz.SteeringFilesFuzzTest#promptFilesReadOrFailWithABadInputException"
)
for t in "${targets[@]}"; do
  module="${t%%:*}"; test="${t#*:}"
  [[ -n "$filter" && "$test" != *"$filter"* ]] && continue
  log="$(mktemp)"
  JAZZER_FUZZ=1 mvn -B -o test -pl "$module" -am -Dtest="$test" -Dsurefire.failIfNoSpecifiedTests=false \
      -Djazzer.max_duration="${secs}s" >"$log" 2>&1
  rc=$?
  done_line="$(grep -E '^Done [0-9]+ runs' "$log" | tail -1)"
  stats="$(grep -E 'DONE +cov' "$log" | tail -1)"
  finding="$(grep -E 'FuzzTestFindingException|== Java Exception' "$log" | head -2)"
  echo "$test: ${done_line:-no run} | ${stats:-} | exit $rc ${finding:+| FINDING: $finding}"
done
