#!/usr/bin/env bash
# `npm start` (production) and `npm run dev` (--dev): the work happens in scripts/start.ts.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x node_modules/.bin/tsx ]; then
  echo "Dependencies are missing: run 'npm ci' first." >&2
  exit 1
fi
export NEXT_TELEMETRY_DISABLED=1
exec node_modules/.bin/tsx scripts/start.ts "$@"
