#!/usr/bin/env bash
# Installs what covgate needs to build and test on Debian 12, and nothing when it is all there.
# Idempotent and quiet: apt-get runs only when a package is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libboost1.81-dev rapidjson-dev libsimdjson-dev libpugixml-dev doctest-dev libbenchmark-dev
  libsqlite3-dev sqlite3 libssl-dev openssl curl
  libjemalloc-dev                             # the executable's malloc (docs/performance.md)
  clang libclang-rt-14-dev clang-format
  time python3-hl7
  openjdk-17-jdk-headless libjna-java rhino   # the Java binding and its Mirth scripts' test
  tcl8.6-dev                                  # the Tcl extension and its tcltest tests
  chromium                                    # the worklist page's browser test
  libnats-dev                                 # nats.c 3.4.1: the cluster module (JetStream, KV)
  nats-server                                 # 2.9.10: the cluster test's three local nodes
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js may come from Debian or from a vendor package that bundles npm: check the commands.
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
