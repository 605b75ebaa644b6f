#!/usr/bin/env bash
# nook's whole test suite, from a fresh Debian 12 machine:
#   sudo bash scripts/test.sh
# Provisions the host (as root: packages, devices, test users), installs and
# builds nook, lints and type-checks it, runs the unit and integration tests,
# and ends with one line "N passed, N failed, N skipped" over every test of
# both vitest projects. Exit status 0 only when every step passed.
set -uo pipefail
cd "$(dirname "$0")/.."
failed_steps=()

step() {
  local name=$1
  shift
  printf '\n== %s\n' "$name"
  if ! "$@"; then
    failed_steps+=("$name")
    return 1
  fi
}

step "provision the host" bash scripts/provision.sh || [ "$(id -u)" -ne 0 ] || exit 1
# npm ci runs the prepare script: native/ and the bundle are built here.
step "install and build (npm ci)" npm ci --no-audit --no-fund --loglevel=error || exit 1
step "lint (eslint, prettier)" npm run --silent lint
step "type-check (tsc)" npm run --silent typecheck

mkdir -p .cache
report=.cache/vitest-report.json
rm -f "$report"
printf '\n== tests (vitest: unit, integration)\n'
npx vitest run --reporter=default --reporter=json --outputFile.json="$report"
vitest_status=$?
[ "$vitest_status" -eq 0 ] || failed_steps+=("tests")

if [ ${#failed_steps[@]} -gt 0 ]; then
  printf '\nfailed: %s\n' "${failed_steps[*]}"
fi
node scripts/test-summary.mjs "$report" || failed_steps+=("test report")
[ ${#failed_steps[@]} -eq 0 ]
