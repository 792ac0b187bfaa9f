#!/usr/bin/env bash
# `make check-static`: every static binary is statically linked (file, ldd),
# under the size limit, and hf-list runs in an empty chroot; with --ref-bin,
# the end-to-end checks of e2e.sh too (the static binaries in an empty chroot
# against the fixture Hub over HTTPS, compared with the ordinary build there).
#   check.sh --version VERSION --max-bytes N [--versions-file FILE] [--ref-bin DIR]
#            [--python PY] BINARY...
# --versions-file: build/static/VERSIONS, the Debian source versions that every
# binary's `--version --verbose` must report as what it was built from.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
version=
max=6291456
ref_bin=
versions_file=
python=python3
while [ $# -gt 0 ]; do
  case "$1" in
    --version) version=$2; shift 2 ;;
    --max-bytes) max=$2; shift 2 ;;
    --ref-bin) ref_bin=$2; shift 2 ;;
    --versions-file) versions_file=$2; shift 2 ;;
    --python) python=$2; shift 2 ;;
    *) break ;;
  esac
done

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }

if [ $# -eq 0 ]; then
  bad "no static binaries were built (no tools/hf-*.c?)"
fi

for b in "$@"; do
  n=$(basename "$b")
  if [ ! -x "$b" ]; then bad "$n: not built"; continue; fi
  f=$(file -b "$b")
  case "$f" in
    *"statically linked"*) ok "$n: file: statically linked" ;;
    *) bad "$n: file says: $f" ;;
  esac
  l=$(ldd "$b" 2>&1)
  case "$l" in
    *"not a dynamic executable"*) ok "$n: ldd: not a dynamic executable" ;;
    *) bad "$n: ldd says: $l" ;;
  esac
  if [ -n "$versions_file" ]; then
    want="built from: $(tr '\n' ' ' <"$versions_file" | sed 's/ $//')"
    got=$("$b" --version --verbose 2>&1 | grep '^built from: ')
    if [ -s "$versions_file" ] && [ "$got" = "$want" ]; then
      ok "$n: --version --verbose says what it was built from (VERSIONS)"
    else
      bad "$n: --version --verbose says '$got', VERSIONS says '$want'"
    fi
  fi
  size=$(stat -c %s "$b")
  if [ "$size" -lt "$max" ]; then
    ok "$n: $size bytes (< $max)"
  else
    bad "$n: $size bytes, over the $max limit"
  fi
done

# Smoke test: hf-list --version in an empty chroot (no libc, no openssl.cnf
# but a poisoned one, no environment).
list=
for b in "$@"; do [ "$(basename "$b")" = hf-list ] && list=$b; done
if [ -z "$list" ]; then
  bad "hf-list: not among the static binaries"
elif [ -x "$list" ]; then
  trace=$(mktemp)
  strace_opt=()
  command -v strace >/dev/null && strace_opt=(--strace "$trace")
  out=$("$here/chroot-run.sh" "${strace_opt[@]}" "$list" --version 2>&1)
  rc=$?
  if [ $rc -eq 0 ] && { [ -z "$version" ] || grep -qF -- "$version" <<<"$out"; }; then
    ok "hf-list --version in an empty chroot: $(head -n1 <<<"$out")"
  else
    bad "hf-list --version in an empty chroot: exit $rc, output: $out"
  fi
  if [ ${#strace_opt[@]} -gt 0 ]; then
    if ! grep -q 'execve("/bin/hf-list"' "$trace"; then
      bad "strace did not see hf-list start"
    elif grep -q 'openssl\.cnf' "$trace"; then
      bad "hf-list opened openssl.cnf: $(grep 'openssl\.cnf' "$trace" | head -n1)"
    else
      ok "hf-list did not open openssl.cnf"
    fi
  fi
  rm -f "$trace"
fi

# End to end, against the fixture Hub (e2e.sh), with the static binaries'
# folder (they all live in one).
if [ -n "$ref_bin" ] && [ $# -gt 0 ]; then
  # shellcheck source=tests/static/e2e.sh
  . "$here/e2e.sh"
  e2e_main "$ref_bin" "$(dirname "$1")" "$python"
fi

echo "check-static: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
