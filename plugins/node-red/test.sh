#!/usr/bin/env bash
# The Node-RED node's tests: installs the pinned npm packages (package-lock.json: koffi,
# node-red, node-red-node-test-helper) when missing, then runs them with node's test runner.
# Usage: test.sh LIBCOVGATE
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
if [ ! -d node_modules/koffi ] || [ ! -d node_modules/node-red-node-test-helper ]; then
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
fi
COVGATE_LIBRARY=$1 exec node --test --test-concurrency=1 test/
