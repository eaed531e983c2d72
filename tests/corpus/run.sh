#!/usr/bin/env bash
# Tests against node-x12 (an independent parser): installs the pinned npm peers once, then runs
# node's test runner on one of two suites.
#   run.sh corpus   every X12 file of the public corpus in $CORPUS (corpus.test.mjs). Without
#                   it (CORPUS unset, or no x12/ in it) the test is skipped: exit 77, which
#                   ctest reports as SKIP (SKIP_RETURN_CODE). CI sets CORPUS and checks it.
#   run.sh samples  the 277 of every bundled sample scenario (samples_277.test.mjs); no corpus.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${COVGATE:?COVGATE must name the covgate binary}"
suite=${1:-corpus}
case "$suite" in
  corpus)
    if [ -z "${CORPUS:-}" ] || [ ! -d "$CORPUS/x12" ]; then
      echo "SKIP: public corpus not found (CORPUS=${CORPUS:-unset}); set CORPUS to the corpus" \
        "folder (with x12/ and x12-index.csv) to run this test"
      exit 77
    fi
    tests=corpus.test.mjs
    ;;
  samples) tests=samples_277.test.mjs ;;
  *)
    echo "usage: run.sh corpus|samples" >&2
    exit 2
    ;;
esac
if [ ! -d "$here/node_modules/node-x12" ]; then
  npm ci --prefix "$here" --no-audit --no-fund --loglevel=error >/dev/null
fi
exec node --test "$here/$tests"
