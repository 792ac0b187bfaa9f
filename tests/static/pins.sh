#!/usr/bin/env bash
# `make check-static-pins`: a pin that the apt sources no longer offer does not
# stop the static build. One pin is made stale (a version that never existed);
# mk/static-deps.sh must say so in one line, build (or reuse) the newest version
# offered instead, and record what it used in VERSIONS and the prefix.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
pkg=${PINS_CHECK_PACKAGE:-jansson}
stale="$pkg=0.0-0hfstale1"
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
STATIC_PIN_OVERRIDE="$stale" "$root/mk/static-deps.sh" --out "$out" >"$out/stdout" 2>"$out/stderr"
rc=$?
if [ $rc -eq 0 ]; then ok "static-deps with $stale exits 0"; else
  bad "static-deps with $stale exits $rc:"; sed 's/^/  /' "$out/stderr"; fi

line=$(grep -F "pinned $stale is no longer offered; building $pkg=" "$out/stderr")
if [ "$(grep -c . <<<"$line")" -eq 1 ]; then ok "it says so in one line: ${line#static-deps: }"; else
  bad "no single line saying that $stale is not offered:"; sed 's/^/  /' "$out/stderr"; fi

used=$(grep "^$pkg=" "$out/VERSIONS" 2>/dev/null)
if [ -n "$used" ] && [ "$used" != "$stale" ] && grep -qF -- "building $used instead" <<<"$line"; then
  ok "VERSIONS records what was built: $used"
else
  bad "VERSIONS has '$used' for $pkg (stale pin $stale)"
fi

offered=$(apt-get source --print-uris -qq "$used" 2>/dev/null | grep -c "^'")
if [ "$offered" -gt 0 ]; then ok "$used is offered by the apt sources"; else bad "$used is not offered"; fi

prefix=$(cat "$out/stdout")
if [ -f "$prefix/.complete" ] && [ "$(cat "$prefix/.versions")" = "$(cat "$out/VERSIONS")" ] &&
   [ "$(cat "$out/deps-prefix")" = "$prefix" ]; then
  ok "the prefix is complete and holds those versions: $prefix"
else
  bad "the prefix '$prefix' is not complete or its .versions differ from VERSIONS"
fi

if [ "$(grep -c . "$out/VERSIONS")" -eq "$("$root/mk/static-deps.sh" --versions | grep -c .)" ]; then
  ok "VERSIONS lists every library"
else
  bad "VERSIONS lists $(grep -c . "$out/VERSIONS") libraries"
fi

echo "check-static-pins: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
