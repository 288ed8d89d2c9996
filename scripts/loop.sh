#!/usr/bin/env bash
# Runs the given test files N times in a row, each time through `npm test` (fresh servers),
# and stops at the first failure: how a fault test earns trust before it is called done.
#   scripts/loop.sh 10 test/faults/serverRestarts.test.ts
set -uo pipefail
runs=${1:?usage: scripts/loop.sh RUNS TEST_FILE...}
shift
cd "$(dirname "$0")/.."
log=$(mktemp -d)/loop
for ((i = 1; i <= runs; i++)); do
  started=$SECONDS
  if DFS_SKIP_CHECKS=1 npm test -- "$@" >"$log.$i" 2>&1; then
    echo "run $i/$runs passed in $((SECONDS - started)) s"
    # The tests' own diagnostics (indented "# " lines other than subtest names).
    grep -E '^\s+# ' "$log.$i" | grep -v '# Subtest:' | sed 's/^\s*/  /' || true
  else
    echo "run $i/$runs FAILED in $((SECONDS - started)) s; output: $log.$i"
    exit 1
  fi
done
echo "$runs of $runs passed"
