#!/usr/bin/env bash
# The corpus test: installs its pinned npm peers (node-x12) once, then runs node's test runner.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${COVGATE:?COVGATE must name the covgate binary}"
export CORPUS=${CORPUS:-$(cd "$here/../../.." && pwd)/shared/corpus}
[ -d "$CORPUS/x12" ] || { echo "corpus not found at $CORPUS (set CORPUS)"; exit 1; }
if [ ! -d "$here/node_modules/node-x12" ]; then
  npm ci --prefix "$here" --no-audit --no-fund --loglevel=error >/dev/null
fi
exec node --test "$here/corpus.test.mjs"
