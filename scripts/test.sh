#!/usr/bin/env bash
# The whole test suite through ctest: unit, golden, corpus (with node-x12; skipped unless CORPUS
# names the public corpus folder), fuzz seeds and benchmark smoke runs. Installs what it needs
# first.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/build.sh" "$@"
cd "${BUILD_DIR:-$root/build}"
if [ -z "${CORPUS:-}" ] || [ ! -d "$CORPUS" ]; then
  echo "note: CORPUS does not name the public corpus folder; corpus_x12 and corpus_fhir will" \
    "be reported as skipped"
fi
ctest --output-on-failure --timeout 600 --parallel "$(nproc)"
