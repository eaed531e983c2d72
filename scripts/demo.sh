#!/usr/bin/env bash
# The main job on the bundled samples: validate every sample (999/TA1 to stdout, findings to
# stderr), then print the claims of the accepted ones as JSON Lines.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/build.sh" >/dev/null || exit 2
echo "== covgate check samples/" >&2
"$root/build/covgate" check "$root/samples/x12"
echo "== covgate parse samples/" >&2
"$root/build/covgate" parse "$root/samples/x12"
exit 0
