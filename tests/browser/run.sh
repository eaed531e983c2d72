#!/usr/bin/env bash
# The worklist page in a real browser: Debian's chromium (scripts/setup.sh installs it),
# headless, driven by puppeteer-core (pinned in package-lock.json, installed here when
# missing). Screenshots go to $ARTIFACTS (default: a temporary folder); UPDATE_DOCS=1 also
# copies the worklist and claim-detail screenshots to docs/.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${COVGATE:?COVGATE must name the covgate binary}"
export CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
  echo "browser test: $CHROMIUM is missing (bash scripts/setup.sh installs Debian's chromium)" >&2
  exit 1
fi
cd "$here"
if [ ! -d node_modules/puppeteer-core ]; then
  PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >/dev/null
fi
exec node --test --test-concurrency=1 worklist.test.mjs
