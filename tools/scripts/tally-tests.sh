#!/usr/bin/env bash
# Called by .ci/run at its end: the closing lines for whoever reads only the tail of a long log. It
# names each failed Jest suite and test and each failed node:test test, once, then adds up every Jest
# "Tests:" line of the run, on every Node version.
#
# usage: bash tools/scripts/tally-tests.sh LOG
set -euo pipefail

[ "$#" -eq 1 ] || {
  echo "usage: bash tools/scripts/tally-tests.sh LOG" >&2
  exit 2
}

sed 's/\x1b\[[0-9;]*m//g' "$1" | awk '
  # Jest: "FAIL project path" per suite, "● describe › test" per failed test (its summary repeats
  # both, so each is kept once); "● Console" opens captured console output, not a failure.
  # node:test (spec reporter): "✖ name (12ms)" per failed test, repeated under "failing tests:".
  function keep(line) {
    sub(/^[ \t]+/, "", line)
    sub(/[ \t]+\([0-9.]+m?s\)$/, "", line)
    if (!(line in seen)) {
      seen[line] = 1
      failures[++count] = line
    }
  }
  /(^|: )FAIL / { keep($0) }
  /● / && !/● Console/ { keep($0) }
  /✖ / && !/✖ failing tests:/ { keep($0) }
  /^(.*: )?Tests: / {
    if (match($0, /[0-9]+ passed/)) passed += substr($0, RSTART, RLENGTH) + 0
    if (match($0, /[0-9]+ failed/)) failed += substr($0, RSTART, RLENGTH) + 0
  }
  END {
    for (i = 1; i <= count; i++) printf "failed: %s\n", failures[i]
    printf "tests: %d passed, %d failed\n", passed, failed
  }'
