#!/usr/bin/env bash
# Builds the Java binding with javac against Debian's JNA (libjna-java), runs its test, then
# the Mirth channel scripts under Debian's Rhino. Usage: test.sh LIBCOVGATE
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
lib=$1
jna=/usr/share/java/jna.jar
rhino=/usr/share/java/js.jar
for jar in "$jna" "$rhino"; do
  [ -f "$jar" ] || { echo "missing $jar (scripts/setup.sh installs libjna-java and rhino)"; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
javac -Xlint:all -Werror -d "$tmp/classes" -cp "$jna" "$here"/src/org/covgate/*.java
jar cf "$tmp/covgate.jar" -C "$tmp/classes" .
javac -d "$tmp/test" -cp "$jna:$tmp/covgate.jar" "$here/test/GateTest.java"
java -Dcovgate.library="$lib" -cp "$jna:$tmp/covgate.jar:$tmp/test" GateTest "$root"
java -Dcovgate.library="$lib" -cp "$rhino:$jna:$tmp/covgate.jar" \
  org.mozilla.javascript.tools.shell.Main "$here/test/mirth_test.js" "$root"
