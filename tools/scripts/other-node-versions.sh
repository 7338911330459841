#!/usr/bin/env bash
# Called by .ci/run after npm test (every suite on Node 20, the stack's), or by hand. Relay runs on
# Node 20 and must keep working on 22 and 24 (README "Run it"). It runs the tools' node:test suites on
# each version given; every project's Jest suite on each but the newest, one project at a time (the
# apps' specs share the contract's NATS subjects); and the end-to-end suite on the newest, whose apps
# then run on it (the images' Node). Both kinds on every version took CI past its half hour; given one
# version, it runs both there. It needs the apps built (npm test builds them) and NATS and PostgreSQL
# up (tools/scripts/ensure-services.sh).
#
# Node comes from the npm registry's `node` package (the official binaries, nothing downloaded from
# elsewhere). Jest gets --experimental-vm-modules on these versions only because PGlite's CommonJS
# build loads its parts with import(), which Jest's sandbox refuses there without the flag; the apps
# the e2e suite starts run without it.
#
# usage: bash tools/scripts/other-node-versions.sh [VERSION...]   (default: 22 24)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

versions=("$@")
[ "${#versions[@]}" -gt 0 ] || versions=(22 24)
# not ${versions[-1]}: macOS still ships bash 3.2
newest="${versions[${#versions[@]}-1]}"

# jest_on VERSION CONFIG [JEST ARGUMENTS...]
jest_on() {
  local version=$1 config=$2
  shift 2
  npx --yes --package "node@${version}" -- node --experimental-vm-modules node_modules/jest/bin/jest.js \
    --config "$config" "$@" 2>&1 | sed "s#^#node ${version} $(dirname "$config"): #"
  return "${PIPESTATUS[0]}"
}

# the tools project's node:test suites, as its test-scripts target runs them (`node --test FILE...`)
node_test_on() {
  local version=$1 command
  command=$(node -p "require('./tools/project.json').targets['test-scripts'].options.command")
  # shellcheck disable=SC2086 # the target's command is words without quoting: node --test FILE...
  npx --yes --package "node@${version}" -- $command 2>&1 | sed "s#^#node ${version} tools node:test: #"
  return "${PIPESTATUS[0]}"
}

status=0
for version in "${versions[@]}"; do
  echo "== Node $(npx --yes --package "node@${version}" -- node --version)"
  node_test_on "$version" || status=1
  if [ "$version" != "$newest" ] || [ "${#versions[@]}" -eq 1 ]; then
    for config in libs/*/jest.config.cts apps/{auth,orders,inventory}/jest.config.cts tools/jest.config.cts tools/nx-plugin/jest.config.cts bench/jest.config.cts; do
      jest_on "$version" "$config" || status=1
    done
  fi
done
# in band, as its nx target runs it: its specs share the apps (a key rotation changes the issuer for
# every later spec), and Jest would run them side by side on a machine of more than two cores
jest_on "$newest" apps/orders-e2e/jest.config.cts --runInBand || status=1
exit "$status"
