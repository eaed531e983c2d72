#!/usr/bin/env bash
# CI: the Debian package. Builds covgate_<version>_amd64.deb with CPack from build/ (configured
# for /usr, so the configuration goes to /etc/covgate), unpacks it into a scratch root
# (dpkg -x: no maintainer scripts run, nothing touches this machine), runs covgate --version
# and --check-config from it, and checks the systemd unit with systemd-analyze verify.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_INSTALL_PREFIX=/usr >/dev/null
cmake --build "$build" --target covgate --parallel "$(nproc)"
rm -f "$build"/covgate_*.deb
(cd "$build" && cpack -G DEB >/dev/null)
deb=$(ls "$build"/covgate_*_amd64.deb)
echo "package: $deb"
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
dpkg -x "$deb" "$root"
dpkg-deb -e "$deb" "$root/DEBIAN"
for want in usr/bin/covgate etc/covgate/covgate.json usr/lib/systemd/system/covgate.service \
    usr/share/man/man1/covgate.1 usr/share/bash-completion/completions/covgate \
    usr/share/covgate/mappings/loinc.json usr/share/doc/covgate/README.md; do
  [ -e "$root/$want" ] || { echo "package: $want is missing" >&2; exit 1; }
done
grep -qx /etc/covgate/covgate.json "$root/DEBIAN/conffiles"
"$root/usr/bin/covgate" --version
"$root/usr/bin/covgate" serve --config "$root/etc/covgate/covgate.json" --check-config
grep -q '"directory": "/var/lib/covgate"' "$root/etc/covgate/covgate.json"
# man (man-db) reads the page; a minimal machine may not have it.
if ! command -v man >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends man-db >/dev/null
fi
man -l "$root/usr/share/man/man1/covgate.1" >/dev/null 2>"$root/man.err" || true
if [ -s "$root/man.err" ]; then cat "$root/man.err" >&2; exit 1; fi
bash -n "$root/usr/share/bash-completion/completions/covgate"
sh -n "$root/DEBIAN/postinst"
sh -n "$root/DEBIAN/prerm"
# systemd-analyze verify needs systemd's unit files, not a running systemd: install it when
# missing (a container without systemd as PID 1 still verifies offline).
if ! command -v systemd-analyze >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends systemd >/dev/null
fi
# The unit as packaged, its binary paths pointed into the scratch root (verify checks that
# each Exec command exists); the man page is checked above (man -l), so --man=no.
mkdir -p "$root/verify"
sed "s|/usr/bin/covgate|$root/usr/bin/covgate|g" "$root/usr/lib/systemd/system/covgate.service" \
  >"$root/verify/covgate.service"
# Any line it prints (an unknown key is only a warning to it) fails the check.
if systemd-analyze verify --man=no "$root/verify/covgate.service" 2>"$root/verify.err" &&
    [ ! -s "$root/verify.err" ]; then
  echo "systemd-analyze verify: covgate.service OK"
else
  cat "$root/verify.err" >&2
  exit 1
fi
# What verify cannot see offline: the hardening it would give (informational).
systemd-analyze security --offline=yes "$root/verify/covgate.service" 2>/dev/null | tail -1 || true
echo "package: OK"
