#!/usr/bin/env bash
# Called by .ci/run at its end: the closing lines for whoever reads only the tail of a long log. It
# names each failed Jest suite and test and each failed node:test test, once, then adds up the test
# counts of the run (Jest's "Tests:" lines, node:test's pass and fail counts), on every Node version.
#
# usage: bash tools/scripts/tally-tests.sh LOG
set -euo pipefail

[ "$#" -eq 1 ] || {
  echo "usage: bash tools/scripts/tally-tests.sh LOG" >&2
  exit 2
}

# the escape character itself: BSD sed (macOS) reads no \x1b
esc=$(printf '\033')
sed "s/${esc}\[[0-9;]*m//g" "$1" | awk '
  # Each failure once. Jest: "FAIL [project] path" per suite (Nx prefixes "project: " and coloured
  # output pads the word), repeated without the project under "Summary of all failing tests", so a
  # suite is known by the prefix of its line and its path; "● describe › test" per failed test, repeated there
  # too ("● Console" opens captured console output, not a failure). node:test (spec reporter):
  # "✖ name (12ms)" per failed test, repeated under "failing tests:"; TAP: "not ok 3 - name".
  function keep(key, line) {
    if (key in seen) return
    seen[key] = 1
    failures[++count] = line
  }
  {
    line = $0
    gsub(/  +/, " ", line)
    sub(/ \([0-9.]+ ?m?s\)$/, "", line)
  }
  line ~ /(^|:) ?FAIL / {
    words = split(line, word, " ")
    keep(substr(line, 1, index(line, "FAIL ") - 1) "FAIL " word[words], line)
  }
  line ~ /● / && line !~ /● Console/ { keep(line, line) }
  line ~ /✖ / && line !~ /✖ failing tests:/ { keep(line, line) }
  /^(.*: )?Tests: / {
    if (match($0, /[0-9]+ passed/)) passed += substr($0, RSTART, RLENGTH) + 0
    if (match($0, /[0-9]+ failed/)) failed += substr($0, RSTART, RLENGTH) + 0
  }
  # node:test: "ℹ pass 12" and "ℹ fail 0" (spec reporter, on a terminal), "# pass 12" (TAP, elsewhere)
  /(ℹ|#) pass [0-9]+$/ { passed += $NF }
  /(ℹ|#) fail [0-9]+$/ { failed += $NF }
  line ~ /(^|: ) *not ok [0-9]+ - / { keep(line, line) }
  END {
    for (i = 1; i <= count; i++) printf "failed: %s\n", failures[i]
    printf "tests: %d passed, %d failed\n", passed, failed
  }'
