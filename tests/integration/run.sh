#!/usr/bin/env bash
# Integration tests of covgate serve: installs the pinned npm packages (package-lock.json)
# when missing, then runs serve.test.mjs with node's test runner.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${COVGATE:?COVGATE must name the covgate binary}"
cd "$here"
if [ ! -d node_modules/@medplum/hl7 ]; then
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
fi
exec node --test --test-concurrency=1 serve.test.mjs equivalence.test.mjs ops.test.mjs \
  worklist_api.test.mjs
