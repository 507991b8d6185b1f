#!/usr/bin/env bash
# `npm test`: everything the test suite needs, then jest. Its exit code is jest's.
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
NODE_OPTIONS=--experimental-vm-modules exec jest --runInBand "$@"
