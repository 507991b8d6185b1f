#!/usr/bin/env bash
# `npm test`: everything the test suite needs, then jest, then the benchmark smoke run; it fails if either does.
# `npm run coverage` (COVERAGE=1): the same, with scripts/coverage.ts in place of jest.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
export NEXT_TELEMETRY_DISABLED=1

section() { printf '\n=== %s ===\n' "$*"; }

section "Chromium (browser tests)"
bash scripts/ensure-chromium.sh
echo "ok: /usr/bin/chromium"

# Its own step: the first build takes ~2 minutes and would otherwise eat a test timeout.
section "MongoDB-wire server"
tsx scripts/services/build-ferretdb.ts

# The e2e tests run server.ts in production mode, which serves this build. It also writes
# next-env.d.ts and the route types that the type check below reads.
section "Production build (next build)"
NODE_ENV=production next build

section "Type check (tsc --noEmit)"
tsc --noEmit

section "Tests (jest)"
# `npm run coverage`: the same suite, measured (see scripts/coverage.ts).
if [ -n "${COVERAGE:-}" ]; then exec node --import tsx scripts/coverage.ts "$@"; fi
# Arguments (a test path, say) are for jest; the benchmark smoke run goes with a whole run only.
if [ "$#" -gt 0 ]; then NODE_OPTIONS=--experimental-vm-modules exec jest --runInBand "$@"; fi
status=0
NODE_OPTIONS=--experimental-vm-modules jest --runInBand || status=$?

section "Benchmark smoke run (BENCH_QUICK=1 npm run bench)"
# Every scenario once, small: what each does must be right; speed is judged by full runs only.
BENCH_QUICK=1 node --expose-gc --import tsx bench/suite.ts || status=$?
exit "$status"
